/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internal module, as the patch uses it */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { FrameConnection, frameSocketFactory, readFrames } from './frame-reader';
import { prng } from './spec-prng';

const kafkajsProcessData = (
  require('kafkajs/src/network/connection') as { prototype: { processData: (data: Buffer) => unknown } }
).prototype.processData;

/** A fulfilled request: size, correlation id and a digest of the payload (jest compares large Buffers element by element). */
type Fulfilled = { size: number; correlationId: number; payload: string };

/** Responses as the broker frames them: int32 size, int32 correlation id, payload. */
function responses(rnd: () => number, count: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const sizes = [0, 1, 17, 300, 4096, 70_000, 300_000];
    const payload = Buffer.from(
      Array.from({ length: sizes[Math.floor(rnd() * sizes.length)] }, () => Math.floor(rnd() * 256)),
    );
    const frame = Buffer.alloc(8 + payload.length);
    frame.writeInt32BE(4 + payload.length, 0);
    frame.writeInt32BE(1000 + i, 4);
    payload.copy(frame, 8);
    frames.push(frame);
  }
  return Buffer.concat(frames);
}

/** Cuts at random points: single bytes, inside size prefixes, across responses, whole reads. */
function cuts(rnd: () => number, length: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < length;) {
    const r = rnd();
    const n =
      r < 0.2
        ? 1
        : r < 0.4
          ? 1 + Math.floor(rnd() * 7)
          : r < 0.8
            ? 1 + Math.floor(rnd() * 65536)
            : 1 + Math.floor(rnd() * 400_000);
    at = Math.min(length, at + n);
    out.push(at);
  }
  return out;
}

function connection(): FrameConnection & {
  got: Fulfilled[];
  chunks: Buffer[];
  bytesBuffered: number;
  bytesNeeded: number;
} {
  const got: Fulfilled[] = [];
  return {
    got,
    chunks: [],
    bytesBuffered: 0,
    bytesNeeded: 4,
    requestQueue: {
      fulfillRequest: (r) =>
        got.push({
          size: r.size,
          correlationId: r.correlationId,
          payload: `${r.payload.length}:${createHash('sha1').update(r.payload).digest('hex')}`,
        }),
    },
  };
}

describe(readFrames.name, () => {
  it("compares with kafkajs' own processData, not with the patch", () => {
    expect(kafkajsProcessData).not.toBe(readFrames);
    expect(String(kafkajsProcessData)).toContain('this.chunks.push');
  });

  it('hands kafkajs the responses its own code would, from reads that are overwritten after each call', () => {
    const rnd = prng(5);
    for (let round = 0; round < 20; round++) {
      const stream = responses(rnd, 1 + Math.floor(rnd() * 12));
      const want = connection();
      const got = connection();
      // Every other round, responses over 64 KiB are gathered as they come instead of allocated ahead.
      if (round % 2 === 1) got.preallocateMaxBytes = 65536;
      const readBuffer = Buffer.alloc(400_000);
      let from = 0;
      for (const to of cuts(rnd, stream.length)) {
        kafkajsProcessData.call(want, Buffer.from(stream.subarray(from, to)));
        // The socket's one read buffer: reused by the next read, garbage once this call returns.
        stream.copy(readBuffer, 0, from, to);
        readFrames.call(got, readBuffer.subarray(0, to - from));
        readBuffer.fill(0xa5, 0, to - from); // what this read wrote
        from = to;
      }
      expect(got.got.length).toBe(want.got.length);
      expect(got.got).toEqual(want.got);
    }
  });

  it('does not allocate what four bytes that are not a Kafka response announce', () => {
    const got = connection();
    readFrames.call(got, Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a])); // a TLS alert: "352 MB"
    expect(got.frame ?? null).toBeNull();
    expect(got.frameLength).toBe(0x15030300);
    expect(Buffer.concat(got.frameParts!)).toEqual(Buffer.from([0x02, 0x02, 0x0a]));
    expect(got.got).toEqual([]);
  });

  it('reads responses from a plain socket made by frameSocketFactory', async () => {
    const stream = responses(prng(9), 20);
    const server = net.createServer((s) => {
      // In pieces, with pauses: several reads per response, and responses sharing a read.
      let at = 0;
      const step = () => {
        if (at >= stream.length) return void s.end();
        const n = 1 + ((at * 7919) % 90_000);
        s.write(stream.subarray(at, at + n), () => setImmediate(step));
        at += n;
      };
      step();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const want = connection();
    kafkajsProcessData.call(want, stream);
    const got = connection();
    const fallback = jest.fn();
    const socket = frameSocketFactory(fallback)({
      host: '127.0.0.1',
      port,
      ssl: null,
      onConnect: () => undefined,
    });
    socket.on('data', (data: Buffer) => readFrames.call(got, data));
    await new Promise((r) => socket.on('end', r));
    socket.destroy();
    await new Promise((r) => server.close(r));
    expect(fallback).not.toHaveBeenCalled();
    expect(got.got.length).toBe(20);
    expect(got.got).toEqual(want.got);
  });

  it("leaves TLS sockets to kafkajs' factory", () => {
    const tlsSocket = {} as net.Socket;
    const fallback = jest.fn(() => tlsSocket);
    expect(
      frameSocketFactory(fallback)({
        host: 'h',
        port: 1,
        ssl: { rejectUnauthorized: true },
        onConnect: () => undefined,
      }),
    ).toBe(tlsSocket);
  });
});
