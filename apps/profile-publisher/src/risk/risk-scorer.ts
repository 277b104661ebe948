import type { UserFeatures } from '@app/contracts';

/**
 * Risk score for risk control: each behavioural signal maps to a strength in [0, 1] with a
 * saturating ramp between a "normal" and a "clearly abnormal" level, is weighted, and the
 * signals combine like independent pieces of evidence: score = 1 - Π (1 - weight × strength).
 * One strong signal alone gives at most its weight; several together push the score towards 1.
 * Thresholds and weights are documented per signal in docs/profiles.md.
 */
export interface RiskSignal {
  name: string;
  weight: number;
  strength: number;
  /** Human-readable evidence; only for active signals (strength > 0), '' otherwise. */
  reason: string;
}

/** Reasons are texts built for every profile computation: only the active signals' are formatted. */
interface SignalDraft {
  name: string;
  weight: number;
  strength: number;
  reason: () => string;
}

export interface RiskAssessment {
  score: number;
  band: RiskBand;
  reasons: string[];
  signals: RiskSignal[];
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

export function assessRisk(f: UserFeatures): RiskAssessment {
  const a = f.activity;
  const ft = f.features;
  const drafts: SignalDraft[] = [
    {
      name: 'event_velocity',
      weight: 0.7,
      strength: ramp(ft.max_events_per_minute_24h, 20, 60),
      reason: () => `${ft.max_events_per_minute_24h} events in one minute (normal ≤ 20)`,
    },
    {
      name: 'views_without_dwell',
      weight: 0.55,
      // A handful of quick views is normal skimming; the ratio only counts with enough views.
      strength: ft.views_24h >= 10 ? ramp(a.views_without_dwell_ratio, 0.5, 0.9) : 0,
      reason: () => `${Math.round(a.views_without_dwell_ratio * 100)}% of ${ft.views_24h} views in 24 h left within 1 s`,
    },
    {
      name: 'cart_burst',
      weight: 0.5,
      strength: ramp(a.cart_adds_1h, 10, 30),
      reason: () => `${a.cart_adds_1h} cart additions in 1 h (normal ≤ 10)`,
    },
    {
      name: 'purchase_burst',
      weight: 0.5,
      strength: ramp(a.purchases_1h, 3, 10),
      reason: () => `${a.purchases_1h} purchases in 1 h (normal ≤ 3)`,
    },
    {
      name: 'review_burst',
      weight: 0.6,
      strength: ramp(a.reviews_24h, 3, 15),
      reason: () => `${a.reviews_24h} reviews in 24 h (normal ≤ 3)`,
    },
    {
      name: 'identical_sessions',
      weight: 0.5,
      strength: ft.sessions_30d >= 3 ? ramp(a.identical_session_ratio, 0.3, 0.8) : 0,
      reason: () => `${Math.round(a.identical_session_ratio * 100)}% of ${ft.sessions_30d} sessions repeat another exactly`,
    },
    {
      name: 'follow_like_farming',
      weight: 0.55,
      strength: ramp(a.follows_24h + a.likes_24h, 30, 150),
      reason: () => `${a.follows_24h} follows and ${a.likes_24h} likes in 24 h (normal ≤ 30 together)`,
    },
  ];
  let clean = 1;
  for (const s of drafts) clean *= 1 - s.weight * s.strength;
  const score = round(1 - clean, 4);
  const signals: RiskSignal[] = drafts.map((d) => ({ name: d.name, weight: d.weight, strength: d.strength, reason: d.strength > 0 ? d.reason() : '' }));
  const active = signals.filter((s) => s.strength > 0).sort((x, y) => y.weight * y.strength - x.weight * x.strength);
  return { score, band: riskBand(score), reasons: active.map((s) => s.reason), signals };
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}
