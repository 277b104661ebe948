import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClickHouseStore, migrate } from '@app/clickhouse';
import { exampleUserFeatures, ProfileUpdated, UserFeatures } from '@app/contracts';
import { testNamespace } from '@app/testing';
import { assembleProfile } from '../../apps/profile-publisher/src/profile-assembler';
import { ProfileRepository, SegmentTransition } from '../../apps/profile-publisher/src/profile.repository';
import { parseSegmentFile } from '../../apps/profile-publisher/src/segments/segment-rules';

/** The `sql profiles` blocks of the "Profiles and segments" section of docs/analytics.md, in order. */
function profileQueries(): string[] {
  const text = readFileSync(join(__dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Profiles and segments'));
  const end = section.indexOf('\n## ', 1);
  return [...(end > 0 ? section.slice(0, end) : section).matchAll(/```sql[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1].trim());
}

describe('docs/analytics.md "Profiles and segments" queries (real ClickHouse)', () => {
  const ns = testNamespace('pubsql');
  const store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  const repo = new ProfileRepository(store);
  const DAY = 86_400_000;
  const t0 = Date.UTC(2026, 10, 1, 12);
  const segments = parseSegmentFile(readFileSync(join(__dirname, '..', '..', 'config', 'segments.json'), 'utf8'));

  beforeAll(async () => {
    await migrate(store);
    // 40 users over 3 days: profiles change day by day, so users enter and leave segments.
    const latest = new Map<string, ProfileUpdated>();
    for (let day = 0; day < 3; day++) {
      const published: ProfileUpdated[] = [];
      const transitions: SegmentTransition[] = [];
      for (let u = 0; u < 40; u++) {
        const base = exampleUserFeatures();
        const asOf = t0 + day * DAY + u * 1000;
        const f: UserFeatures = {
          ...base,
          user_id: `u${u}`,
          as_of: asOf,
          ingested_at: asOf + 100,
          features: { ...base.features, purchases_30d: (u + day) % 4, spend_30d: ((u + day) % 4) * 200, first_event_at: asOf - (u % 10) * DAY },
          activity: { ...base.activity, follows_24h: u % 13 === 0 ? 200 : 0 },
        };
        const prev = latest.get(f.user_id);
        const p = assembleProfile({
          features: f,
          previous: prev,
          prediction: {
            attributes: { age: { value: ['18-24', '25-34', '35-44'][u % 3], confidence: 0.6, distribution: {} } },
            purchasePropensity: 0.3,
            nextCategories: [],
          },
          modelVersion: 'v1',
          known: undefined,
          segments,
          now: asOf + 250,
        });
        const before = new Set(prev?.segments ?? []);
        for (const s of p.segments) if (!before.has(s)) transitions.push({ segment: s, userId: p.user_id, action: 'enter', at: p.as_of, profileVersion: p.version });
        for (const s of before) if (!p.segments.includes(s)) transitions.push({ segment: s, userId: p.user_id, action: 'leave', at: p.as_of, profileVersion: p.version });
        latest.set(p.user_id, p);
        published.push(p);
      }
      await repo.write(published, transitions);
    }
  });

  afterAll(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${ns.database}`);
    await store.close();
  });

  it('finds the five documented queries', () => {
    expect(profileQueries()).toHaveLength(5);
  });

  it.each(profileQueries().map((q, i) => [i + 1, q] as const))('query %i runs and returns rows', async (_i, query) => {
    const rows = await store.query<Record<string, unknown>>(query);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('segment sizes over time match the current membership on the last day', async () => {
    const [sizes] = [await store.query<{ segment: string; day: string; size: string }>(profileQueries()[0])];
    const current = await store.query<{ segment: string; members: string }>(profileQueries()[2]);
    for (const c of current) {
      const last = sizes.filter((s) => s.segment === c.segment).pop();
      expect(Number(last?.size)).toBe(Number(c.members));
    }
  });

  it('reports freshness as published minus ingested', async () => {
    const rows = await store.query<{ p50_ms: string; p99_ms: string }>(profileQueries()[4]);
    expect(rows.every((r) => Number(r.p50_ms) === 150 && Number(r.p99_ms) === 150)).toBe(true);
  });
});
