import { Codecs } from '@app/contracts';
import { DEFAULT_NORMALIZE_OPTIONS, normalizeEvent, NormalizeResult, parseTs } from './event-normalizer';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const base = { event_id: 'e1', user_id: 'u1', event_type: 'view', ts: NOW - 1000 };
const run = (extra: Record<string, unknown>, opts = DEFAULT_NORMALIZE_OPTIONS): NormalizeResult =>
  normalizeEvent({ ...base, ...extra }, NOW, 'http', opts);
const reason = (r: NormalizeResult) => (r.ok ? 'ok' : `${r.field}: ${r.reason}`);
const ok = (r: NormalizeResult) => {
  if (!r.ok) throw new Error(`expected ok, got ${reason(r)}`);
  return r.event;
};

describe('normalizeEvent', () => {
  it('normalises a minimal event and it encodes as a ClickEvent', () => {
    const e = ok(run({}));
    expect(e).toMatchObject({ event_id: 'e1', user_id: 'u1', event_type: 'view', ts: NOW - 1000, source: 'http', backfill: false, ingested_at: NOW });
    expect(Codecs.ClickEvent.decode(Codecs.ClickEvent.encode(e)).event_id).toBe('e1');
  });

  it.each([
    [{ event_id: undefined }, 'event_id: required'],
    [{ event_id: '  ' }, 'event_id: must not be empty'],
    [{ event_id: { a: 1 } }, 'event_id: must be a string or an integer, got an object'],
    [{ event_id: 1.5 }, 'event_id: must be a string or a safe integer'],
    [{ user_id: undefined }, 'user_id: required unless anonymous_id is given'],
    [{ user_id: true }, 'user_id: must be a string or an integer, got a boolean'],
    [{ event_type: undefined }, 'event_type: required'],
    [{ event_type: 42 }, 'event_type: must be a string, got a number'],
    [{ ts: undefined }, 'ts: required'],
    [{ ts: 'yesterday' }, 'ts: must be ISO-8601 with a zone, or epoch milliseconds'],
    [{ ts: '2026-11-29T10:00:00' }, 'ts: must be ISO-8601 with a zone, or epoch milliseconds'],
    [{ ts: 1_700_000_000 }, 'ts: before 2000-01-01 (epoch seconds instead of milliseconds?)'],
    [{ ts: NOW + 3_600_000 }, 'ts: more than 300000 ms in the future'],
    [{ price: -1 }, 'price: must be >= 0'],
    [{ price: 'abc' }, 'price: must be a number, got a string'],
    [{ price: 2e9 }, 'price: must be <= 1000000000'],
    [{ price: Number.NaN }, 'price: must be a finite number'],
    [{ quantity: 0 }, 'quantity: must be >= 1'],
    [{ quantity: 1.5 }, 'quantity: must be an integer'],
    [{ quantity: 1e7 }, 'quantity: must be <= 100000'],
    [{ rating: 6 }, 'rating: must be an integer from 1 to 5'],
    [{ currency: 'euro' }, 'currency: must be a 3-letter ISO-4217 code'],
    [{ query: 'x'.repeat(3000) }, 'query: longer than 2048 characters'],
    [{ item_id: 'x'.repeat(300) }, 'item_id: longer than 256 characters'],
    [{ properties: 'a=b' }, 'properties: must be an object of strings, got a string'],
    [{ properties: { nested: { a: 1 } } }, 'properties.nested: must be a string, number or boolean'],
  ])('rejects %j with a precise reason', (extra, expected) => {
    expect(reason(run(extra))).toBe(expected);
  });

  it('rejects unknown event types, listing the accepted ones', () => {
    expect(reason(run({ event_type: 'teleport' }))).toMatch(/^event_type: unknown event type "teleport" \(expected one of view, click/);
  });

  it('does not treat Object.prototype members as event types or fields', () => {
    expect(reason(run({ event_type: 'constructor' }))).toMatch(/^event_type: unknown event type "constructor"/);
    expect(reason(run({ event_type: '__proto__' }))).toMatch(/^event_type: unknown event type/);
    expect(reason(normalizeEvent({ event_type: 'view', ts: NOW }, NOW, 'http'))).toBe('event_id: required');
  });

  it('rejects __proto__ / constructor keys without polluting any prototype', () => {
    const hostile = JSON.parse('{"event_id":"e","user_id":"u","event_type":"view","ts":1764417600000,"__proto__":{"polluted":"yes"}}') as unknown;
    expect(reason(normalizeEvent(hostile, NOW, 'http'))).toBe('__proto__: reserved key not allowed');
    const inProps = JSON.parse('{"event_id":"e","user_id":"u","event_type":"view","ts":1764417600000,"properties":{"__proto__":"x"}}') as unknown;
    expect(reason(normalizeEvent(inProps, NOW, 'http'))).toBe('properties.__proto__: reserved key not allowed');
    expect(reason(run({ constructor: 'x' }))).toBe('constructor: reserved key not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts synonyms and any case for event types', () => {
    expect(ok(run({ event_type: 'PV' })).event_type).toBe('view');
    expect(ok(run({ event_type: ' Buy ' })).event_type).toBe('purchase');
    expect(ok(run({ event_type: 'cart' })).event_type).toBe('cart_add');
    expect(ok(run({ event_type: 'fav' })).event_type).toBe('favorite');
    expect(ok(run({ event_type: 'Cart_Remove' })).event_type).toBe('cart_remove');
  });

  it('turns ids into strings: numbers, and integral decimals without the fraction', () => {
    const e = ok(run({ user_id: 266079, item_id: '266079.0', category: 4.0, brand: '  12.00 ', event_id: '  a  ' }));
    expect(e).toMatchObject({ user_id: '266079', item_id: '266079', category: '4', brand: '12', event_id: 'a' });
    expect(ok(run({ user_id: '266079.5' })).user_id).toBe('266079.5');
  });

  it('applies NFC and trims strings', () => {
    const decomposed = 'Cafe\u0301'; // e + combining acute
    const e = ok(run({ city: `  ${decomposed}  `, user_id: decomposed }));
    expect(e.city).toBe('Caf\u00e9');
    expect(e.user_id).toBe('Caf\u00e9');
  });

  it('parses timestamps: epoch ms, digit strings and ISO-8601 with a zone', () => {
    expect(ok(run({ ts: '2026-11-29T11:00:00Z' })).ts).toBe(Date.UTC(2026, 10, 29, 11));
    expect(ok(run({ ts: '2026-11-29T19:00:00+08:00' })).ts).toBe(Date.UTC(2026, 10, 29, 11));
    expect(ok(run({ ts: String(NOW - 5) })).ts).toBe(NOW - 5);
    expect(parseTs('2026-11-29 11:00:00.123Z')).toBe(Date.UTC(2026, 10, 29, 11, 0, 0, 123));
  });

  it('accepts small future skew and flags old events as backfill', () => {
    expect(ok(run({ ts: NOW + 60_000 })).backfill).toBe(false);
    expect(ok(run({ ts: Date.UTC(2016, 1, 1) })).backfill).toBe(true);
    expect(ok(run({ backfill: true })).backfill).toBe(true);
    const strict = { ...DEFAULT_NORMALIZE_OPTIONS, maxFutureSkewMs: 0 };
    expect(reason(run({ ts: NOW + 1 }, strict))).toBe('ts: more than 0 ms in the future');
  });

  it('defaults the currency when a price is given, and upper-cases it', () => {
    expect(ok(run({ price: 10 })).currency).toBe('USD');
    expect(ok(run({ price: '10.5', currency: 'eur' }))).toMatchObject({ price: 10.5, currency: 'EUR' });
    expect(ok(run({})).currency).toBeNull();
    expect(ok(run({ price: 1 }, { ...DEFAULT_NORMALIZE_OPTIONS, defaultCurrency: 'CNY' })).currency).toBe('CNY');
  });

  it('keeps unknown fields as string properties, or drops them by configuration', () => {
    const e = ok(run({ color: 'red', size: 42, flags: { a: [1, 2] }, properties: { color: 'blue', n: 1 } }));
    expect({ ...e.properties }).toEqual({ color: 'blue', n: '1', size: '42', flags: '{"a":[1,2]}' });
    const dropped = ok(run({ color: 'red', properties: { a: 'b' } }, { ...DEFAULT_NORMALIZE_OPTIONS, unknownFields: 'drop' }));
    expect({ ...dropped.properties }).toEqual({ a: 'b' });
    expect(Codecs.ClickEvent.decode(Codecs.ClickEvent.encode(e)).properties).toEqual({ color: 'blue', n: '1', size: '42', flags: '{"a":[1,2]}' });
  });

  it('bounds properties: entry count and nesting depth', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 65; i++) many[`k${i}`] = 'v';
    expect(reason(run({ properties: many }))).toBe('properties: more than 64 entries');
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(reason(run({ deep }))).toBe('deep: nested deeper than 8 levels');
  });

  it('rejects values that are not objects', () => {
    expect(reason(normalizeEvent([1], NOW, 'http'))).toBe('(event): must be a JSON object, got an array');
    expect(reason(normalizeEvent('x', NOW, 'http'))).toBe('(event): must be a JSON object, got a string');
    expect(reason(normalizeEvent(null, NOW, 'http'))).toBe('(event): must be a JSON object, got null');
  });

  it('keeps a producer-declared source and otherwise uses the intake path', () => {
    expect(ok(run({ source: 'replay:jdata' })).source).toBe('replay:jdata');
    expect(ok(normalizeEvent({ ...base, source: null }, NOW, 'kafka')).source).toBe('kafka');
  });

  it('validates a decoded raw ClickEvent (nulls and all)', () => {
    const decoded = Codecs.ClickEvent.decode(
      Codecs.ClickEvent.encode({ event_id: 'r1', user_id: null, anonymous_id: 'anon', event_type: 'BUY', ts: NOW - 10, price: 3, quantity: 2 }),
    );
    expect(ok(normalizeEvent(decoded, NOW, 'kafka'))).toMatchObject({ event_type: 'purchase', anonymous_id: 'anon', currency: 'USD', quantity: 2, source: 'kafka' });
  });
});
