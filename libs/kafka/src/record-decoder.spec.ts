/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internal modules, as the patch uses them */
import { DecodedRecord, fastRecordDecoder, KafkajsDecoder, RecordBatchContext } from './record-decoder';

type Original = (decoder: KafkajsDecoder, ctx?: RecordBatchContext) => DecodedRecord;
const original = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as Original;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => KafkajsDecoder;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}) => { buffer: Buffer };
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown };

/** mulberry32 (not the datasets library's Rng: importing it loads @app/kafka, whose patch would then be the "original" here). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The record's body (after its length varint), as the batch decoder hands it over. */
function body(args: Parameters<typeof Record>[0]): Buffer {
  const whole = Record(args).buffer;
  const d = new Decoder(whole);
  d.readVarInt();
  return whole.subarray(d.offset);
}

const CONTEXTS: RecordBatchContext[] = [
  {
    firstOffset: '0',
    firstTimestamp: '1790812920000',
    magicByte: 2,
    timestampType: 0,
    maxTimestamp: '1790812990000',
  },
  {
    firstOffset: '123456789',
    firstTimestamp: '-1',
    magicByte: 2,
    isControlBatch: true,
    timestampType: 0,
    maxTimestamp: '-1',
  },
  {
    firstOffset: '42',
    firstTimestamp: '1790812920000',
    magicByte: 2,
    timestampType: 1,
    maxTimestamp: '1790812999999',
  },
  {
    firstOffset: '9007199254740000',
    firstTimestamp: '9007199254740000',
    magicByte: 2,
    timestampType: 0,
    maxTimestamp: '0',
  },
  {
    firstOffset: '9223372036854775000',
    firstTimestamp: '1790812920000',
    magicByte: 2,
    timestampType: 0,
    maxTimestamp: '0',
  },
  { firstOffset: '007', firstTimestamp: '+5', magicByte: 2, timestampType: 0, maxTimestamp: '0' },
];

describe(fastRecordDecoder.name, () => {
  const fast = fastRecordDecoder(original);

  it("compares with kafkajs' own decoder, not with the patch", () => {
    expect(String(original)).toContain('Long.fromValue(firstOffset)');
  });

  it("decodes every record as kafkajs' decoder does", () => {
    const rnd = prng(3);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    let fastPath = 0;
    for (let i = 0; i < 1200; i++) {
      const ctx = CONTEXTS[i % CONTEXTS.length];
      const deltas = [0, 1, -1, 1000, -60_000, 2 ** 31, 2 ** 47 - 1, -(2 ** 47), 2 ** 50, -(2 ** 53) + 1];
      const timestampDelta =
        rnd() < 0.8
          ? deltas[Math.floor(rnd() * deltas.length)]
          : Long.fromString(String(BigInt(2) ** 60n + BigInt(i)));
      const headers =
        rnd() < 0.7 ? {} : rnd() < 0.5 ? { a: bytes(3) } : { a: [bytes(2), bytes(1)], b: Buffer.alloc(0) };
      const record = body({
        offsetDelta: Math.floor(rnd() * 5000),
        timestampDelta,
        key: rnd() < 0.1 ? null : bytes(Math.floor(rnd() * 20)),
        value: rnd() < 0.05 ? null : bytes(Math.floor(rnd() * 400)),
        headers,
      });
      // Bytes after the record: each decoder must stop at its end.
      const buf = Buffer.concat([record, Buffer.from([0x7f, 0x01])]);
      const a = new Decoder(buf);
      const b = new Decoder(buf);
      const want = original(a, ctx);
      const got = fast(b, ctx);
      expect(got).toEqual(want);
      expect(b.offset).toBe(a.offset);
      if (Object.keys(want.headers).length === 0 && typeof timestampDelta === 'number') fastPath++;
    }
    expect(fastPath).toBeGreaterThan(500);
  });

  it('throws where kafkajs throws on a truncated record', () => {
    const record = body({
      offsetDelta: 3,
      timestampDelta: 5,
      key: Buffer.from('k'),
      value: Buffer.from('value'),
    });
    for (let n = 0; n < record.length; n++) {
      const cut = record.subarray(0, n);
      let want: unknown;
      let got: unknown;
      try {
        want = original(new Decoder(cut), CONTEXTS[0]);
      } catch (err) {
        want = (err as Error).constructor.name;
      }
      try {
        got = fast(new Decoder(cut), CONTEXTS[0]);
      } catch (err) {
        got = (err as Error).constructor.name;
      }
      expect([n, got]).toEqual([n, want]);
    }
  });
});
