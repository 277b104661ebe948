import { Topics } from '@app/contracts';
import { featuresAsOf } from '@app/features';
import { waitFor } from '@app/testing';
import { AggregatorHarness, comparable, expectedFeatures, generateStream } from './aggregator-harness';

/**
 * The aggregator as a real process against real Kafka and ClickHouse: out-of-order, late and
 * duplicate events, a `kill -9` mid-stream and a restart, a hot-state bound small enough to force
 * evictions and restores — and the final features must equal an uninterrupted in-order run, the
 * `events` table must hold each event once, and point-in-time features must equal the live ones.
 */
describe('feature aggregator: restart-safe, exact, point-in-time', () => {
  const h = new AggregatorHarness('agg');
  const events = generateStream(h.ns.id, 60, 40, 7);
  const expected = expectedFeatures(events);
  const env = { AGGREGATOR_MAX_USERS: '20', AGGREGATOR_WRITER_MAX_DELAY_MS: '30' };

  afterAll(() => h.close());

  it('converges after kill -9 to the values of an uninterrupted run', async () => {
    const first = await h.startAggregator(env);
    const features = await h.reader(Topics.UserFeatures);
    const half = Math.floor(events.length / 2);
    await h.produce(events.slice(0, half), 200);
    // Kill it while it is working through the first half.
    await features.waitFor(() => true, 50, 60000);
    await first.stop(true);
    await h.produce(events.slice(half), 200);
    await h.startAggregator(env);
    await h.waitForFeatures(features, expected);

    const unique = new Set(events.map((e) => e.event_id)).size;
    const stored = await waitFor(
      async () => {
        const n = await h.count(`SELECT count() AS c FROM events FINAL`);
        return n === unique ? n : undefined;
      },
      { what: 'every event stored once' },
    );
    expect(stored).toBe(unique);
    // Every duplicate was recognised; late ones are stored and flagged.
    const late = await h.count(`SELECT count() AS c FROM events FINAL WHERE late = 1`);
    expect(late).toBeGreaterThan(0);
  });

  it('computes the same features point-in-time from ClickHouse', async () => {
    const users = [...expected.keys()].slice(0, 15);
    for (const user of users) {
      const want = expected.get(user)!;
      const pit = await featuresAsOf(h.store, user, want.as_of);
      expect(comparable(pit!)).toEqual(comparable(want));
      // A time between events selects the newest event at or before it.
      const later = await featuresAsOf(h.store, user, want.as_of + 12345);
      expect(later!.as_of).toBe(want.as_of);
    }
    const someone = [...expected.keys()][0];
    expect(await featuresAsOf(h.store, someone, 0)).toBeNull();
  });
});
