import type { UserFeatures } from '@app/contracts';
import { FEATURE_VECTOR_NAMES, FEATURE_VECTOR_VERSION, FEATURE_VECTOR_WIDTH, featureVector } from './feature-vector';

/**
 * The model's input encoding, shared by the trainer and every consumer of a ModelUpdate:
 *  - `numeric`: featureVector() (counts and rates through log1p), then standardised with the
 *    running mean/variance that travel in `normalization_json`;
 *  - `categories` / `brands`: the user's top TOP_KEYS keys from category_scores / brand_scores,
 *    hashed into `buckets` slots (slot 0 unused), each with its score normalised so that the
 *    weights sum to 1: a weighted multi-hot "bag" vector. A bias-free dense layer on the bag is a
 *    score-weighted embedding bag (done this way because the wasm backend has no gradient kernel
 *    for gather/embedding lookups: UnsortedSegmentSum).
 * Anything that changes these rules must bump ENCODING_VERSION: loaders refuse other versions.
 */
export const ENCODING_VERSION = 2;
export const TOP_KEYS = 8;
export const DEFAULT_HASH_BUCKETS = 256;
const VAR_EPSILON = 1e-6;

export interface NormalizationState {
  encoding_version: number;
  feature_vector_version: number;
  features: string[];
  transform: 'log1p';
  count: number;
  mean: number[];
  var: number[];
  top_keys: number;
  category_buckets: number;
  brand_buckets: number;
}

/** FNV-1a 32-bit: stable across processes and languages, cheap, good enough spread for buckets. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Embedding row of a key: 1..buckets-1 (0 is reserved for "no key"). */
export function hashBucket(key: string, buckets: number): number {
  return 1 + (fnv1a(key) % (buckets - 1));
}

/** Raw (pre-standardisation) encoding of one sample; what the trainer keeps in its buffers. */
export interface RawSample {
  numeric: Float32Array;
  categoryIds: Int32Array;
  categoryWeights: Float32Array;
  brandIds: Int32Array;
  brandWeights: Float32Array;
}

export function rawEncode(u: Pick<UserFeatures, 'features' | 'category_scores' | 'brand_scores'>, buckets = DEFAULT_HASH_BUCKETS): RawSample {
  const cat = hashedKeys(u.category_scores, buckets);
  const brand = hashedKeys(u.brand_scores, buckets);
  return { numeric: featureVector(u.features), categoryIds: cat.ids, categoryWeights: cat.weights, brandIds: brand.ids, brandWeights: brand.weights };
}

function hashedKeys(scores: readonly { key: string; score: number }[], buckets: number): { ids: Int32Array; weights: Float32Array } {
  const ids = new Int32Array(TOP_KEYS);
  const weights = new Float32Array(TOP_KEYS);
  forEachKey(scores, buckets, (i, id, weight) => {
    ids[i] = id;
    weights[i] = weight;
  });
  return { ids, weights };
}

/**
 * The bag rule, in one place for rawEncode and encodeUsers: the top TOP_KEYS keys, each hashed
 * into 1..buckets-1, weighted by its score over their total (equal weights when every score is 0:
 * keys known, no recency information).
 */
function forEachKey(scores: readonly { key: string; score: number }[], buckets: number, fn: (i: number, id: number, weight: number) => void): void {
  const n = Math.min(TOP_KEYS, scores.length);
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.max(0, scores[i].score);
  for (let i = 0; i < n; i++) fn(i, hashBucket(scores[i].key, buckets), total > 0 ? Math.max(0, scores[i].score) / total : 1 / n);
}

/** Model inputs for a batch, as flat typed arrays (tensors are created by the caller). */
export interface EncodedBatch {
  size: number;
  numeric: Float32Array; // [size, FEATURE_VECTOR_WIDTH]
  buckets: number;
  categoryBag: Float32Array; // [size, buckets]
  brandBag: Float32Array; // [size, buckets]
}

export function encodeBatch(samples: readonly RawSample[], norm: NormalizationState): EncodedBatch {
  const size = samples.length;
  const w = FEATURE_VECTOR_WIDTH;
  const out: EncodedBatch = {
    size,
    numeric: new Float32Array(size * w),
    buckets: norm.category_buckets,
    categoryBag: new Float32Array(size * norm.category_buckets),
    brandBag: new Float32Array(size * norm.brand_buckets),
  };
  const cb = norm.category_buckets;
  const bb = norm.brand_buckets;
  const inv = norm.var.map((v) => 1 / Math.sqrt(v + VAR_EPSILON));
  for (let s = 0; s < size; s++) {
    const r = samples[s];
    for (let j = 0; j < w; j++) out.numeric[s * w + j] = (r.numeric[j] - norm.mean[j]) * inv[j];
    for (let k = 0; k < TOP_KEYS; k++) {
      // ids are hashed with the version's bucket count (rawEncode(u, buckets)); a colliding pair adds up.
      if (r.categoryIds[k] > 0) out.categoryBag[s * cb + (r.categoryIds[k] % cb)] += r.categoryWeights[k];
      if (r.brandIds[k] > 0) out.brandBag[s * bb + (r.brandIds[k] % bb)] += r.brandWeights[k];
    }
  }
  return out;
}

/**
 * `encodeBatch(users.map((u) => rawEncode(u, norm.category_buckets)), norm)` without the
 * intermediate RawSample per user (five typed arrays each): the same float32 values, written
 * straight into the batch arrays (inference: the publisher encodes every features message).
 */
