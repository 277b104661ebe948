import type { ProfileUpdated, UserFeatures } from '@app/contracts';
import { topIndices } from '@app/model';
import { ChangeThresholds, materialChanges } from './change-detector';
import type { ProfilePrediction } from './inference/profile-model';
import { assessRisk, riskBand } from './risk/risk-scorer';
import { RULE_ROOTS, type SegmentDefinition } from './segments/segment-rules';

/** Known attribute values of one user (null = unknown) and when they were known to hold. */
export interface KnownAttributes {
  values: Record<string, string | null>;
  observedAt: number;
}

export interface AssemblyInput {
  features: UserFeatures;
  previous: ProfileUpdated | undefined;
  prediction: ProfilePrediction | null;
  modelVersion: string | null;
  known: KnownAttributes | undefined;
  segments: readonly SegmentDefinition[];
  now: number;
}

const DAY_MS = 86_400_000;
const TOP_INTERESTS = 10;
const MAX_SEEDS = 5;

/** Sections of a profile that changed_fields and freshness speak about. */
export const SECTIONS = [
  'attributes',
  'features',
  'predictions',
  'interests',
  'preferences',
  'social',
  'recommendation_seeds',
  'segments',
  'risk',
] as const;

/**
 * Builds a user's full profile from their latest features, known attributes and the model's
 * predictions (pure: no I/O). `version` is the previous version + 1; whether the result is worth
 * publishing is decided separately (change-detector.ts).
 */
export function assembleProfile(input: AssemblyInput): ProfileUpdated {
  const profile = buildProfile(input);
  profile.changed_fields = changedFields(input.previous, profile);
  return profile;
}

/**
 * The next version of a user's profile when it is worth publishing (material changes against the
 * last published one, change-detector.ts), else null. `changed_fields` — a deep comparison of every
 * section — is computed only for the profiles that go out (about a third of the inputs for busy
 * users, see bench:publish), not for every input.
 */
export function profileUpdate(input: AssemblyInput, thresholds: ChangeThresholds): ProfileUpdated | null {
  const profile = buildProfile(input);
  if (materialChanges(input.previous, profile, thresholds).length === 0) return null;
  profile.changed_fields = changedFields(input.previous, profile);
  return profile;
}

/** Everything but `changed_fields`. */
function buildProfile(input: AssemblyInput): ProfileUpdated {
  const { features: f, previous, known, now } = input;
  // Without a fresh prediction the previous one stays, still stamped with the version that made it.
  const carried = input.prediction === null && previous?.model_version ? previous : undefined;
  const modelVersion = input.prediction ? input.modelVersion : (carried?.model_version ?? null);
  const predictions: ProfileUpdated['predictions'] = input.prediction
    ? {
        purchase_propensity_24h: round(input.prediction.purchasePropensity, 4),
        next_categories: roundedScores(input.prediction.nextCategories, input.prediction.nextCategories.length),
      }
    : (carried?.predictions ?? { purchase_propensity_24h: null, next_categories: [] });

  const attributes = buildAttributes(known, input.prediction, carried);
  const risk = assessRisk(f);
  const profile: ProfileUpdated = {
    user_id: f.user_id,
    version: (previous?.version ?? 0) + 1,
    as_of: f.as_of,
    computed_at: now,
    model_version: modelVersion,
    attributes,
    features: f.features,
    predictions,
    interests: {
      categories: roundedScores(f.category_scores, TOP_INTERESTS),
      brands: roundedScores(f.brand_scores, TOP_INTERESTS),
    },
    preferences: {
      price_sensitivity: null,
      price_ratio: priceRatio(f),
      brand_loyalty: brandLoyalty(f),
      preferred_hours: topHours(f.features.hour_histogram_30d),
    },
    social: {
      follows_30d: f.features.follows_30d,
      likes_30d: f.features.likes_30d,
      comments_30d: f.features.comments_30d,
      reviews_30d: f.features.reviews_30d,
      shares_30d: f.features.shares_30d,
      avg_rating: f.features.avg_rating_30d,
    },
    recommendation_seeds: recommendationSeeds(f, predictions),
    segments: [],
    risk: { score: risk.score, reasons: risk.reasons },
    freshness: {},
    changed_fields: [],
  };
  profile.preferences.price_sensitivity = priceBand(profile.preferences.price_ratio);
  profile.segments = segmentsOf(input.segments, segmentContext(profile));
  profile.freshness = freshness(profile, f, known, input.prediction !== null, carried ?? previous);
  return profile;
}

