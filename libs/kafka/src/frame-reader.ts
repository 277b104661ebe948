import * as net from 'node:net';

/**
 * Reading Kafka responses without a Buffer per socket read.
 *
 * kafkajs 2.2.4 (network/connection.js `processData`) keeps every chunk the socket emits and
 * concatenates them once a response is complete. Each chunk is a Buffer Node allocated for that
 * read (up to 64 KiB); a consumer fetching megabytes per partition allocates as much in chunks as
 * it receives, beside the responses themselves: ~110 MB per 300k events in bench:aggregate, all
 * outside V8's heap, which V8 answers with a full garbage collection about every 64 MB.
 *
 * Here the socket reads into one buffer of its own (`frameSocketFactory`: net's `onread`), and each
 * read is copied at once into the response it belongs to, allocated at its full size as soon as its
 * size prefix is known (`readFrames`, which replaces `processData`). kafkajs gets the same
 * responses, in the same order, as from its own code (frame-reader.spec.ts). TLS sockets keep
 * kafkajs' own factory (net's `onread` is for plain sockets); their chunks go through the same
 * `readFrames`, which copies them too.
 */

/** What `readFrames` needs of kafkajs' Connection. */
export interface FrameConnection {
  authHandlers?: { onSuccess(data: Buffer): unknown } | null;
  authExpectResponse?: boolean;
  requestQueue: { fulfillRequest(r: { size: number; correlationId: number; payload: Buffer }): void };
  /** Our state: the size prefix read so far, the response being filled. */
  frameSize?: Buffer;
  frameSizeFilled?: number;
  frame?: Buffer | null;
  frameFilled?: number;
  /** A response larger than PREALLOCATE_MAX_BYTES: its bytes as they come, joined once complete. */
  frameParts?: Buffer[] | null;
  frameLength?: number;
  /** PREALLOCATE_MAX_BYTES unless set (specs set it low). */
  preallocateMaxBytes?: number;
  /** Bytes after an authentication response, read with the next chunk (as kafkajs does). */
  frameRest?: Buffer | null;
}

/**
 * kafkajs' `processData`, copying `data` into whole responses as it goes: `data` may be overwritten
 * once this returns (the socket's read buffer).
 */
export function readFrames(this: FrameConnection, data: Buffer): unknown {
  if (this.authHandlers && !this.authExpectResponse) return this.authHandlers.onSuccess(Buffer.from(data));
  if (this.frameRest) {
    data = Buffer.concat([this.frameRest, data]);
    this.frameRest = null;
  }
  const sizeBuf = (this.frameSize ??= Buffer.alloc(4));
  let pos = 0;
  while (pos < data.length) {
    if (this.frame == null && this.frameParts == null) {
      const filled = this.frameSizeFilled ?? 0;
      const take = Math.min(4 - filled, data.length - pos);
      data.copy(sizeBuf, filled, pos, pos + take);
      pos += take;
      if (filled + take < 4) {
        this.frameSizeFilled = filled + take;
        return undefined;
      }
      this.frameSizeFilled = 0;
      const size = Math.max(0, sizeBuf.readInt32BE(0));
      // Allocated on the size prefix alone only up to a bound: four bytes that are not a Kafka
      // response (a TLS listener's alert read as a size: ~350 MB) must not cost their size.
      if (size <= (this.preallocateMaxBytes ?? PREALLOCATE_MAX_BYTES)) this.frame = Buffer.allocUnsafe(size);
      else this.frameParts = [];
      this.frameLength = size;
      this.frameFilled = 0;
    }
    const length = this.frameLength ?? 0;
    const filled = this.frameFilled ?? 0;
    const take = Math.min(length - filled, data.length - pos);
    if (this.frame) data.copy(this.frame, filled, pos, pos + take);
    else if (take > 0) this.frameParts!.push(Buffer.from(data.subarray(pos, pos + take)));
    pos += take;
    this.frameFilled = filled + take;
    if (this.frameFilled < length) return undefined;
    const frame = this.frame ?? Buffer.concat(this.frameParts!, length);
    this.frameParts = null;
    this.frame = null;
    if (this.authHandlers) {
      // kafkajs hands the authenticator the whole response, size prefix included, and reads on
      // only with the next chunk.
      const raw = Buffer.allocUnsafe(4 + frame.length);
      sizeBuf.copy(raw, 0);
      frame.copy(raw, 4);
      if (pos < data.length) this.frameRest = Buffer.from(data.subarray(pos));
      return this.authHandlers.onSuccess(raw);
    }
    this.requestQueue.fulfillRequest({
      size: frame.length,
      correlationId: frame.readInt32BE(0),
      payload: frame.subarray(4),
    });
  }
  return undefined;
}

/** Responses up to this size are allocated whole as soon as their size is read (a fetch is at most 64 MiB). */
export const PREALLOCATE_MAX_BYTES = 128 * 1024 * 1024;

/** The bytes each plain socket reads into, before `readFrames` copies them into responses. */
const READ_BUFFER_BYTES = 64 * 1024;
const KEEP_ALIVE_DELAY_MS = 60_000; // kafkajs' own

type SocketFactoryArgs = { host: string; port: number; ssl: unknown; onConnect: () => void };

/**
 * kafkajs' socket factory (network/socketFactory.js), with plain sockets reading into a buffer of
 * their own: each read is emitted as 'data' — a view valid only until the next read — for
 * `readFrames` to copy at once. `fallback` (kafkajs' factory) makes the TLS sockets.
 */
export function frameSocketFactory(fallback: (args: SocketFactoryArgs) => net.Socket) {
  return (args: SocketFactoryArgs): net.Socket => {
    if (args.ssl) return fallback(args);
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket: net.Socket = net.connect(
      {
        host: args.host,
        port: args.port,
        onread: {
          buffer,
          callback: (nread: number, buf: Uint8Array) => {
            socket.emit('data', Buffer.from(buf.buffer, buf.byteOffset, nread));
            return true;
          },
        },
      },
      args.onConnect,
    );
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    return socket;
  };
}
