import { exampleUserFeatures, UserFeatures } from '@app/contracts';
import type { ProfilePrediction } from './inference/profile-model';
import { assembleProfile, AssemblyInput, brandLoyalty, priceBand, priceRatio, profileUpdate, reviseProfile, topHours } from './profile-assembler';
import { DEFAULT_THRESHOLDS } from './change-detector';
import { parseSegmentFile } from './segments/segment-rules';

const segments = parseSegmentFile(
  JSON.stringify({
    segments: [
      { name: 'buyer', rule: { field: 'features.purchases_30d', op: '>=', value: 1 } },
      { name: 'female', rule: { field: 'attributes.gender.value', op: '==', value: 'f' } },
    ],
  }),
);

const prediction: ProfilePrediction = {
  attributes: {
    gender: { value: 'm', confidence: 0.61234, distribution: { f: 0.38766, m: 0.61234 } },
    age_band: { value: '25-34', confidence: 0.5, distribution: { '18-24': 0.2, '25-34': 0.5, '35-44': 0.3 } },
  },
  purchasePropensity: 0.42,
  nextCategories: [{ key: 'electronics>phones', score: 0.7 }],
};

const input = (over: Partial<AssemblyInput> = {}): AssemblyInput => ({
  features: exampleUserFeatures(),
  previous: undefined,
  prediction,
  modelVersion: 'v7',
  known: undefined,
  segments,
  now: 1_800_000_000_000,
  ...over,
});

describe('assembleProfile', () => {
  it('builds every section of a first profile, stamped with the model version', () => {
    const p = assembleProfile(input());
    expect(p).toMatchObject({
      user_id: 'u-10023',
      version: 1,
      model_version: 'v7',
      attributes: {
        gender: { value: 'm', source: 'predicted', confidence: 0.6123, distribution: { f: 0.3877, m: 0.6123 } },
        age_band: { value: '25-34', source: 'predicted' },
      },
      predictions: { purchase_propensity_24h: 0.42, next_categories: [{ key: 'electronics>phones', score: 0.7 }] },
      interests: { categories: [{ key: 'electronics>audio>headphones', score: 7.25 }, { key: 'electronics>phones', score: 3.1 }] },
      preferences: { price_sensitivity: 'medium', brand_loyalty: 1 },
      segments: ['buyer'],
      risk: { score: expect.any(Number), reasons: expect.any(Array) },
    });
    expect(p.recommendation_seeds[0]).toEqual({ category: 'electronics>audio>headphones', reason: 'recent_interest', score: 0.9 });
    expect(p.recommendation_seeds).toContainEqual({ category: 'electronics>phones', reason: 'predicted_next', score: 0.7 });
    expect(p.freshness).toMatchObject({ features: p.as_of, predictions: p.as_of, attributes: p.as_of, ingested: exampleUserFeatures().ingested_at });
    expect(p.changed_fields).toEqual(expect.arrayContaining(['attributes', 'features', 'segments', 'risk']));
  });

  it('prefers the known value over the prediction, and a known value can put the user in a segment', () => {
    const p = assembleProfile(input({ known: { values: { gender: 'f', age_band: null }, observedAt: 5 } }));
    expect(p.attributes.gender).toEqual({ value: 'f', source: 'known', confidence: null, distribution: {} });
    expect(p.attributes.age_band?.source).toBe('predicted');
    expect(p.segments).toEqual(['buyer', 'female']);
  });

  it('increments the version and lists what changed', () => {
    const first = assembleProfile(input());
    const f: UserFeatures = { ...exampleUserFeatures(), features: { ...exampleUserFeatures().features, views_30d: 999 } };
    const second = assembleProfile(input({ features: f, previous: first }));
    expect(second.version).toBe(2);
    expect(second.changed_fields).toEqual(['features']);
  });

  it('without a model: no predictions and a null model version, never a crash', () => {
    const p = assembleProfile(input({ prediction: null, modelVersion: null }));
    expect(p.model_version).toBeNull();
    expect(p.attributes).toEqual({});
    expect(p.predictions).toEqual({ purchase_propensity_24h: null, next_categories: [] });
  });

  it('keeps the previous predictions, with their version, while the model is unavailable', () => {
    const first = assembleProfile(input());
    const p = assembleProfile(input({ previous: first, prediction: null, modelVersion: null }));
    expect(p.model_version).toBe('v7');
    expect(p.attributes.gender?.value).toBe('m');
  });

  it('revises a profile when known attributes change', () => {
    const first = assembleProfile(input());
    const p = reviseProfile(first, { values: { gender: 'f' }, observedAt: first.as_of + 1 }, segments, first.computed_at + 10);
    expect(p.version).toBe(2);
    expect(p.attributes.gender?.source).toBe('known');
    expect(p.segments).toEqual(['buyer', 'female']);
    expect(p.changed_fields).toEqual(['attributes', 'segments', 'attributes.gender', 'segments.female']);
  });
});

