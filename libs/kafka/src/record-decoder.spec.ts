/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internal modules, as the patch uses them */
import { DecodedRecord, DecodedRecordBatch, FetchedRecord, fastRecordBatchDecoder, fastRecordDecoder, KafkajsBatchDecoder, KafkajsDecoder, RecordBatchContext } from './record-decoder';
import { prng } from './spec-prng';

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

describe(fastRecordBatchDecoder.name, () => {
  const originalBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: KafkajsBatchDecoder) => Promise<DecodedRecordBatch>;
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
  const { Types: Compression } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };
  const BatchDecoder = Decoder as unknown as new (buf: Buffer) => KafkajsBatchDecoder;
  const fastBatch = fastRecordBatchDecoder(originalBatch, original, Decoder);

  /** What kafkajs' consumer sees of a record: its fields, read through the getters where there are. */
  const view = (r: DecodedRecord | FetchedRecord) => ({
    magicByte: r.magicByte,
    attributes: r.attributes,
    timestamp: r.timestamp,
    offset: r.offset,
    key: r.key,
    value: r.value,
    headers: r.headers,
    isControlRecord: r.isControlRecord,
    batchContext: r.batchContext,
  });

  /** decodeMessages' loop over a fetch response's record batches (a partial one at the end is dropped). */
  async function decodeAll(decode: (d: KafkajsBatchDecoder) => Promise<DecodedRecordBatch>, buf: Buffer) {
    const d = new BatchDecoder(buf);
    const batches: unknown[] = [];
    while (d.offset + 49 <= buf.length) {
      try {
        const { records, ...fields } = await decode(d);
        batches.push({ fields, records: records.map(view) });
      } catch (err) {
        if ((err as Error).name === 'KafkaJSPartialMessageError') break;
        throw err;
      }
    }
    return { batches, offset: d.offset };
  }

  it("decodes fetched record batches as kafkajs' decoder does, most records as FetchedRecords", async () => {
    const rnd = prng(11);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
    let fetched = 0;
    let records = 0;
    for (let round = 0; round < 25; round++) {
      const batches: Buffer[] = [];
      for (let b = 0; b < 4; b++) {
        const n = Math.floor(rnd() * 40);
        const bigDelta = rnd() < 0.1; // beyond the fast path's varints: the whole batch is kafkajs'
        const recs = Array.from({ length: n }, (_, i) =>
          Record({
            offsetDelta: i,
            timestampDelta: bigDelta && i === n - 1 ? 2 ** 40 : Math.floor(rnd() * 100_000) - 50_000,
            key: rnd() < 0.1 ? null : bytes(Math.floor(rnd() * 30)),
            value: rnd() < 0.05 ? null : rnd() < 0.05 ? Buffer.alloc(0) : bytes(Math.floor(rnd() * 300)),
            headers: rnd() < 0.1 ? { h: bytes(4), g: [bytes(1), bytes(2)] } : {},
          }),
        );
        const firstOffset = [0, 42, 123_456_789_012, 9_007_199_254_740_000][Math.floor(rnd() * 4)];
        const batch = Buffer.from(
          (
            await RecordBatch({
              compression: rnd() < 0.15 ? Compression.GZIP : Compression.None,
              firstOffset: Long.fromString(String(firstOffset)),
              firstTimestamp: 1_790_812_920_000 + Math.floor(rnd() * 1e6),
              maxTimestamp: 1_790_812_999_999,
              lastOffsetDelta: Math.max(0, n - 1),
              transactional: rnd() < 0.2,
              records: recs,
            })
          ).buffer,
        );
        // Timestamp type (log-append time) and control batches: flags kafkajs' encoder does not set.
        const flags = (rnd() < 0.2 ? 0x08 : 0) | (rnd() < 0.1 ? 0x20 : 0);
        batch.writeInt16BE(batch.readInt16BE(21) | flags, 21);
        batches.push(batch);
        records += n;
      }
      const whole = Buffer.concat(batches);
      // Some fetches end in the middle of a batch (how maxBytes cuts them).
      const buf = rnd() < 0.3 ? whole.subarray(0, whole.length - 1 - Math.floor(rnd() * batches[3].length)) : whole;
      const want = await decodeAll(originalBatch, buf);
      const got = await decodeAll(fastBatch, buf);
      expect(got).toEqual(want);
      // The numbers and positions the consumers read instead (IncomingMessage.timestamp, raw).
      const again = new BatchDecoder(buf);
      while (again.offset + 49 <= buf.length) {
        let decoded: DecodedRecordBatch;
        try {
          decoded = await fastBatch(again);
        } catch {
          break;
        }
        for (const r of decoded.records) {
          if (!(r instanceof FetchedRecord)) continue;
          fetched++;
          const raw = {
            offset: String(r.offsetNumber),
            timestamp: r.timestampNumber,
            key: r.keyStart < 0 ? null : r.bytes.subarray(r.keyStart, r.keyEnd),
            value: r.valueStart < 0 ? null : r.bytes.subarray(r.valueStart, r.valueEnd),
          };
          expect(raw).toEqual({ offset: r.offset, timestamp: Number(r.timestamp), key: r.key, value: r.value });
        }
      }
    }
    expect(records).toBeGreaterThan(1500);
    expect(fetched).toBeGreaterThan(records / 3);
  }, 30_000);

  it('gives the bytes and numbers of a FetchedRecord where its getters read them', async () => {
    const batch = (
      await RecordBatch({
        firstOffset: Long.fromString('1000'),
        firstTimestamp: 1_790_812_920_000,
        maxTimestamp: 1_790_812_920_009,
        lastOffsetDelta: 1,
        records: [Record({ offsetDelta: 0, timestampDelta: 9, key: Buffer.from('user-1'), value: Buffer.from('v1') }), Record({ offsetDelta: 1, timestampDelta: 0, key: null, value: null })],
      })
    ).buffer;
    const { records } = await fastBatch(new BatchDecoder(batch));
    const [a, b] = records as FetchedRecord[];
    expect([a, b].every((r) => r instanceof FetchedRecord)).toBe(true);
    expect([a.offsetNumber, a.timestampNumber, a.bytes.toString('latin1', a.keyStart, a.keyEnd), a.bytes.toString('latin1', a.valueStart, a.valueEnd)]).toEqual([
      1000,
      1_790_812_920_009,
      'user-1',
      'v1',
    ]);
    expect([b.offset, b.keyStart, b.valueStart, b.key, b.value]).toEqual(['1001', -1, -1, null, null]);
  });
});