function buildAttributes(
  known: KnownAttributes | undefined,
  prediction: ProfilePrediction | null,
  carried: ProfileUpdated | undefined,
): ProfileUpdated['attributes'] {
  const out: ProfileUpdated['attributes'] = {};
  if (prediction) {
    // for-in over own data properties (the prediction objects are plain literals): no entry arrays.
    for (const name in prediction.attributes) {
      const p = prediction.attributes[name];
      const distribution: Record<string, number> = {};
      for (const cls in p.distribution) distribution[cls] = round(p.distribution[cls], 4) ?? 0;
      out[name] = { value: p.value, source: 'predicted', confidence: round(p.confidence, 4), distribution };
    }
  } else if (carried) {
    for (const [name, a] of Object.entries(carried.attributes)) if (a.source === 'predicted') out[name] = a;
  }
  // The shop's own value beats any prediction.
  for (const [name, value] of Object.entries(known?.values ?? {})) {
    if (value !== null) out[name] = { value, source: 'known', confidence: null, distribution: {} };
  }
  return sortKeys(out);
}

/**
 * Purchased vs viewed unit price, averaged over the categories where the user did both, weighted
 * by the purchases behind it. Below 1: buys cheaper than what they browse (price sensitive).
 */
export function priceRatio(f: UserFeatures): number | null {
  let num = 0;
  let den = 0;
  for (const c of f.category_prices) {
    if (c.avg_view_price && c.avg_view_price > 0 && c.avg_purchase_price !== null && c.purchases_with_price > 0) {
      num += (c.avg_purchase_price / c.avg_view_price) * c.purchases_with_price;
      den += c.purchases_with_price;
    }
  }
  return den > 0 ? round(num / den, 4) : null;
}

/** Price-sensitivity band from the price ratio: high < 0.85 ≤ medium ≤ 1.05 < low. */
export function priceBand(ratio: number | null): string | null {
  if (ratio === null) return null;
  return ratio < 0.85 ? 'high' : ratio <= 1.05 ? 'medium' : 'low';
}

/**
 * Brand loyalty 0-1: the Herfindahl-Hirschman index of the decayed brand interest, normalised
 * so one brand = 1 and an even spread over n brands = 0. Null without brand data; with a
 * single brand seen it is 1.
 */
export function brandLoyalty(f: UserFeatures): number | null {
  let n = 0;
  let total = 0;
  let squares = 0;
  for (const b of f.brand_scores) {
    if (!(b.score > 0)) continue;
    n++;
    total += b.score;
    squares += b.score * b.score;
  }
  if (n === 0 || total <= 0) return null;
  if (n === 1) return 1;
  const hhi = squares / (total * total); // Σ (s / total)²
  return round((hhi - 1 / n) / (1 - 1 / n), 4);
}

/** The n busiest hours (count > 0), busiest first, earlier hour first on ties. */
export function topHours(hist: readonly number[], n = 3): number[] {
  return topIndices(hist, n, 0, hist.length, (c) => c > 0);
}

/**
 * Categories to recommend from, strongest first, each with the reason that put it there:
 * `predicted_next` (the model expects interest in the next 24 h), `recent_interest` (high decayed
 * interest, score relative to the top category), `viewed_not_bought` (browsed with prices, no
 * purchase yet), `repeat_purchase` (bought there before).
 */