export function encodeUsers(users: readonly Pick<UserFeatures, 'features' | 'category_scores' | 'brand_scores'>[], norm: NormalizationState): EncodedBatch {
  const size = users.length;
  const w = FEATURE_VECTOR_WIDTH;
  const cb = norm.category_buckets;
  const bb = norm.brand_buckets;
  const out: EncodedBatch = {
    size,
    numeric: new Float32Array(size * w),
    buckets: cb,
    categoryBag: new Float32Array(size * cb),
    brandBag: new Float32Array(size * bb),
  };
  const mean = norm.mean;
  const inv = norm.var.map((v) => 1 / Math.sqrt(v + VAR_EPSILON));
  for (let s = 0; s < size; s++) {
    const u = users[s];
    const at = s * w;
    // The raw vector in float32 (as RawSample.numeric holds it), then standardised in place.
    featureVector(u.features, out.numeric, at);
    for (let j = 0; j < w; j++) out.numeric[at + j] = (out.numeric[at + j] - mean[j]) * inv[j];
    addBag(out.categoryBag, s * cb, cb, u.category_scores, cb);
    // rawEncode hashes brands with the category bucket count too; encodeBatch then folds by bb.
    addBag(out.brandBag, s * bb, bb, u.brand_scores, cb);
  }
  return out;
}

/** rawEncode's keys + encodeBatch's bag sum for one user (weights rounded to float32 first, as RawSample holds them). */
function addBag(bag: Float32Array, at: number, fold: number, scores: readonly { key: string; score: number }[], buckets: number): void {
  forEachKey(scores, buckets, (_, id, weight) => {
    bag[at + (id % fold)] += Math.fround(weight);
  });
}

/**
 * Running mean/variance of the (log1p-transformed) numeric features, merged batch by batch with
 * Chan's parallel formula. The count is capped so that old data fades slowly and the statistics
 * follow a drifting population instead of freezing after the first million samples.
 */
export class RunningNormalizer {
  count = 0;
  readonly mean = new Float64Array(FEATURE_VECTOR_WIDTH);
  readonly m2 = new Float64Array(FEATURE_VECTOR_WIDTH);

  constructor(private readonly maxCount = 100_000) {}

  update(samples: readonly RawSample[]): void {
    const n = samples.length;
    if (n === 0) return;
    const w = FEATURE_VECTOR_WIDTH;
    for (let j = 0; j < w; j++) {
      let bm = 0;
      for (const s of samples) bm += s.numeric[j];
      bm /= n;
      let bm2 = 0;
      for (const s of samples) bm2 += (s.numeric[j] - bm) ** 2;
      const na = this.count;
      const delta = bm - this.mean[j];
      const tot = na + n;
      this.mean[j] = this.mean[j] + (delta * n) / tot;
      this.m2[j] = this.m2[j] + bm2 + (delta * delta * na * n) / tot;
    }
    this.count += n;
    if (this.count > this.maxCount) {
      const f = this.maxCount / this.count;
      for (let j = 0; j < w; j++) this.m2[j] = this.m2[j] * f;
      this.count = this.maxCount;
    }
  }

  state(buckets = DEFAULT_HASH_BUCKETS): NormalizationState {
    return {
      encoding_version: ENCODING_VERSION,
      feature_vector_version: FEATURE_VECTOR_VERSION,
      features: [...FEATURE_VECTOR_NAMES],
      transform: 'log1p',
      count: this.count,
      mean: Array.from(this.mean),
      // Until two samples exist the variance is unknown: 1 keeps the inputs as they are.
      var: Array.from(this.m2, (m) => (this.count > 1 ? m / (this.count - 1) : 1)),
      top_keys: TOP_KEYS,
      category_buckets: buckets,
      brand_buckets: buckets,
    };
  }

  static fromState(s: NormalizationState, maxCount?: number): RunningNormalizer {
    const n = new RunningNormalizer(maxCount);
    n.count = s.count;
    n.mean.set(s.mean);
    n.m2.set(s.var.map((v) => (s.count > 1 ? v * (s.count - 1) : 0)));
    return n;
  }
}

/** Parses and checks `normalization_json`; throws a clear error when it does not fit this code. */
export function parseNormalization(json: string): NormalizationState {
  let s: Partial<NormalizationState>;
  try {
    s = JSON.parse(json) as Partial<NormalizationState>;
  } catch (e) {
    throw new Error(`normalization_json is not JSON: ${(e as Error).message}`);
  }
  if (s.encoding_version !== ENCODING_VERSION) throw new Error(`normalization_json has encoding_version ${String(s.encoding_version)}, this code reads ${ENCODING_VERSION}`);
  if (s.feature_vector_version !== FEATURE_VECTOR_VERSION) {
    throw new Error(`normalization_json has feature_vector_version ${String(s.feature_vector_version)}, this code builds ${FEATURE_VECTOR_VERSION}`);
  }
  if (!Array.isArray(s.mean) || s.mean.length !== FEATURE_VECTOR_WIDTH || !Array.isArray(s.var) || s.var.length !== FEATURE_VECTOR_WIDTH) {
    throw new Error(`normalization_json mean/var must have ${FEATURE_VECTOR_WIDTH} entries`);
  }
  if (s.top_keys !== TOP_KEYS || !s.category_buckets || !s.brand_buckets) throw new Error('normalization_json has an unexpected key hashing layout');
  if (![...s.mean, ...s.var].every((v) => typeof v === 'number' && Number.isFinite(v))) throw new Error('normalization_json holds non-finite statistics');
  return s as NormalizationState;
}
