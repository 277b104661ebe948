import { Codecs, type Features, type ProfileUpdated } from '@app/contracts';
import type { types } from 'avsc';
import { riskBand } from './risk/risk-scorer';

export interface ChangeThresholds {
  /** Relative change of a count or amount: |new - old| / max(|old|, 1). */
  minCountChange: number;
  /** Absolute change of a 0-1 score (risk, propensity, confidence, loyalty, rates). */
  minScoreDelta: number;
  /** Publish anyway when the last published profile is this much older in event time. */
  maxStalenessMs: number;
}

export const DEFAULT_THRESHOLDS: ChangeThresholds = { minCountChange: 0.1, minScoreDelta: 0.05, maxStalenessMs: 3_600_000 };

export const RATE_FEATURES = new Set<keyof Features>(['view_to_cart_rate_30d', 'cart_to_purchase_rate_30d']);
// Times move with every event and say nothing material by themselves.
export const IGNORED_FEATURES = new Set<keyof Features>(['last_event_at', 'first_event_at', 'hour_histogram_30d', 'days_since_last_purchase', 'avg_events_per_session_30d']);

/** Every field of the Avro `Features` record, in schema order (the order for-in sees). */
export const FEATURE_FIELDS: readonly string[] = ((Codecs.UserFeatures.type as types.RecordType).field('features').type as types.RecordType).fields.map((f) => f.name);

type FeatureComparer = (a: Features, b: Features, t: ChangeThresholds, why: string[]) => void;

/**
 * The features part of materialChanges, per field of the schema except IGNORED_FEATURES:
 *   - not both numbers (null, missing): material when one is null and the other not;
 *   - a rate (RATE_FEATURES): material when it moved by minScoreDelta;
 *   - a count or amount: material when it moved by minCountChange relative to max(|old|, 1).
 * Built once as straight-line code with named property reads: the for-in loop with
 * `prev.features[k]` it replaces made two megamorphic keyed loads per feature and was ~4 % of the
 * publisher's cpu in bench:publish. change-detector.spec.ts checks it against that loop.
 */
const compareFeatures: FeatureComparer = (() => {
  // The names come from our own schema file (Avro names are identifiers), never from input.
  if (!FEATURE_FIELDS.every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) throw new Error('feature names must be identifiers');
  const body = FEATURE_FIELDS.filter((k) => !IGNORED_FEATURES.has(k as keyof Features))
    .map((k) => {
      const moved = RATE_FEATURES.has(k as keyof Features)
        ? 'Math.abs(y - x) >= t.minScoreDelta'
        : 'x !== y && Math.abs(y - x) / Math.max(Math.abs(x), 1) >= t.minCountChange';
      return `{ const x = a.${k}, y = b.${k};
  if (typeof x !== 'number' || typeof y !== 'number') { if ((x === null) !== (y === null)) why.push('features.${k}'); }
  else if (${moved}) why.push('features.${k}'); }`;
    })
    .join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('a', 'b', 't', 'why', body) as FeatureComparer;
})();

/**
 * Why `next` is worth publishing against the last published profile (empty = not material),
 * so a busy user whose counts creep up by one event at a time does not flood the topic, while a
 * first purchase, a new segment, a changed attribute or a risk band change always goes out.
 */
export function materialChanges(prev: ProfileUpdated | undefined, next: ProfileUpdated, t: ChangeThresholds): string[] {
  if (!prev) return ['new_profile'];
  const why: string[] = [];
  const score = (a: number | null, b: number | null) => (a === null) !== (b === null) || (a !== null && b !== null && Math.abs(b - a) >= t.minScoreDelta);

  compareFeatures(prev.features, next.features, t, why);
  if ((prev.features.days_since_last_purchase === null) !== (next.features.days_since_last_purchase === null)) why.push('features.days_since_last_purchase');

  if (prev.model_version === null && next.model_version !== null) why.push('model_version');
  if (score(prev.predictions.purchase_propensity_24h, next.predictions.purchase_propensity_24h)) why.push('predictions.purchase_propensity_24h');
  if (!sameKeys(prev.predictions.next_categories, next.predictions.next_categories, 3)) why.push('predictions.next_categories');

  const attribute = (n: string) => {
    const a = prev.attributes[n];
    const b = next.attributes[n];
    if (a?.value !== b?.value || a?.source !== b?.source) why.push(`attributes.${n}`);
    else if (score(a?.confidence ?? null, b?.confidence ?? null)) why.push(`attributes.${n}.confidence`);
  };
  for (const n in prev.attributes) attribute(n);
  for (const n in next.attributes) if (!Object.prototype.hasOwnProperty.call(prev.attributes, n)) attribute(n);

  if (!sameKeys(prev.interests.categories, next.interests.categories, 3)) why.push('interests.categories');
  if (!sameKeys(prev.interests.brands, next.interests.brands, 3)) why.push('interests.brands');
  if (prev.preferences.price_sensitivity !== next.preferences.price_sensitivity) why.push('preferences.price_sensitivity');
  if (score(prev.preferences.brand_loyalty, next.preferences.brand_loyalty)) why.push('preferences.brand_loyalty');
  if (prev.preferences.preferred_hours[0] !== next.preferences.preferred_hours[0]) why.push('preferences.preferred_hours');
  if (prev.recommendation_seeds[0]?.category !== next.recommendation_seeds[0]?.category) why.push('recommendation_seeds');

  if (!sameList(prev.segments, next.segments)) why.push('segments');
  if (riskBand(prev.risk.score) !== riskBand(next.risk.score)) why.push('risk.band');
  else if (Math.abs(prev.risk.score - next.risk.score) >= t.minScoreDelta) why.push('risk.score');

  if (why.length === 0 && next.as_of - prev.as_of >= t.maxStalenessMs) why.push('stale');
  return why;
}

/** The first n keys of both lists are the same, in the same order. */
function sameKeys(a: readonly { key: string }[], b: readonly { key: string }[], n: number): boolean {
  const m = Math.min(n, a.length);
  if (m !== Math.min(n, b.length)) return false;
  for (let i = 0; i < m; i++) if (a[i].key !== b[i].key) return false;
  return true;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