describe('preferences', () => {
  const withPrices = (prices: UserFeatures['category_prices']): UserFeatures => ({ ...exampleUserFeatures(), category_prices: prices });
  const cp = (view: number | null, purchase: number | null, n: number) => ({ category: `c${view}`, avg_view_price: view, avg_purchase_price: purchase, views_with_price: 5, purchases_with_price: n });

  it('derives the price ratio from purchased vs viewed prices, weighted by purchases', () => {
    expect(priceRatio(withPrices([cp(100, 50, 1), cp(10, 10, 3)]))).toBe(0.875);
    expect(priceRatio(withPrices([cp(100, null, 0)]))).toBeNull();
    expect([0.5, 0.9, 1.2, null].map(priceBand)).toEqual(['high', 'medium', 'low', null]);
  });

  it('measures brand loyalty as the normalised concentration of brand interest', () => {
    const b = (scores: number[]): UserFeatures => ({ ...exampleUserFeatures(), brand_scores: scores.map((score, i) => ({ key: `b${i}`, score })) });
    expect(brandLoyalty(b([]))).toBeNull();
    expect(brandLoyalty(b([5]))).toBe(1);
    expect(brandLoyalty(b([1, 1, 1, 1]))).toBe(0);
    expect(brandLoyalty(b([9, 1]))!).toBeGreaterThan(0.6);
  });
});

describe('topHours', () => {
  it('equals sorting the non-empty hours by count (ties: earlier hour first)', () => {
    let x = 5;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 300; t++) {
      const hist = Array.from({ length: 24 }, () => (rand() < 0.4 ? 0 : Math.floor(rand() * 6)));
      const n = 1 + Math.floor(rand() * 5);
      const expected = hist
        .map((c, h) => [c, h] as const)
        .filter(([c]) => c > 0)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .slice(0, n)
        .map(([, h]) => h);
      expect(topHours(hist, n)).toEqual(expected);
    }
  });
});

describe('profileUpdate', () => {
  it('is the assembled profile when the change is material, and null when it is not', () => {
    const first = profileUpdate(input(), DEFAULT_THRESHOLDS);
    expect(first).toEqual(assembleProfile(input()));
    // The same features again: nothing material, nothing to publish.
    expect(profileUpdate(input({ previous: first! }), DEFAULT_THRESHOLDS)).toBeNull();
    // A first purchase is material; changed_fields is filled in like assembleProfile's.
    const bought: UserFeatures = { ...exampleUserFeatures(), features: { ...exampleUserFeatures().features, purchases_30d: 5 } };
    const next = profileUpdate(input({ previous: first!, features: bought }), DEFAULT_THRESHOLDS);
    expect(next).not.toBeNull();
    expect(next!.changed_fields).toEqual(assembleProfile(input({ previous: first!, features: bought })).changed_fields);
    expect(next!.changed_fields).toContain('features');
  });
});
