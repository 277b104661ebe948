import type { ClickEvent } from '@app/contracts';

/** Canonical event types and the synonyms producers use (CONTRACTS.md). */
export const EVENT_TYPES = [
  'view', 'click', 'search', 'cart_add', 'cart_remove', 'favorite', 'purchase', 'review', 'follow', 'like', 'comment', 'share',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
const SYNONYMS: Record<string, EventType> = { pv: 'view', buy: 'purchase', cart: 'cart_add', fav: 'favorite' };

export type NormalizeResult = { ok: true; event: ClickEvent } | { ok: false; field: string; reason: string };

const reject = (field: string, reason: string): NormalizeResult => ({ ok: false, field, reason });

function optString(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const t = v.normalize('NFC').trim();
  return t.length > 0 ? t : null;
}

/** Event time: ISO-8601 with a zone, or epoch milliseconds. */
export function parseTs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'string') {
    if (/^\d{10,16}$/.test(v)) return Number(v);
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(v)) return null;
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

/** Validates and normalises one canonical event (JSON form) into a ClickEvent. */
export function normalizeEvent(input: unknown, now = Date.now()): NormalizeResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return reject('(event)', 'must be a JSON object');
  const e = input as Record<string, unknown>;
  const eventId = optString(e.event_id);
  if (!eventId) return reject('event_id', 'required non-empty string');
  const userId = optString(e.user_id);
  const anonymousId = optString(e.anonymous_id);
  if (!userId && !anonymousId) return reject('user_id', 'required unless anonymous_id is given');
  const rawType = optString(e.event_type)?.toLowerCase();
  if (!rawType) return reject('event_type', 'required');
  const eventType = (EVENT_TYPES as readonly string[]).includes(rawType) ? (rawType as EventType) : SYNONYMS[rawType];
  if (!eventType) return reject('event_type', `unknown event type "${rawType.slice(0, 40)}"`);
  const ts = parseTs(e.ts);
  if (ts === null) return reject('ts', 'must be ISO-8601 with a zone or epoch milliseconds');
  if (ts > now + 5 * 60_000) return reject('ts', 'more than 5 minutes in the future');
  const price = e.price === undefined || e.price === null ? null : Number(e.price);
  if (price !== null && (!Number.isFinite(price) || price < 0)) return reject('price', 'must be a number >= 0');
  return {
    ok: true,
    event: {
      event_id: eventId,
      user_id: userId,
      anonymous_id: anonymousId,
      session_id: optString(e.session_id),
      event_type: eventType,
      ts,
      item_id: optString(e.item_id),
      category: optString(e.category),
      brand: optString(e.brand),
      price,
      currency: optString(e.currency),
      quantity: typeof e.quantity === 'number' ? e.quantity : null,
      rating: typeof e.rating === 'number' ? e.rating : null,
      query: optString(e.query),
      target_user_id: optString(e.target_user_id),
      device: optString(e.device),
      os: optString(e.os),
      city: optString(e.city),
      region: optString(e.region),
      country: optString(e.country),
      ip: optString(e.ip),
      user_agent: optString(e.user_agent),
      referrer: optString(e.referrer),
      properties: {},
      ingested_at: now,
      source: 'http',
      backfill: false,
    },
  };
}
