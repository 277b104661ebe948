import type { ClickEventInput } from '@app/contracts';
import type { CanonicalEventJson } from '../canonical-event';

const STRING_FIELDS = [
  'user_id',
  'anonymous_id',
  'session_id',
  'item_id',
  'category',
  'brand',
  'currency',
  'query',
  'target_user_id',
  'device',
  'os',
  'city',
  'region',
  'country',
  'ip',
  'user_agent',
  'referrer',
  'source',
] as const;
const KNOWN = new Set<string>([...STRING_FIELDS, 'event_id', 'event_type', 'ts', 'price', 'quantity', 'rating', 'properties', 'backfill', 'ingested_at']);
const INT32_MAX = 2 ** 31 - 1;

export type ConversionResult = { ok: true; value: ClickEventInput } | { ok: false; reason: string };

function asString(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function asNumber(v: unknown): number | null | undefined {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Canonical JSON → the raw `ClickEvent` Avro value for clickstream.raw.v1. Judging the values is
 * the ingestor's job (it validates the raw topic and dead-letters what fails); this only makes
 * them encodable: ids as strings, `ts` as epoch ms, numbers as numbers, extra top-level fields
 * into `properties` as strings. A value that cannot be carried at all is a local error.
 */
export function toClickEventInput(e: CanonicalEventJson, tsMs: number, defaults: { source?: string; backfill?: boolean } = {}): ConversionResult {
  const raw = e as unknown as Record<string, unknown>;
  const eventId = asString(raw.event_id);
  if (!eventId) return { ok: false, reason: 'event_id: missing or not a string' };
  const eventType = asString(raw.event_type);
  if (eventType === undefined || eventType === null) return { ok: false, reason: 'event_type: missing or not a string' };
  if (!Number.isSafeInteger(tsMs)) return { ok: false, reason: `ts: not epoch ms (${tsMs})` };
  const str: Record<string, string | null> = {};
  for (const f of STRING_FIELDS) {
    const v = raw[f];
    const x = v === undefined || v === null ? null : typeof v === 'string' ? v : asString(v);
    if (x === undefined) return { ok: false, reason: `${f}: not a string` };
    str[f] = x;
  }
  const price = asNumber(raw.price);
  if (price === undefined) return { ok: false, reason: 'price: not a number' };
  const quantity = asNumber(raw.quantity);
  if (quantity === undefined || (quantity !== null && (!Number.isInteger(quantity) || Math.abs(quantity) > INT32_MAX))) {
    return { ok: false, reason: 'quantity: not a 32-bit integer' };
  }
  const rating = asNumber(raw.rating);
  if (rating === undefined || (rating !== null && (!Number.isInteger(rating) || Math.abs(rating) > INT32_MAX))) {
    return { ok: false, reason: 'rating: not a 32-bit integer' };
  }
  const properties: Record<string, string> = {};
  const props = raw.properties;
  if (props !== undefined && props !== null) {
    if (typeof props !== 'object' || Array.isArray(props)) return { ok: false, reason: 'properties: not an object' };
    for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      properties[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  for (const k in raw) {
    if (KNOWN.has(k)) continue;
    const v = raw[k];
    if (v === undefined || k in properties) continue;
    properties[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  // One literal in schema order: a stable object shape is much faster to build and encode.
  const value: ClickEventInput = {
    event_id: eventId,
    user_id: str.user_id,
    anonymous_id: str.anonymous_id,
    session_id: str.session_id,
    event_type: eventType,
    ts: tsMs,
    item_id: str.item_id,
    category: str.category,
    brand: str.brand,
    price,
    currency: str.currency,
    quantity,
    rating,
    query: str.query,
    target_user_id: str.target_user_id,
    device: str.device,
    os: str.os,
    city: str.city,
    region: str.region,
    country: str.country,
    ip: str.ip,
    user_agent: str.user_agent,
    referrer: str.referrer,
    properties,
    ingested_at: null,
    source: str.source ?? defaults.source ?? null,
    backfill: raw.backfill === true || defaults.backfill === true,
  };
  return { ok: true, value };
}
