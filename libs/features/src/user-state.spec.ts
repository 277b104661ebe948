import { computeFeatures, DAY_MS, HOUR_MS, MINUTE_MS } from './feature-definitions';
import type { FeatureEvent } from './feature-event';
import { UserState } from './user-state';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
let seq = 0;
const ev = (ts: number, type: string, extra: Partial<FeatureEvent> = {}): FeatureEvent => ({
  event_id: `e${seq++}`,
  ts,
  type,
  item: 'i1',
  category: 'phones',
  brand: 'acme',
  price: null,
  quantity: 1,
  rating: null,
  session: null,
  ingested_at: ts + 5,
  ...extra,
});

/** Deterministic shuffle (mulberry32) so a failure reproduces. */
function shuffled<T>(xs: T[], seed: number): T[] {
  let a = seed;
  const rnd = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe(UserState.name, () => {
  it('counts windows exactly: as_of − W < ts ≤ as_of', () => {
    const s = new UserState('u', 0);
    const asOf = T0;
    for (const e of [
      ev(asOf - HOUR_MS, 'view'), // exactly 1 h before: outside views_1h
      ev(asOf - HOUR_MS + 1, 'view'),
      ev(asOf - DAY_MS, 'view'),
      ev(asOf - DAY_MS + 1, 'click'),
      ev(asOf - 7 * DAY_MS, 'purchase', { price: 10, quantity: 3 }),
      ev(asOf - 30 * DAY_MS, 'view'), // outside every window
      ev(asOf - 30 * DAY_MS + 1, 'cart_add'),
      ev(asOf, 'view'),
    ].sort((a, b) => a.ts - b.ts)) {
      expect(s.apply(e)).toBe('applied');
    }
    const f = s.toMessage(0).features;
    expect(f).toMatchObject({
      views_1h: 2,
      views_24h: 3,
      views_7d: 4,
      views_30d: 4,
      clicks_24h: 1,
      purchases_7d: 0,
      purchases_30d: 1,
      spend_30d: 30,
      cart_adds_30d: 1,
      last_event_at: asOf,
    });
    expect(s.toMessage(0).event_count).toBe(7);
  });

  it('gives the same features whatever the arrival order within the allowed lateness', () => {
    const events: FeatureEvent[] = [];
    const types = ['view', 'view', 'click', 'cart_add', 'purchase', 'review', 'like', 'follow', 'search'];
    for (let i = 0; i < 300; i++) {
      events.push(
        ev(T0 + i * 3 * MINUTE_MS + (i % 7) * 500, types[i % types.length], {
          item: `i${i % 13}`,
          category: `c${i % 5}`,
          brand: `b${i % 3}`,
          price: i % 4 === 0 ? 10 + (i % 9) : null,
          rating: i % types.length === 5 ? 1 + (i % 5) : null,
          session: `s${Math.floor(i / 20)}`,
        }),
      );
    }
    const inOrder = new UserState('u', 0);
    for (const e of events) expect(inOrder.apply(e)).toBe('applied');
    for (const seed of [1, 2, 3]) {
      // Reorder only within ~2 h (below the 24 h lateness): every event must be applied.
      const chunks: FeatureEvent[][] = [];
      for (let i = 0; i < events.length; i += 40) chunks.push(shuffled(events.slice(i, i + 40), seed));
      const s = new UserState('u', 0);
      for (const e of chunks.flat()) expect(s.apply(e)).toBe('applied');
      expect(s.toMessage(0)).toEqual(inOrder.toMessage(0));
    }
  });

  it('counts a redelivered event once', () => {
    const s = new UserState('u', 0);
    const a = ev(T0, 'view');
    const b = ev(T0 + 1000, 'purchase', { price: 5 });
    expect(s.apply(a)).toBe('applied');
    expect(s.apply(b)).toBe('applied');
    expect(s.apply({ ...a })).toBe('duplicate');
    expect(s.apply({ ...b })).toBe('duplicate');
    expect(s.toMessage(0).features).toMatchObject({ views_30d: 1, purchases_30d: 1, spend_30d: 5 });
  });

  it('leaves events after the allowed lateness out of the windows', () => {
    const s = new UserState('u', 0);
    s.apply(ev(T0, 'view'));
    expect(s.apply(ev(T0 - DAY_MS, 'view'))).toBe('too_late');
    expect(s.apply(ev(T0 - DAY_MS + 1, 'view'))).toBe('applied');
    expect(s.toMessage(0).features.views_30d).toBe(2);
  });

  it('prunes records no window needs and restores to the same features', () => {
    const s = new UserState('u', 0);
    const evs = [ev(T0, 'view'), ev(T0 + 10 * DAY_MS, 'view'), ev(T0 + 31 * DAY_MS, 'cart_add')];
    for (const e of evs) s.apply(e);
    expect(s.size).toBe(2);
    expect(s.toMessage(0).features.first_event_at).toBe(T0);
    const r = new UserState('u', 0);
    r.load(evs.slice(1), T0);
    expect(r.toMessage(0)).toEqual(s.toMessage(0));
  });
});

describe(computeFeatures.name, () => {
  it('decays interest scores with the configured half-life', () => {
    const events = [ev(T0 - 2 * DAY_MS, 'view', { category: 'a', brand: 'x' }), ev(T0, 'purchase', { category: 'b', brand: 'x' })];
    const f = computeFeatures(events, T0, T0 - 2 * DAY_MS, { halfLifeMs: DAY_MS, topN: 10 });
    expect(f.category_scores).toEqual([
      { key: 'b', score: 8 },
      { key: 'a', score: expect.closeTo(0.25, 10) },
    ]);
    expect(f.brand_scores[0].score).toBeCloseTo(8.25, 10);
  });

  it('computes sessions, rates, prices, histogram and risk signals', () => {
    const events = [
      ev(T0, 'view', { item: 'a', price: 100, session: 's1' }),
      ev(T0 + 1000, 'view', { item: 'b', price: 50, session: 's1' }), // follows the first within 2 s
      ev(T0 + 10 * MINUTE_MS, 'cart_add', { item: 'b', session: 's1' }),
      ev(T0 + 11 * MINUTE_MS, 'purchase', { item: 'b', price: 40, quantity: 2, session: 's1' }),
      ev(T0 + 2 * HOUR_MS, 'view', { item: 'a', price: 100, session: 's2' }),
      ev(T0 + 2 * HOUR_MS + 1000, 'view', { item: 'b', price: 50, session: 's2' }),
      ev(T0 + 2 * HOUR_MS + 2000, 'review', { rating: 4, session: 's3' }),
    ];
    const f = computeFeatures(events, T0 + 2 * HOUR_MS + 2000, T0);
    expect(f.features).toMatchObject({
      sessions_30d: 3,
      avg_events_per_session_30d: 7 / 3,
      view_to_cart_rate_30d: 0.25,
      cart_to_purchase_rate_30d: 1,
      spend_30d: 80,
      avg_rating_30d: 4,
      distinct_sessions_24h: 3,
      days_since_last_purchase: (2 * HOUR_MS + 2000 - 11 * MINUTE_MS) / DAY_MS,
    });
    expect(f.features.hour_histogram_30d[12]).toBe(4);
    expect(f.features.hour_histogram_30d[14]).toBe(3);
    expect(f.category_prices).toEqual([
      { category: 'phones', avg_view_price: 75, avg_purchase_price: 40, views_with_price: 4, purchases_with_price: 1 },
    ]);
    // The view at T0+2h+1s is followed within 2 s by an event of another session: dwell unknown, counted as dwell.
    expect(f.activity.views_without_dwell_ratio).toBe(2 / 4);
    expect(f.activity).toMatchObject({ purchases_1h: 0, reviews_24h: 1 });
    expect(f.activity.identical_session_ratio).toBe(0);
  });
});
