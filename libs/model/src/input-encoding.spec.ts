import { exampleUserFeatures, type Features, type UserFeatures } from '@app/contracts';
import { FEATURE_VECTOR_NAMES, FEATURE_VECTOR_VERSION, FEATURE_VECTOR_WIDTH, featureVector } from './feature-vector';
import { encodeBatch, encodeUsers, ENCODING_VERSION, NormalizationState, rawEncode, TOP_KEYS } from './input-encoding';

/** featureVector's definition as a plain loop over the names (what the generated code must equal). */
function featureVectorReference(f: Features, out: Float32Array, offset: number): Float32Array {
  const countsAndRates = FEATURE_VECTOR_NAMES.indexOf('days_since_last_purchase');
  let i = offset;
  for (let j = 0; j < countsAndRates; j++) out[i++] = Math.log1p(Math.max(0, f[FEATURE_VECTOR_NAMES[j] as keyof Features] as number));
  out[i++] = f.days_since_last_purchase === null ? 0 : Math.log1p(f.days_since_last_purchase);
  out[i++] = f.days_since_last_purchase === null ? 0 : 1;
  out[i++] = f.avg_rating_30d === null ? 0 : f.avg_rating_30d / 5;
  const total = f.hour_histogram_30d.reduce((a, b) => a + b, 0);
  for (let h = 0; h < 24; h++) out[i++] = total > 0 ? (f.hour_histogram_30d[h] ?? 0) / total : 0;
  return out;
}

function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** Users with every kind of value the encoders meet: zeros, nulls, negative counts, long and empty key lists, colliding keys. */
function users(n: number, seed: number): UserFeatures[] {
  const rnd = lcg(seed);
  const base = exampleUserFeatures();
  const scores = (prefix: string) =>
    Array.from({ length: Math.floor(rnd() * (TOP_KEYS + 4)) }, (_, i) => ({ key: `${prefix}${Math.floor(rnd() * 50)}-${i % 3}`, score: rnd() < 0.2 ? 0 : rnd() * 10 - 1 }));
  return Array.from({ length: n }, (_, i) => {
    const features = { ...base.features };
    for (const k of Object.keys(features) as (keyof typeof features)[]) {
      if (typeof features[k] === 'number') (features as Record<string, unknown>)[k] = rnd() < 0.1 ? -1 : rnd() < 0.3 ? 0 : rnd() * 1000;
    }
    features.days_since_last_purchase = rnd() < 0.4 ? null : rnd() * 30;
    features.avg_rating_30d = rnd() < 0.5 ? null : rnd() * 5;
    features.hour_histogram_30d = Array.from({ length: 24 }, () => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 9)));
    if (i % 7 === 0) features.hour_histogram_30d = Array.from({ length: 24 }, () => 0);
    return { ...base, user_id: `u${i}`, features, category_scores: scores('c'), brand_scores: scores('b') };
  });
}

function norm(categoryBuckets: number, brandBuckets: number, seed: number): NormalizationState {
  const rnd = lcg(seed);
  return {
    encoding_version: ENCODING_VERSION,
    feature_vector_version: FEATURE_VECTOR_VERSION,
    features: [...FEATURE_VECTOR_NAMES],
    transform: 'log1p',
    count: 1000,
    mean: Array.from({ length: FEATURE_VECTOR_WIDTH }, () => rnd() * 3),
    var: Array.from({ length: FEATURE_VECTOR_WIDTH }, () => rnd() * 4),
    top_keys: TOP_KEYS,
    category_buckets: categoryBuckets,
    brand_buckets: brandBuckets,
  };
}

describe('input encoding fast paths', () => {
  it('featureVector writes exactly what the plain loop over the feature names writes', () => {
    for (const u of users(300, 1)) {
      const fast = featureVector(u.features, new Float32Array(FEATURE_VECTOR_WIDTH + 5), 5);
      const reference = featureVectorReference(u.features, new Float32Array(FEATURE_VECTOR_WIDTH + 5), 5);
      expect(Array.from(fast)).toEqual(Array.from(reference));
    }
  });

  it.each([
    [256, 256],
    [256, 64],
    [7, 5], // few buckets: many collisions
  ])('encodeUsers equals encodeBatch over rawEncode (%i category / %i brand buckets)', (cb, bb) => {
    const batch = users(200, cb + bb);
    const n = norm(cb, bb, 3);
    const fast = encodeUsers(batch, n);
    const reference = encodeBatch(
      batch.map((u) => rawEncode(u, n.category_buckets)),
      n,
    );
    expect(fast.size).toBe(reference.size);
    expect(fast.buckets).toBe(reference.buckets);
    expect(Array.from(fast.numeric)).toEqual(Array.from(reference.numeric));
    expect(Array.from(fast.categoryBag)).toEqual(Array.from(reference.categoryBag));
    expect(Array.from(fast.brandBag)).toEqual(Array.from(reference.brandBag));
    expect(fast.categoryBag.some((v) => v > 0)).toBe(true);
  });
});
