import type { UserFeatures } from '@app/contracts';

/** A UserFeatures message with zero features except `overrides` (tests and benchmarks). */
export function userFeatures(userId: string, overrides: Partial<UserFeatures['features']> = {}, asOf = 1_700_000_000_000): UserFeatures {
  const zero = {
    views_1h: 0, views_24h: 0, views_7d: 0, views_30d: 0, clicks_24h: 0, clicks_7d: 0, clicks_30d: 0, cart_adds_24h: 0, cart_adds_7d: 0,
    cart_adds_30d: 0, cart_removes_30d: 0, favorites_30d: 0, purchases_24h: 0, purchases_7d: 0, purchases_30d: 0, spend_30d: 0,
    distinct_items_30d: 0, distinct_categories_30d: 0, active_days_30d: 0, last_event_at: asOf, first_event_at: asOf, sessions_30d: 0,
    avg_events_per_session_30d: 0, view_to_cart_rate_30d: 0, cart_to_purchase_rate_30d: 0, days_since_last_purchase: null, searches_30d: 0,
    shares_30d: 0, follows_30d: 0, likes_30d: 0, comments_30d: 0, reviews_30d: 0, avg_rating_30d: null, hour_histogram_30d: [],
    max_events_per_minute_24h: 0, events_24h: 0, distinct_sessions_24h: 0,
  };
  return {
    user_id: userId, as_of: asOf, ingested_at: asOf, emitted_at: asOf, event_count: 1,
    features: { ...zero, ...overrides },
    category_scores: [{ key: 'phones', score: 2 }, { key: 'cases', score: 1 }],
    brand_scores: [{ key: 'acme', score: 1 }],
    category_prices: [],
    activity: { identical_session_ratio: 0, views_without_dwell_ratio: 0, reviews_24h: 0, cart_adds_1h: 0, purchases_1h: 0, follows_24h: 0, likes_24h: 0 },
  };
}

