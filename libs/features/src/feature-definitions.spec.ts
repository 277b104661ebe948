import { computeFeatures, DAY_MS, MINUTE_MS, SESSION_GAP_MS } from './feature-definitions';
import type { FeatureEvent } from './feature-event';

/** The straightforward definitions (string signatures, full sorts) the optimised code must equal. */
function reference(events: FeatureEvent[], asOf: number, topN: number, halfLifeMs: number) {
  const inWindow = events.filter((e) => e.ts > asOf - 30 * DAY_MS && e.ts <= asOf);
  const sigs: string[] = [];
  let sig: string[] = [];
  inWindow.forEach((e, i) => {
    const prev = i > 0 ? inWindow[i - 1] : null;
    if (!prev || e.ts - prev.ts > SESSION_GAP_MS || (e.session !== null && prev.session !== null && e.session !== prev.session)) {
      if (sig.length > 0) sigs.push(sig.join('\u0001'));
      sig = [];
    }
    sig.push(`${e.type}\u0002${e.item ?? ''}`);
  });
  if (sig.length > 0) sigs.push(sig.join('\u0001'));
  const count = new Map<string, number>();
  for (const s of sigs) count.set(s, (count.get(s) ?? 0) + 1);
  const identical = sigs.filter((s) => s.includes('\u0001') && count.get(s)! > 1).length;
  const weights: Record<string, number> = { view: 1, click: 1, favorite: 3, cart_add: 4, purchase: 8 };
  const scores = new Map<string, number>();
  for (const e of inWindow) {
    const w = weights[e.type] ?? 0;
    if (w > 0 && e.category !== null) scores.set(e.category, (scores.get(e.category) ?? 0) + w * Math.exp(-(asOf - e.ts) * (Math.LN2 / halfLifeMs)));
  }
  const top = [...scores.entries()]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, topN)
    .map(([key, score]) => ({ key, score }));
  return { identical_session_ratio: sigs.length > 0 ? identical / sigs.length : 0, category_scores: top };
}

describe('computeFeatures (optimised parts against the plain definitions)', () => {
  it('identical_session_ratio and category_scores equal the string-signature / full-sort definitions', () => {
    let x = 17;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const types = ['view', 'click', 'cart_add', 'purchase', 'favorite', 'search'];
    const asOf = Date.UTC(2026, 0, 31);
    let withRepeats = 0;
    for (let u = 0; u < 150; u++) {
      const events: FeatureEvent[] = [];
      let ts = asOf - 20 * DAY_MS;
      const n = Math.floor(rand() * 60);
      for (let i = 0; i < n; i++) {
        // Sessions that repeat: a small alphabet of items and a few fixed patterns.
        ts += rand() < 0.4 ? SESSION_GAP_MS + MINUTE_MS * Math.floor(rand() * 600) : Math.floor(rand() * 5 * MINUTE_MS);
        events.push({
          event_id: `e${u}-${i}`,
          ts,
          type: types[Math.floor(rand() * (rand() < 0.5 ? 2 : types.length))],
          item: rand() < 0.1 ? null : `i${Math.floor(rand() * 2)}`,
          category: rand() < 0.1 ? null : `c${Math.floor(rand() * 12)}`,
          brand: null,
          price: null,
          quantity: 1,
          rating: null,
          session: rand() < 0.3 ? `s${Math.floor(i / 4)}` : null,
          ingested_at: ts,
        });
      }
      const got = computeFeatures(events, asOf, 0, { halfLifeMs: 7 * DAY_MS, topN: 4 });
      const want = reference(events, asOf, 4, 7 * DAY_MS);
      expect(got.activity.identical_session_ratio).toBe(want.identical_session_ratio);
      expect(got.category_scores).toEqual(want.category_scores);
      if (want.identical_session_ratio > 0 && want.identical_session_ratio < 1) withRepeats++;
    }
    expect(withRepeats).toBeGreaterThan(10); // the streams do exercise repeated sessions
  });
});