export function recommendationSeeds(f: UserFeatures, predictions: ProfileUpdated['predictions']): ProfileUpdated['recommendation_seeds'] {
  // A handful of candidates: a list searched linearly (no Map, entries or iterators per profile).
  const best: ProfileUpdated['recommendation_seeds'] = [];
  const offer = (category: string, reason: string, score: number) => {
    const s = round(score, 4) ?? 0;
    for (const cur of best) {
      if (cur.category !== category) continue;
      if (s > cur.score) [cur.reason, cur.score] = [reason, s];
      return;
    }
    best.push({ category, reason, score: s });
  };
  for (const n of predictions.next_categories) if (n.score >= 0.2) offer(n.key, 'predicted_next', n.score);
  const top = f.category_scores[0]?.score ?? 0;
  if (top > 0) for (let i = 0; i < 3 && i < f.category_scores.length; i++) offer(f.category_scores[i].key, 'recent_interest', (0.9 * f.category_scores[i].score) / top);
  for (const c of f.category_prices) {
    if (c.views_with_price >= 3 && c.purchases_with_price === 0) offer(c.category, 'viewed_not_bought', Math.min(0.6, 0.1 * c.views_with_price));
    else if (c.purchases_with_price > 0) offer(c.category, 'repeat_purchase', 0.4);
  }
  sortInPlace(best, seedBefore);
  if (best.length > MAX_SEEDS) best.length = MAX_SEEDS;
  return best;
}

/** Higher score first; on ties the category in localeCompare order. */
function seedBefore(a: { category: string; score: number }, b: { category: string; score: number }): boolean {
  return a.score > b.score || (a.score === b.score && a.category.localeCompare(b.category) < 0);
}

const byName = new WeakMap<readonly SegmentDefinition[], readonly SegmentDefinition[]>();

