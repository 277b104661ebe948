import type { UserFeatures } from '@app/contracts';
import { rawEncode, userFeaturesFixture } from '@app/model';
import { DelayedLabelJoiner, JoinerOptions } from './delayed-label-joiner';

const H = 24 * 3_600_000;
const T0 = Date.UTC(2016, 3, 1);
const opts: JoinerOptions = { horizonMs: H, spacingMs: 0, watermarkLagMs: 0, maxPending: 1000, maxUsers: 1000 };

function msg(user: string, asOf: number, o: { purchases?: number; lastPurchaseAt?: number; cats?: [string, number][] } = {}): UserFeatures {
  const u = userFeaturesFixture(user, {
    purchases_30d: o.purchases ?? 0,
    views_30d: 3,
    days_since_last_purchase: o.lastPurchaseAt === undefined ? null : (asOf - o.lastPurchaseAt) / 86_400_000,
  }, asOf);
  u.category_scores = (o.cats ?? []).map(([key, score]) => ({ key, score }));
  return u;
}

describe(DelayedLabelJoiner.name, () => {
  it('labels from later messages only and never changes the features of the sample (no future leakage)', () => {
    const attrs = { a: { sex: '1' as string | null } };
    const j = new DelayedLabelJoiner(opts, (id) => attrs[id as 'a']);
    const first = msg('a', T0, { purchases: 1, lastPurchaseAt: T0 - 3_600_000, cats: [['phones', 2]] });
    const frozen = rawEncode(first);
    // The attribute label needs no future: it teaches at once, with the delayed labels masked.
    expect(j.add(first)).toEqual([expect.objectContaining({ asOf: T0, attributes: { sex: '1' }, purchase: null, nextCategories: null })]);
    // 2 h later: a purchase and a new category (the future of the first sample).
    expect(j.add(msg('a', T0 + 2 * 3_600_000, { purchases: 2, lastPurchaseAt: T0 + 2 * 3_600_000, cats: [['phones', 1.9], ['tv', 1]] }))).toEqual([
      expect.objectContaining({ asOf: T0 + 2 * 3_600_000, purchase: null }),
    ]);
    // 25 h later closes the first sample's window.
    const out = j.add(msg('a', T0 + 25 * 3_600_000, { purchases: 9, lastPurchaseAt: T0 + 25 * 3_600_000, cats: [['shoes', 5]] }));
    const s = out.find((x) => x.asOf === T0)!;
    expect(s.purchase).toBe(true);
    expect(s.nextCategories).toEqual(['tv']); // phones decayed (no event), shoes came after the window
    // Its attribute label was taught by the immediate sample: masked here, so it counts once.
    expect(s.attributes).toEqual({});
    // The features are exactly those at as_of: nothing from the later messages leaked in.
    expect(s.raw).toEqual(frozen);
    expect(Array.from(s.raw.numeric)).toEqual(Array.from(rawEncode(first).numeric));
  });

  it('attaches attributes learnt after the sample was taken when its window closes', () => {
    const attrs: Record<string, Record<string, string | null>> = {};
    const j = new DelayedLabelJoiner(opts, (id) => attrs[id]);
    expect(j.add(msg('late', T0))).toEqual([]);
    attrs.late = { age: '26-35' };
    const out = j.add(msg('late', T0 + H));
    expect(out.find((x) => x.asOf === T0)).toEqual(expect.objectContaining({ attributes: { age: '26-35' }, purchase: false }));
  });

  it('does not count a purchase before as_of as a future purchase', () => {
    const j = new DelayedLabelJoiner(opts, () => undefined);
    j.add(msg('b', T0, { purchases: 1, lastPurchaseAt: T0 - 1000 }));
    j.add(msg('b', T0 + 3_600_000, { purchases: 1, lastPurchaseAt: T0 - 1000 }));
    const out = j.add(msg('b', T0 + H, { purchases: 1, lastPurchaseAt: T0 - 1000 }));
    expect(out.find((x) => x.asOf === T0)!.purchase).toBe(false);
  });

  it('closes windows by the event-time watermark of other users and bounds pending samples', () => {
    const j = new DelayedLabelJoiner({ ...opts, maxPending: 2 }, () => undefined);
    j.add(msg('c', T0));
    const byWatermark = j.add(msg('d', T0 + H + 1));
    expect(byWatermark.map((s) => [s.userId, s.purchase])).toEqual([['c', false]]);
    j.add(msg('e', T0 + H + 2));
    const evicted = j.add(msg('f', T0 + H + 3));
    expect(evicted).toEqual([expect.objectContaining({ userId: 'd', purchase: null, nextCategories: null })]);
    expect(j.evicted).toBe(1);
  });

  it('keeps one sample per user per spacing and resolves at once with a zero horizon', () => {
    const j = new DelayedLabelJoiner({ ...opts, horizonMs: 0, spacingMs: 60_000 }, () => undefined);
    expect(j.add(msg('g', T0))).toHaveLength(1);
    expect(j.add(msg('g', T0 + 1000))).toHaveLength(0);
    expect(j.add(msg('g', T0 + 61_000))).toHaveLength(1);
  });
});
