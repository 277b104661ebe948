import type { ClickEvent } from '@app/contracts';

/** Canonical event types (CONTRACTS.md). */
export const EVENT_TYPES = [
  'view', 'click', 'search', 'cart_add', 'cart_remove', 'favorite', 'purchase', 'review', 'follow', 'like', 'comment', 'share',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Accepted spellings, lowercase. A Map, not an object literal: a plain object would answer
 * `"constructor"` or `"__proto__"` with Object.prototype members.
 */
const EVENT_TYPE_LOOKUP: ReadonlyMap<string, EventType> = new Map<string, EventType>([
  ...EVENT_TYPES.map((t) => [t, t] as [string, EventType]),
  ['pv', 'view'], ['page_view', 'view'], ['pageview', 'view'], ['impression', 'view'], ['detail', 'view'],
  ['clk', 'click'],
  ['buy', 'purchase'], ['order', 'purchase'], ['checkout', 'purchase'],
  ['cart', 'cart_add'], ['add_to_cart', 'cart_add'], ['addtocart', 'cart_add'],
  ['remove_from_cart', 'cart_remove'], ['removefromcart', 'cart_remove'], ['cart_delete', 'cart_remove'],
  ['fav', 'favorite'], ['favourite', 'favorite'], ['collect', 'favorite'], ['wishlist', 'favorite'],
  ['rate', 'review'], ['rating', 'review'],
  ['query', 'search'],
]);

/** Fields of the canonical event; anything else is an unknown extra field. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'event_id', 'user_id', 'anonymous_id', 'session_id', 'event_type', 'ts', 'item_id', 'category', 'brand', 'price',
  'currency', 'quantity', 'rating', 'query', 'target_user_id', 'device', 'os', 'city', 'region', 'country', 'ip',
  'user_agent', 'referrer', 'properties', 'ingested_at', 'source', 'backfill',
]);

/** Keys that could reach an object's prototype if some consumer copied them naively. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Earliest plausible event time (2000-01-01): older values are almost always seconds sent as ms. */
export const MIN_TS = Date.UTC(2000, 0, 1);

export interface NormalizeOptions {
  maxFutureSkewMs: number;
  backfillAfterMs: number;
  defaultCurrency: string;
  unknownFields: 'keep' | 'drop';
  maxIdLength: number;
  maxStringLength: number;
  maxProperties: number;
  maxPrice: number;
  maxQuantity: number;
}

export const DEFAULT_NORMALIZE_OPTIONS: NormalizeOptions = {
  maxFutureSkewMs: 5 * 60_000,
  backfillAfterMs: 7 * 24 * 3_600_000,
  defaultCurrency: 'USD',
  unknownFields: 'keep',
  maxIdLength: 256,
  maxStringLength: 2048,
  maxProperties: 64,
  maxPrice: 1e9,
  maxQuantity: 100_000,
};

export type NormalizeResult = { ok: true; event: ClickEvent } | { ok: false; field: string; reason: string };

/** A rule broken by one field; thrown inside the normaliser and turned into a result at its edge. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

const ASCII = /^[\x20-\x7e]*$/;
const INTEGRAL_DECIMAL = /^-?\d+\.0+$/;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const CURRENCY = /^[A-Za-z]{3}$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** NFC + trim; ASCII (the common case) skips the Unicode normaliser. */
function clean(s: string): string {
  return ASCII.test(s) ? s.trim() : s.normalize('NFC').trim();
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Validates and normalises one event in the canonical JSON form (an HTTP item, or a decoded raw
 * `ClickEvent`) into the `ClickEvent` published on clickstream.events.v1. Pure: reads only
 * `input`, `now` and `opts`; never copies keys onto ordinary objects (so `__proto__` cannot
 * pollute anything). Reasons are `"<field>: <rule>"`-shaped via `field` and `reason`.
 */
export function normalizeEvent(
  input: unknown,
  now: number,
  source: string,
  opts: NormalizeOptions = DEFAULT_NORMALIZE_OPTIONS,
): NormalizeResult {
  try {
    return { ok: true, event: normalizeOrThrow(input, now, source, opts) };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, field: e.field, reason: e.reason };
    throw e;
  }
}

function normalizeOrThrow(input: unknown, now: number, source: string, o: NormalizeOptions): ClickEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FieldError('(event)', `must be a JSON object, got ${describe(input)}`);
  }
  const e = input as Record<string, unknown>;
  // NOTE: plain property reads are safe here: every name read is a canonical field, and none of
  // them exists on Object.prototype, so an absent field reads undefined (hot path: no hasOwnProperty).
  const own = (k: string): unknown => e[k];

  const id = (field: string, required = false): string | null => {
    const v = own(field);
    if (v === undefined || v === null) {
      if (required) throw new FieldError(field, 'required');
      return null;
    }
    let s: string;
    if (typeof v === 'string') {
      s = clean(v);
      if (INTEGRAL_DECIMAL.test(s)) s = s.slice(0, s.indexOf('.')); // "266079.0" → "266079"
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new FieldError(field, 'must be a string or a safe integer');
      s = String(v);
    } else {
      throw new FieldError(field, `must be a string or an integer, got ${describe(v)}`);
    }
    if (s.length === 0) {
      if (required) throw new FieldError(field, 'must not be empty');
      return null;
    }
    if (s.length > o.maxIdLength) throw new FieldError(field, `longer than ${o.maxIdLength} characters`);
    return s;
  };

  const text = (field: string): string | null => {
    const v = own(field);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') {
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      throw new FieldError(field, `must be a string, got ${describe(v)}`);
    }
    if (v.length > o.maxStringLength * 4) throw new FieldError(field, `longer than ${o.maxStringLength} characters`);
    const s = clean(v);
    if (s.length > o.maxStringLength) throw new FieldError(field, `longer than ${o.maxStringLength} characters`);
    return s.length > 0 ? s : null;
  };

  const num = (field: string): number | null => {
    const v = own(field);
    if (v === undefined || v === null || v === '') return null;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && NUMERIC.test(v.trim())) n = Number(v.trim());
    else throw new FieldError(field, `must be a number, got ${describe(v)}`);
    if (!Number.isFinite(n)) throw new FieldError(field, 'must be a finite number');
    return n;
  };

  const eventId = id('event_id', true) as string;
  const userId = id('user_id');
  const anonymousId = id('anonymous_id');
  if (userId === null && anonymousId === null) throw new FieldError('user_id', 'required unless anonymous_id is given');

  const rawType = own('event_type');
  if (rawType === undefined || rawType === null) throw new FieldError('event_type', 'required');
  if (typeof rawType !== 'string') throw new FieldError('event_type', `must be a string, got ${describe(rawType)}`);
  const typeKey = clean(rawType).toLowerCase();
  const eventType = EVENT_TYPE_LOOKUP.get(typeKey);
  if (eventType === undefined) {
    throw new FieldError('event_type', `unknown event type ${JSON.stringify(typeKey.slice(0, 40))} (expected one of ${EVENT_TYPES.join(', ')})`);
  }

  const rawTs = own('ts');
  if (rawTs === undefined || rawTs === null) throw new FieldError('ts', 'required');
  const ts = parseTs(rawTs);
  if (ts === null) throw new FieldError('ts', 'must be ISO-8601 with a zone, or epoch milliseconds');
  if (ts < MIN_TS) throw new FieldError('ts', 'before 2000-01-01 (epoch seconds instead of milliseconds?)');
  if (ts > now + o.maxFutureSkewMs) throw new FieldError('ts', `more than ${o.maxFutureSkewMs} ms in the future`);
  const backfill = own('backfill') === true || ts < now - o.backfillAfterMs;

  const price = num('price');
  if (price !== null && price < 0) throw new FieldError('price', 'must be >= 0');
  if (price !== null && price > o.maxPrice) throw new FieldError('price', `must be <= ${o.maxPrice}`);

  let quantity = num('quantity');
  if (quantity !== null) {
    if (!Number.isInteger(quantity)) throw new FieldError('quantity', 'must be an integer');
    if (quantity < 1) throw new FieldError('quantity', 'must be >= 1');
    if (quantity > o.maxQuantity) throw new FieldError('quantity', `must be <= ${o.maxQuantity}`);
  } else {
    quantity = null;
  }

  const rating = num('rating');
  if (rating !== null && (!Number.isInteger(rating) || rating < 1 || rating > 5)) {
    throw new FieldError('rating', 'must be an integer from 1 to 5');
  }

  let currency = text('currency');
  if (currency !== null) {
    if (!CURRENCY.test(currency)) throw new FieldError('currency', 'must be a 3-letter ISO-4217 code');
    currency = currency.toUpperCase();
  } else if (price !== null) {
    currency = o.defaultCurrency;
  }

  const properties = buildProperties(e, o);
  const rawSource = own('source');

  return {
    event_id: eventId,
    user_id: userId,
    anonymous_id: anonymousId,
    session_id: id('session_id'),
    event_type: eventType,
    ts,
    item_id: id('item_id'),
    category: idOrText('category', id, text),
    brand: idOrText('brand', id, text),
    price,
    currency,
    quantity,
    rating,
    query: text('query'),
    target_user_id: id('target_user_id'),
    device: text('device'),
    os: text('os'),
    city: text('city'),
    region: text('region'),
    country: text('country'),
    ip: text('ip'),
    user_agent: text('user_agent'),
    referrer: text('referrer'),
    properties,
    ingested_at: now,
    // A producer-declared origin such as `replay:jdata` is kept; otherwise the intake path.
    source: typeof rawSource === 'string' && rawSource.length > 0 && rawSource.length <= 64 ? rawSource : source,
    backfill,
  };
}

