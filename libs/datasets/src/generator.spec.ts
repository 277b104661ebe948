import { EVENT_TYPES, CanonicalEventJson } from './canonical-event';
import { DEFAULT_GENERATOR_START_MS, expectedEventCount, generateEvents, generateLabels } from './generator';
import { generatePersonas, personaOf } from './personas';

const DAY = 86_400_000;

function take(it: Iterable<CanonicalEventJson>, n: number): CanonicalEventJson[] {
  const out: CanonicalEventJson[] = [];
  for (const e of it) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

/** The canonical-event rules of CONTRACTS.md that a generated event must meet. */
function contractViolations(e: CanonicalEventJson): string[] {
  const bad: string[] = [];
  if (typeof e.event_id !== 'string' || e.event_id.length === 0) bad.push('event_id');
  if (typeof e.user_id !== 'string' || e.user_id.length === 0) bad.push('user_id');
  if (!(EVENT_TYPES as readonly string[]).includes(e.event_type)) bad.push('event_type');
  if (typeof e.ts !== 'number' || !Number.isInteger(e.ts)) bad.push('ts');
  if (e.price !== undefined && !(e.price >= 0)) bad.push('price');
  if (e.price !== undefined && !/^[A-Z]{3}$/.test(e.currency ?? '')) bad.push('currency');
  if (e.quantity !== undefined && !(Number.isInteger(e.quantity) && e.quantity >= 1)) bad.push('quantity');
  if (e.event_type === 'review' && !(Number.isInteger(e.rating) && (e.rating as number) >= 1 && (e.rating as number) <= 5)) bad.push('rating');
  if (e.event_type !== 'review' && e.rating !== undefined) bad.push('rating on non-review');
  if (e.event_type === 'search' && !e.query) bad.push('query');
  if (e.event_type === 'follow' && !e.target_user_id) bad.push('target_user_id');
  if (e.ip !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(e.ip)) bad.push('ip');
  return bad;
}

describe('generateEvents', () => {
  const opts = { seed: 7, users: 400, days: 3 };
  const events = [...generateEvents(opts)];

  it('is deterministic for a seed and differs across seeds', () => {
    expect(JSON.stringify(take(generateEvents(opts), 3000))).toBe(JSON.stringify(events.slice(0, 3000)));
    const other = take(generateEvents({ ...opts, seed: 8 }), 3000);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(events.slice(0, 3000)));
  });

  it('emits every event type, in event-time order, inside the period, with unique ids', () => {
    const types = new Set(events.map((e) => e.event_type));
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
    let outOfOrder = 0;
    for (let i = 1; i < events.length; i++) if (events[i].ts < events[i - 1].ts) outOfOrder++;
    expect(outOfOrder).toBe(0);
    expect(events[0].ts).toBeGreaterThanOrEqual(DEFAULT_GENERATOR_START_MS);
    expect(events[events.length - 1].ts).toBeLessThan(DEFAULT_GENERATOR_START_MS + 3 * DAY);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('produces valid canonical events with sessions, prices and client context', () => {
    const violations = events.flatMap((e) => contractViolations(e).map((v) => `${e.event_id}: ${v}`));
    expect(violations.slice(0, 10)).toEqual([]);
    const purchase = events.find((e) => e.event_type === 'purchase');
    expect(purchase).toMatchObject({ currency: 'CNY', country: 'CN' });
    expect(purchase?.session_id).toMatch(/^g7-\d+-s\d+$/);
    expect(events.every((e) => e.session_id && e.device && e.os && e.city && e.ip)).toBe(true);
  });

  it('produces about eventsPerUserPerDay events per user and day', () => {
    const expected = expectedEventCount(opts);
    expect(events.length).toBeGreaterThan(expected * 0.6);
    expect(events.length).toBeLessThan(expected * 1.6);
  });

  it('has realistic funnel rates: views ≫ carts > purchases', () => {
    const count = (t: string) => events.filter((e) => e.event_type === t).length;
    expect(count('view')).toBeGreaterThan(4 * count('cart_add'));
    expect(count('cart_add')).toBeGreaterThan(count('purchase'));
    expect(count('purchase')).toBeGreaterThan(0);
  });

  it('makes bots distinguishable by their peak events per minute', () => {
    const bots = new Set<string>();
    for (const p of generatePersonas({ seed: 7, users: 400 })) if (p.bot) bots.add(p.user_id);
    expect(bots.size).toBeGreaterThan(0);
    const perMinute = new Map<string, number>();
    for (const e of events) {
      const k = `${e.user_id}|${Math.floor((e.ts as number) / 60_000)}`;
      perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
    }
    const peak = new Map<string, number>();
    for (const [k, n] of perMinute) {
      const u = k.split('|')[0];
      peak.set(u, Math.max(peak.get(u) ?? 0, n));
    }
    const botPeaks = [...peak].filter(([u]) => bots.has(u)).map(([, n]) => n);
    const humanPeaks = [...peak].filter(([u]) => !bots.has(u)).map(([, n]) => n).sort((a, b) => a - b);
    expect(Math.min(...botPeaks)).toBeGreaterThanOrEqual(20);
    expect(humanPeaks[Math.floor(humanPeaks.length * 0.95)]).toBeLessThan(20);
  });

  it('ties behaviour to the persona (gender → beauty, consumption level → price)', () => {
    const persona = new Map([...generatePersonas({ seed: 7, users: 400 })].map((p) => [p.user_id, p]));
    const humanViews = events.filter((e) => e.event_type === 'view' && persona.get(e.user_id ?? '')?.bot === null);
    const beautyShare = (g: string) => {
      const vs = humanViews.filter((e) => persona.get(e.user_id ?? '')?.gender === g);
      return vs.filter((e) => e.category?.startsWith('beauty')).length / vs.length;
    };
    expect(beautyShare('female')).toBeGreaterThan(3 * beautyShare('male'));
    const meanPrice = (level: string) => {
      const vs = humanViews.filter((e) => persona.get(e.user_id ?? '')?.consumption_level === level && e.category === 'fashion>shoes');
      return vs.reduce((s, e) => s + (e.price ?? 0), 0) / vs.length;
    };
    expect(meanPrice('high')).toBeGreaterThan(1.3 * meanPrice('low'));
  });
});

describe('generateLabels', () => {
  const personas = [...generatePersonas({ seed: 3, users: 1000 })];

  it('labels exactly the requested fraction of human users, deterministically', () => {
    const humans = personas.filter((p) => p.bot === null).length;
    const labels = generateLabels(personas, { fraction: 0.3, seed: 1 });
    expect(labels).toHaveLength(Math.round(0.3 * humans));
    expect(generateLabels(personas, { fraction: 0.3, seed: 1 })).toEqual(labels);
    expect(generateLabels(personas, { fraction: 0.3, seed: 2 })).not.toEqual(labels);
    expect(Object.keys(labels[0].attributes).sort()).toEqual(['age', 'consumption_level', 'gender']);
    const first = labels[0];
    const p = personaOf(3, Number(first.user_id.slice(1)));
    expect(first.attributes).toEqual({ age: p.age, gender: p.gender, consumption_level: p.consumption_level });
  });

  it('handles 0 and 1', () => {
    expect(generateLabels(personas, { fraction: 0, seed: 1 })).toEqual([]);
    expect(generateLabels(personas, { fraction: 1, seed: 1, includeBots: true })).toHaveLength(1000);
  });
});
