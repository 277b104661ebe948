import { exampleUserFeatures, UserFeatures } from '@app/contracts';
import { CanonicalEventJson, generateEvents, generatePersonas } from '@app/datasets';
import { compareEvents, FeatureEvent, toUserFeatures } from '@app/features';
import { assessRisk, riskBand } from './risk-scorer';

function normalUser(): UserFeatures {
  const f = exampleUserFeatures();
  return { ...f, features: { ...f.features, max_events_per_minute_24h: 6, views_24h: 20, sessions_30d: 10 } };
}

function toFeatureEvent(e: CanonicalEventJson): FeatureEvent {
  const ts = typeof e.ts === 'number' ? e.ts : Date.parse(e.ts);
  return {
    event_id: e.event_id,
    ts,
    type: e.event_type,
    item: e.item_id ?? null,
    category: e.category ?? null,
    brand: e.brand ?? null,
    price: e.price ?? null,
    quantity: e.quantity ?? 1,
    rating: e.rating ?? null,
    session: e.session_id ?? null,
    ingested_at: ts,
  };
}

describe('assessRisk', () => {
  it('scores an ordinary shopper low, with no reasons', () => {
    const r = assessRisk(normalUser());
    expect(r.score).toBeLessThan(0.1);
    expect(r.band).toBe('low');
    expect(r.reasons).toEqual([]);
  });

  it('explains each signal in words, strongest first, and combines them towards 1', () => {
    const f = normalUser();
    f.features.max_events_per_minute_24h = 80;
    f.activity = { ...f.activity, reviews_24h: 9, follows_24h: 100, likes_24h: 100 };
    const r = assessRisk(f);
    expect(r.score).toBeGreaterThan(0.8);
    expect(r.band).toBe('high');
    expect(r.reasons[0]).toBe('80 events in one minute (normal ≤ 20)');
    expect(r.reasons).toEqual(expect.arrayContaining(['9 reviews in 24 h (normal ≤ 3)', '100 follows and 100 likes in 24 h (normal ≤ 30 together)']));
  });

  it('ignores the dwell ratio and identical sessions when there is too little activity to tell', () => {
    const f = normalUser();
    f.features.views_24h = 3;
    f.features.sessions_30d = 1;
    f.activity = { ...f.activity, views_without_dwell_ratio: 1, identical_session_ratio: 1 };
    expect(assessRisk(f).score).toBe(0);
  });

  it('bands scores at 0.3 and 0.7', () => {
    expect([0, 0.29, 0.3, 0.69, 0.7, 1].map(riskBand)).toEqual(['low', 'low', 'medium', 'medium', 'high', 'high']);
  });

  it('ranks generated click-farm bots above generated shoppers', () => {
    const seed = 7;
    const users = 300;
    const botFraction = 0.1;
    const bots = new Set([...generatePersonas({ seed, users, botFraction })].filter((p) => p.bot !== null).map((p) => p.user_id));
    const byUser = new Map<string, FeatureEvent[]>();
    for (const e of generateEvents({ seed, users, botFraction, days: 3, eventsPerUserPerDay: 20 })) {
      if (!e.user_id) continue;
      let list = byUser.get(e.user_id);
      if (!list) byUser.set(e.user_id, (list = []));
      list.push(toFeatureEvent(e));
    }
    const scored = [...byUser.entries()].map(([user, events]) => {
      events.sort(compareEvents);
      const asOf = events[events.length - 1].ts;
      const f = toUserFeatures(user, events, asOf, events[0].ts, asOf);
      return { user, bot: bots.has(user), score: assessRisk(f).score };
    });
    const botScores = scored.filter((s) => s.bot).map((s) => s.score);
    const humanScores = scored.filter((s) => !s.bot).map((s) => s.score);
    expect(botScores.length).toBeGreaterThan(5);
    // Every bot above the 95th percentile of humans, and the mean far apart.
    const sortedHumans = [...humanScores].sort((a, b) => a - b);
    const p95 = sortedHumans[Math.floor(0.95 * (sortedHumans.length - 1))];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.min(...botScores)).toBeGreaterThan(p95);
    expect(mean(botScores)).toBeGreaterThan(mean(humanScores) + 0.3);
  });
});
