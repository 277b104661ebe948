import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClickHouseStore, loadMigrations, migrate, toDateTimeString } from '@app/clickhouse';
import { createLogger } from '@app/observability';
import { testNamespace } from '@app/testing';

/** The ```sql blocks of docs/analytics.md, in order. */
function sqlBlocks(): string[] {
  const text = readFileSync(join(__dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  return [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1].trim());
}

/** Every example query of docs/analytics.md runs on the real ClickHouse against data. */
describe('docs/analytics.md queries', () => {
  const ns = testNamespace('aggsql');
  const store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  const blocks = sqlBlocks();

  beforeAll(async () => {
    await ClickHouseStore.ensureDatabase({ url: ns.clickhouseUrl, database: ns.database });
    await migrate(store, createLogger('test', 'warn'), loadMigrations());
    const t0 = Date.UTC(2026, 9, 1, 10);
    const types = ['view', 'view', 'cart_add', 'purchase', 'view', 'search'];
    const rows = [];
    for (let u = 1; u <= 5; u++) {
      for (let i = 0; i < 12; i++) {
        const ts = t0 + i * 5 * 3600_000 + u * 60_000;
        rows.push({
          event_id: `e-${u}-${i}`,
          user_key: `u-${u}`,
          user_id: `u-${u}`,
          session_id: `s-${u}-${Math.floor(i / 3)}`,
          event_type: types[(i + u) % types.length],
          ts: toDateTimeString(ts),
          ts_ms: ts % 1000,
          item_id: `i-${i % 4}`,
          category: `c${i % 3}>sub${u % 2}`,
          brand: `b${i % 2}`,
          price: 10 + i,
          quantity: 1,
          late: i === 11 ? 1 : 0,
          ver: i === 11 ? 0 : 1,
          ingested_at: toDateTimeString(ts + 2000),
          ingested_ms: 0,
          kafka_partition: u % 6,
          kafka_offset: i,
        });
      }
    }
    await store.insert('events', rows);
    await store.insert('events', rows.slice(0, 10)); // a redelivery: FINAL must count it once
  });

  afterAll(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${ns.database}`);
    await store.close();
  });

  it('has example queries', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(sqlBlocks().map((q, i) => [i + 1, q] as const))('query %i runs and returns rows', async (_i, query) => {
    const rows = await store.query<Record<string, unknown>>(query);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('counts each event once (daily active users)', async () => {
    const rows = await store.query<{ day: string; dau: string; events: string }>(blocks[0]);
    expect(rows.reduce((n, r) => n + Number(r.events), 0)).toBe(60);
    expect(Math.max(...rows.map((r) => Number(r.dau)))).toBe(5);
  });
});
