import type { UserFeatures } from '@app/contracts';

/**
 * Risk score for risk control: each behavioural signal maps to a strength in [0, 1] with a
 * saturating ramp between a "normal" and a "clearly abnormal" level, is weighted, and the
 * signals combine like independent pieces of evidence: score = 1 - Π (1 - weight × strength).
 * One strong signal alone gives at most its weight; several together push the score towards 1.
 * Thresholds and weights are documented per signal in docs/profiles.md.
 */
export interface RiskAssessment {
  score: number;
  band: RiskBand;
  /** Reasons of the active signals, strongest (weight × strength) first. */
  reasons: string[];
}

export type RiskBand = 'low' | 'medium' | 'high';

export function riskBand(score: number): RiskBand {
  return score >= 0.7 ? 'high' : score >= 0.3 ? 'medium' : 'low';
}

/** 0 at or below `from`, 1 at or above `to`, linear between. */
function ramp(x: number, from: number, to: number): number {
  if (!(x > from)) return 0;
  return x >= to ? 1 : (x - from) / (to - from);
}

interface SignalDefinition {
  name: string;
  weight: number;
  strength(f: UserFeatures): number;
  /** Human-readable evidence, formatted only for active signals. */
  reason(f: UserFeatures): string;
}

/**
 * The signals, defined once (the scorer runs for every profile computation: building them per call
 * with closures was ~10 % of the publisher's allocations in bench:publish).
 */
const SIGNALS: readonly SignalDefinition[] = [
  {
    name: 'event_velocity',
    weight: 0.7,
    strength: (f) => ramp(f.features.max_events_per_minute_24h, 20, 60),
    reason: (f) => `${f.features.max_events_per_minute_24h} events in one minute (normal ≤ 20)`,
  },
  {
    name: 'views_without_dwell',
    weight: 0.55,
    // A handful of quick views is normal skimming; the ratio only counts with enough views.
    strength: (f) => (f.features.views_24h >= 10 ? ramp(f.activity.views_without_dwell_ratio, 0.5, 0.9) : 0),
    reason: (f) => `${Math.round(f.activity.views_without_dwell_ratio * 100)}% of ${f.features.views_24h} views in 24 h left within 1 s`,
  },
  {
    name: 'cart_burst',
    weight: 0.5,
    strength: (f) => ramp(f.activity.cart_adds_1h, 10, 30),
    reason: (f) => `${f.activity.cart_adds_1h} cart additions in 1 h (normal ≤ 10)`,
  },
  {
    name: 'purchase_burst',
    weight: 0.5,
    strength: (f) => ramp(f.activity.purchases_1h, 3, 10),
    reason: (f) => `${f.activity.purchases_1h} purchases in 1 h (normal ≤ 3)`,
  },
  {
    name: 'review_burst',
    weight: 0.6,
    strength: (f) => ramp(f.activity.reviews_24h, 3, 15),
    reason: (f) => `${f.activity.reviews_24h} reviews in 24 h (normal ≤ 3)`,
  },
  {
    name: 'identical_sessions',
    weight: 0.5,
    strength: (f) => (f.features.sessions_30d >= 3 ? ramp(f.activity.identical_session_ratio, 0.3, 0.8) : 0),
    reason: (f) => `${Math.round(f.activity.identical_session_ratio * 100)}% of ${f.features.sessions_30d} sessions repeat another exactly`,
  },
  {
    name: 'follow_like_farming',
    weight: 0.55,
    strength: (f) => ramp(f.activity.follows_24h + f.activity.likes_24h, 30, 150),
    reason: (f) => `${f.activity.follows_24h} follows and ${f.activity.likes_24h} likes in 24 h (normal ≤ 30 together)`,
  },
];

const NO_REASONS: readonly string[] = Object.freeze([]);

export function assessRisk(f: UserFeatures): RiskAssessment {
  let clean = 1;
  let active: { evidence: number; reason: string }[] | null = null;
  for (const s of SIGNALS) {
    const strength = s.strength(f);
    if (strength <= 0) continue;
    clean *= 1 - s.weight * strength;
    (active ??= []).push({ evidence: s.weight * strength, reason: s.reason(f) });
  }
  const score = round(1 - clean, 4);
  // Most users have no active signal: one shared empty list (callers copy before changing it).
  const reasons = active === null ? (NO_REASONS as string[]) : active.sort((x, y) => y.evidence - x.evidence).map((a) => a.reason);
  return { score, band: riskBand(score), reasons };
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}
