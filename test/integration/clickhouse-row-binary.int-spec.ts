import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferedWriter, ClickHouseStore, RowBinaryEncoder } from '@app/clickhouse';
import { exampleClickEvent } from '@app/contracts';
import { testNamespace } from '@app/testing';
import { encodeEventRow, EVENT_COLUMNS, markLate } from '../../apps/feature-aggregator/src/event-row';

/**
 * RowBinary inserts on the real server (18.16 here, current versions in docker-compose): every
 * column type the aggregator writes, with the values that differ between encodings (NULLs,
 * non-ASCII, long strings, empty arrays, large offsets), read back as JSON.
 */
describe('RowBinary inserts', () => {
  const ns = testNamespace('rowbin');
  const store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });

  beforeAll(async () => {
    await ClickHouseStore.ensureDatabase({ url: ns.clickhouseUrl, database: ns.database });
    await store.command(`CREATE TABLE t (
      s String, lc LowCardinality(String), dt DateTime, u16 UInt16, f Nullable(Float64), u32 UInt32,
      r Nullable(UInt8), a Array(String), u8 UInt8, u64 UInt64
    ) ENGINE = MergeTree ORDER BY s`);
  });

  afterAll(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${ns.database}`).catch(() => undefined);
    await store.close();
  });

  it('stores every value as written, through the buffered writer', async () => {
    const rows = [
      { s: 'plain', lc: 'view', dt: 1_700_000_000, u16: 999, f: null, u32: 1, r: null, a: [], u8: 0, u64: '0' },
      { s: 'Zürich 北京 🎁', lc: 'purchase', dt: 1_800_000_000, u16: 0, f: 1234.5, u32: 4_294_967_295, r: 5, a: ['k', 'é'], u8: 255, u64: '18446744073709551615' },
      { s: 'x'.repeat(300), lc: '', dt: 0, u16: 65535, f: -0.25, u32: 0, r: 0, a: ['', 'tab\there', 'line\nbreak'], u8: 1, u64: '9007199254740993' },
    ];
    const writer = new BufferedWriter<never>(store, { table: 't', rowBinaryColumns: ['s', 'lc', 'dt', 'u16', 'f', 'u32', 'r', 'a', 'u8', 'u64'], maxRows: 100, maxDelayMs: 20 });
    const enc = new RowBinaryEncoder(8);
    for (const r of rows) {
      enc.string(r.s);
      enc.string(r.lc);
      enc.dateTime(r.dt);
      enc.uint16(r.u16);
      enc.nullableFloat64(r.f);
      enc.uint32(r.u32);
      enc.nullableUInt8(r.r);
      enc.stringArray(r.a);
      enc.uint8(r.u8);
      enc.uint64(r.u64);
      enc.endRow();
    }
    await writer.writeRowBinary(enc.take(), 3);
    const got = await store.query<Record<string, unknown>>(
      'SELECT s, lc, toUInt32(dt) AS dt, u16, f, u32, r, a, u8, toString(u64) AS u64 FROM t ORDER BY u16',
    );
    const want = [...rows].sort((x, y) => x.u16 - y.u16).map((r) => ({ ...r }));
    expect(got.map((g) => ({ ...g, u16: Number(g.u16), u32: Number(g.u32), u8: Number(g.u8), dt: Number(g.dt), r: g.r === null ? null : Number(g.r) }))).toEqual(want);
  });

  it('writes the aggregator events row the way the events table reads it', async () => {
    const ddl = readFileSync(join(__dirname, '..', '..', 'migrations', 'clickhouse', '0001_events.up.sql'), 'utf8').replace(/--.*$/gm, '');
    await store.command(ddl);
    const e = exampleClickEvent({ properties: { campaign: 'spring', 'ü': 'ß' }, rating: 4, price: 19.99, ts: 1_795_000_000_123, ingested_at: 1_795_000_000_456 });
    const enc = new RowBinaryEncoder();
    encodeEventRow(enc, e, 'u-key', 3, '123456789012', 1_795_000_001_000);
    enc.endRow();
    const lateAt = encodeEventRow(enc, { ...e, event_id: 'late-one', price: null, rating: null, properties: {} }, 'u-key', 3, '5', 1_795_000_001_000);
    markLate(enc, lateAt);
    enc.endRow();
    const writer = new BufferedWriter<never>(store, { table: 'events', rowBinaryColumns: EVENT_COLUMNS, maxRows: 10, maxDelayMs: 10 });
    await writer.writeRowBinary(enc.take(), 2);
    const got = await store.query<Record<string, unknown>>(
      `SELECT event_id, user_key, toUInt64(ts) * 1000 + ts_ms AS ts, price, rating, prop_keys, prop_values, late, ver,
              toUInt64(ingested_at) * 1000 + ingested_ms AS ingested, kafka_partition, toString(kafka_offset) AS off, toUInt32(stored_at) AS stored
       FROM events ORDER BY event_id`,
    );
    expect(got.map((g) => ({ ...g, ts: Number(g.ts), ingested: Number(g.ingested), rating: g.rating === null ? null : Number(g.rating), late: Number(g.late), ver: Number(g.ver), kafka_partition: Number(g.kafka_partition), stored: Number(g.stored) }))).toEqual([
      { event_id: e.event_id, user_key: 'u-key', ts: 1_795_000_000_123, price: 19.99, rating: 4, prop_keys: ['campaign', 'ü'], prop_values: ['spring', 'ß'], late: 0, ver: 1, ingested: 1_795_000_000_456, kafka_partition: 3, off: '123456789012', stored: 1_795_000_001 },
      { event_id: 'late-one', user_key: 'u-key', ts: 1_795_000_000_123, price: null, rating: null, prop_keys: [], prop_values: [], late: 1, ver: 0, ingested: 1_795_000_000_456, kafka_partition: 3, off: '5', stored: 1_795_000_001 },
    ]);
  });
});
