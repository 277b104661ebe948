import type { ClickEventInput } from '@app/contracts';

/**
 * The canonical event in its JSON form (CONTRACTS.md "Canonical event"): the HTTP body, the
 * lines of a canonical NDJSON file, and what the generator and importers produce. Optional
 * fields are left out rather than set to null so NDJSON stays small.
 */
export interface CanonicalEventJson {
  event_id: string;
  user_id?: string;
  anonymous_id?: string;
  session_id?: string;
  event_type: string;
  /** ISO-8601 with zone, or epoch milliseconds. The generator and importers emit epoch ms. */
  ts: string | number;
  item_id?: string;
  category?: string;
  brand?: string;
  price?: number;
  currency?: string;
  quantity?: number;
  rating?: number;
  query?: string;
  target_user_id?: string;
  device?: string;
  os?: string;
  city?: string;
  region?: string;
  country?: string;
  ip?: string;
  user_agent?: string;
  referrer?: string;
  properties?: Record<string, string>;
  /** Where the event comes from (e.g. `replay:jdata`); the ingestor keeps a producer-declared source. */
  source?: string;
  /** Historical event replayed from a dataset. */
  backfill?: boolean;
}

/** The twelve canonical event types, in funnel-ish order. */
export const EVENT_TYPES = [
  'view',
  'click',
  'search',
  'cart_add',
  'cart_remove',
  'favorite',
  'purchase',
  'review',
  'follow',
  'like',
  'comment',
  'share',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** A user's known attribute values, as read from a labels file or emitted by the generator. */
export interface LabelRow {
  user_id: string;
  /** Attribute name → value; null = unknown (masked out of training). */
  attributes: Record<string, string | null>;
}

/** A canonical event as the raw Avro record a producer would publish (ingest fields unset). */
export function toRawClickEvent(e: CanonicalEventJson): ClickEventInput {
  const ts = typeof e.ts === 'number' ? e.ts : Date.parse(e.ts);
  return {
    event_id: e.event_id,
    user_id: e.user_id ?? null,
    anonymous_id: e.anonymous_id ?? null,
    session_id: e.session_id ?? null,
    event_type: e.event_type,
    ts,
    item_id: e.item_id ?? null,
    category: e.category ?? null,
    brand: e.brand ?? null,
    price: e.price ?? null,
    currency: e.currency ?? null,
    quantity: e.quantity ?? null,
    rating: e.rating ?? null,
    query: e.query ?? null,
    target_user_id: e.target_user_id ?? null,
    device: e.device ?? null,
    os: e.os ?? null,
    city: e.city ?? null,
    region: e.region ?? null,
    country: e.country ?? null,
    ip: e.ip ?? null,
    user_agent: e.user_agent ?? null,
    referrer: e.referrer ?? null,
    properties: e.properties ?? {},
  };
}