/** Names of the segments whose rule holds, sorted (definitions sorted once per rule set). */
function segmentsOf(definitions: readonly SegmentDefinition[], ctx: object): string[] {
  let sorted = byName.get(definitions);
  if (!sorted) {
    sorted = [...definitions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    byName.set(definitions, sorted);
  }
  const out: string[] = [];
  for (const s of sorted) if (s.test(ctx)) out.push(s.name);
  return out;
}

/** What segment rules see: the profile plus a few derived values (docs/profiles.md). */
export function segmentContext(p: ProfileUpdated): Record<(typeof RULE_ROOTS)[number], unknown> {
  // Exactly the roots a rule may read (RULE_ROOTS), as one fixed-shape literal: spreading the
  // whole profile per computation was ~5 % of the publisher's cpu in bench:publish.
  return {
    attributes: p.attributes,
    features: p.features,
    predictions: p.predictions,
    interests: p.interests,
    preferences: p.preferences,
    social: p.social,
    risk: p.risk,
    segments: p.segments,
    model_version: p.model_version,
    derived: {
      account_age_days: Math.max(0, (p.as_of - p.features.first_event_at) / DAY_MS),
      risk_band: riskBand(p.risk.score),
      top_category: p.interests.categories[0]?.key ?? null,
      top_brand: p.interests.brands[0]?.key ?? null,
    },
  };
}

function freshness(
  p: ProfileUpdated,
  f: UserFeatures,
  known: KnownAttributes | undefined,
  predictedNow: boolean,
  previous: ProfileUpdated | undefined,
): Record<string, number> {
  const predictedAt = predictedNow ? f.as_of : (previous?.freshness.predictions ?? null);
  const out: Record<string, number> = {
    features: f.as_of,
    interests: f.as_of,
    preferences: f.as_of,
    social: f.as_of,
    recommendation_seeds: f.as_of,
    segments: f.as_of,
    risk: f.as_of,
    ingested: f.ingested_at,
  };
  if (predictedAt !== null && p.model_version !== null) out.predictions = predictedAt;
  let anyPredicted = false;
  for (const n in p.attributes) if (p.attributes[n].source === 'predicted') anyPredicted = true;
  let attrAt = known ? known.observedAt : -Infinity;
  if (anyPredicted && predictedAt !== null) attrAt = Math.max(attrAt, predictedAt);
  if (Number.isFinite(attrAt)) out.attributes = attrAt;
  return out;
}

/** Sections that changed, plus `attributes.<name>` and `segments.<name>` paths for finer consumers. */
export function changedFields(prev: ProfileUpdated | undefined, next: ProfileUpdated): string[] {
  if (!prev) return [...SECTIONS];
  const out: string[] = [];
  for (const s of SECTIONS) {
    if (!sameValue(prev[s], next[s])) out.push(s);
  }
  // Attribute and segment names: a few each, so nested loops over the lists themselves (no sets,
  // key arrays or sorted unions per published profile); the paths are sorted at the end.
  const attrFrom = out.length;
  const attributeChanged = (n: string) => {
    const a = prev.attributes[n];
    const b = next.attributes[n];
    if (a?.value !== b?.value || a?.source !== b?.source) out.push(`attributes.${n}`);
  };
  for (const n in prev.attributes) attributeChanged(n);
  for (const n in next.attributes) if (!Object.prototype.hasOwnProperty.call(prev.attributes, n)) attributeChanged(n);
  sortInPlace(out, textBefore, attrFrom);
  const segFrom = out.length;
  for (const s of prev.segments) if (!next.segments.includes(s)) out.push(`segments.${s}`);
  for (const s of next.segments) if (!prev.segments.includes(s)) out.push(`segments.${s}`);
  sortInPlace(out, textBefore, segFrom);
  return out;
}

/**
 * Sorts xs[from..] in place, stable, by `before`. An insertion sort for the few entries of the
 * per-profile lists (seeds, changed paths): Array.prototype.sort copies the array into a work
 * list on every call (~300 MB per bench:publish run).
 */
function sortInPlace<T>(xs: T[], before: (a: T, b: T) => boolean, from = 0): void {
  for (let i = from + 1; i < xs.length; i++) {
    const cur = xs[i];
    let j = i;
    while (j > from && before(cur, xs[j - 1])) {
      xs[j] = xs[j - 1];
      j--;
    }
    xs[j] = cur;
  }
}

const textBefore = (a: string, b: string) => a < b;

/** Structural equality of JSON-like values (the hot path: no serialisation). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // for-in over plain JSON-like objects (V8's enum cache): no key arrays per comparison.
  let na = 0;
  for (const k in a) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    na++;
  }
  let nb = 0;
  for (const _ in b) nb++;
  return na === nb;
}

/** The first n scores, rounded to 4 digits (one array, no intermediate slice). */
function roundedScores(src: readonly { key: string; score: number }[], n: number): { key: string; score: number }[] {
  const out: { key: string; score: number }[] = [];
  for (let i = 0; i < n && i < src.length; i++) out.push({ key: src[i].key, score: round(src[i].score, 4) ?? 0 });
  return out;
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

function round(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const m = POW10[digits] ?? 10 ** digits;
  return Math.round(x * m) / m;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  // Often already in order (e.g. known attributes only): then no key array and no copy.
  let prev: string | null = null;
  let sorted = true;
  for (const k in o) {
    if (prev !== null && k < prev) {
      sorted = false;
      break;
    }
    prev = k;
  }
  if (sorted) return o;
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/**
 * A new version of an existing profile without new features: known attributes changed
 * (user.attributes.v1) or the segment rules were reloaded. Predictions already in the profile are
 * kept; known values override them; segments are evaluated again.
 */
export function reviseProfile(
  prev: ProfileUpdated,
  known: KnownAttributes | undefined,
  segments: readonly SegmentDefinition[],
  now: number,
): ProfileUpdated {
  const attributes: ProfileUpdated['attributes'] = {};
  for (const [name, a] of Object.entries(prev.attributes)) if (a.source === 'predicted') attributes[name] = a;
  for (const [name, value] of Object.entries(known?.values ?? {})) {
    if (value !== null) attributes[name] = { value, source: 'known', confidence: null, distribution: {} };
  }
  const next: ProfileUpdated = { ...prev, version: prev.version + 1, computed_at: now, attributes: sortKeys(attributes), changed_fields: [] };
  next.segments = segmentsOf(segments, segmentContext(next));
  const freshness: Record<string, number> = { ...prev.freshness, segments: Math.max(prev.freshness.segments ?? 0, prev.as_of) };
  if (known) freshness.attributes = Math.max(prev.freshness.attributes ?? 0, known.observedAt);
  next.freshness = freshness;
  next.changed_fields = changedFields(prev, next);
  return next;
}
