import type { Features } from './generated/types';

/**
 * The core feature names of CONTRACTS.md (Profile -> `features`), in its order. Every one is a
 * field of the Avro `Features` record (a unit test checks); other services' tests use the list to
 * assert they compute all of them.
 */
export const CORE_FEATURE_NAMES = [
  'views_1h',
  'views_24h',
  'views_7d',
  'views_30d',
  'clicks_24h',
  'clicks_7d',
  'clicks_30d',
  'cart_adds_24h',
  'cart_adds_7d',
  'cart_adds_30d',
  'cart_removes_30d',
  'favorites_30d',
  'purchases_24h',
  'purchases_7d',
  'purchases_30d',
  'spend_30d',
  'distinct_items_30d',
  'distinct_categories_30d',
  'active_days_30d',
  'last_event_at',
  'first_event_at',
] as const satisfies ReadonlyArray<keyof Features>;

export type CoreFeatureName = (typeof CORE_FEATURE_NAMES)[number];
