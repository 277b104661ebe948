import type { ProfileUpdated, UserFeatures } from '@app/contracts';

export interface Prediction {
  modelVersion: string;
  purchasePropensity: number | null;
}

/**
 * Builds a user's profile from their latest features and the model's predictions, and says which
 * top-level sections changed against the previous profile (walking-skeleton form).
 */
export function assembleProfile(
  f: UserFeatures,
  previous: ProfileUpdated | undefined,
  prediction: Prediction | null,
  now = Date.now(),
): ProfileUpdated {
  const features = f.features;
  const next: ProfileUpdated = {
    user_id: f.user_id,
    version: (previous?.version ?? 0) + 1,
    as_of: f.as_of,
    computed_at: now,
    model_version: prediction?.modelVersion ?? null,
    attributes: previous?.attributes ?? {},
    features,
    predictions: { purchase_propensity_24h: prediction?.purchasePropensity ?? null, next_categories: [] },
    interests: { categories: f.category_scores.slice(0, 10), brands: f.brand_scores.slice(0, 10) },
    preferences: { price_sensitivity: null, price_ratio: null, brand_loyalty: null, preferred_hours: topHours(features.hour_histogram_30d) },
    social: {
      follows_30d: features.follows_30d,
      likes_30d: features.likes_30d,
      comments_30d: features.comments_30d,
      reviews_30d: features.reviews_30d,
      shares_30d: features.shares_30d,
      avg_rating: features.avg_rating_30d,
    },
    recommendation_seeds: [],
    segments: [],
    risk: { score: 0, reasons: [] },
    freshness: { features: f.as_of, ingested: f.ingested_at },
    changed_fields: [],
  };
  next.changed_fields = changedSections(previous, next);
  return next;
}

const SECTIONS = ['attributes', 'features', 'predictions', 'interests', 'preferences', 'social', 'recommendation_seeds', 'segments', 'risk'] as const;

export function changedSections(prev: ProfileUpdated | undefined, next: ProfileUpdated): string[] {
  if (!prev) return [...SECTIONS];
  return SECTIONS.filter((s) => JSON.stringify(prev[s]) !== JSON.stringify(next[s]));
}

function topHours(hist: readonly number[], n = 3): number[] {
  return hist
    .map((c, h) => [c, h] as const)
    .filter(([c]) => c > 0)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, n)
    .map(([, h]) => h);
}