/** Category and brand are often numeric codes (`"266079.0"`); free text otherwise. */
function idOrText(
  field: string,
  id: (f: string) => string | null,
  text: (f: string) => string | null,
): string | null {
  try {
    return id(field);
  } catch {
    return text(field);
  }
}

/**
 * `properties` (string → string) plus, when configured, the unknown top-level fields (objects
 * JSON-stringified). Built on a null-prototype object so no key can reach a prototype; reserved
 * keys are rejected outright because downstream decoders build plain objects.
 */
function buildProperties(e: Record<string, unknown>, o: NormalizeOptions): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  const put = (path: string, key: string, value: unknown) => {
    if (RESERVED_KEYS.has(key)) throw new FieldError(path, 'reserved key not allowed');
    if (key.length === 0 || key.length > 128) throw new FieldError(path, 'property names must have 1 to 128 characters');
    if (value === undefined || value === null) return;
    let s: string;
    if (typeof value === 'string') s = clean(value);
    else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
    else {
      if (!withinDepth(value, MAX_NESTING)) throw new FieldError(path, `nested deeper than ${MAX_NESTING} levels`);
      s = JSON.stringify(value) ?? '';
    }
    if (s.length > o.maxStringLength) throw new FieldError(path, `longer than ${o.maxStringLength} characters`);
    if (!(key in out)) count++;
    if (count > o.maxProperties) throw new FieldError('properties', `more than ${o.maxProperties} entries`);
    out[key] = s;
  };

  const props = Object.prototype.hasOwnProperty.call(e, 'properties') ? e.properties : undefined;
  if (props !== undefined && props !== null) {
    if (typeof props !== 'object' || Array.isArray(props)) {
      throw new FieldError('properties', `must be an object of strings, got ${describe(props)}`);
    }
    for (const key of Object.keys(props)) {
      const v = (props as Record<string, unknown>)[key];
      if (typeof v === 'object' && v !== null) throw new FieldError(`properties.${key}`, 'must be a string, number or boolean');
      put(`properties.${key}`, key, v);
    }
  }
  for (const key of Object.keys(e)) {
    if (KNOWN_FIELDS.has(key)) continue;
    if (RESERVED_KEYS.has(key)) throw new FieldError(key, 'reserved key not allowed');
    if (o.unknownFields === 'drop') continue;
    if (key in out) continue; // an explicit property wins over a stray top-level field
    put(key, key, e[key]);
  }
  return out;
}

/** Deepest object/array nesting kept (stringified) in a property. */
const MAX_NESTING = 8;

/** True when `v` nests no deeper than `max` levels (iterative: hostile depth cannot overflow the stack). */
function withinDepth(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  let visited = 0;
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > max || ++visited > 10_000) return false;
    for (const k of Object.keys(x)) stack.push([(x as Record<string, unknown>)[k], d + 1]);
  }
  return true;
}

/** Event time: ISO-8601 with a zone, or epoch milliseconds (number or digit string). */
export function parseTs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^\d{10,16}$/.test(s)) return Number(s);
    if (!ISO_WITH_ZONE.test(s)) return null;
    const t = Date.parse(s.replace(' ', 'T'));
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

/** The first reason a record is not an object at all, for `"(event): ..."` messages. */
export function formatReason(field: string, reason: string): string {
  return `${field}: ${reason}`;
}
