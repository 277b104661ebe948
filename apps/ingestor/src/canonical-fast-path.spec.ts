import { ClickEventInput, clickEventKey, Codecs } from '@app/contracts';
import { generateEvents, toRawClickEvent } from '@app/datasets';
import { CanonicalFastPath, clickEventLayout } from './canonical-fast-path';
import { hash64 } from './dedup-window';
import { DEFAULT_NORMALIZE_OPTIONS, MIN_TS, normalizeEvent, NormalizeOptions } from './event-normalizer';
import { PrivacyFilter } from './privacy';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const OPTS: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, defaultCurrency: 'CNY' };

/** The general path of the Kafka intake: decode, normalise, privacy, encode (null: rejected). */
function generalPath(bytes: Buffer, now: number, opts = OPTS): { value: Buffer; key: string; id: string } | null {
  const d = Codecs.ClickEvent.tryDecode(bytes);
  if (!d.ok) return null;
  const r = normalizeEvent(d.value, now, 'kafka', opts);
  if (!r.ok) return null;
  if (!new PrivacyFilter({ pseudonymize: [], drop: [] }).apply(r.event)) return null;
  try {
    return { value: Codecs.ClickEvent.encode(r.event), key: clickEventKey(r.event), id: r.event.event_id };
  } catch {
    return null;
  }
}

function generated(n: number, seed: number): ClickEventInput[] {
  const out: ClickEventInput[] = [];
  for (const e of generateEvents({ seed, users: Math.max(50, Math.ceil(n / 40)), days: 2, startMs: NOW - 2 * 86_400_000 })) {
    out.push(toRawClickEvent(e));
    if (out.length >= n) break;
  }
  return out;
}

/** Runs both paths; fails when the fast path accepts what the general path would not write identically. */
function compare(sut: CanonicalFastPath, bytes: Buffer, now: number, label: string, opts = OPTS): boolean {
  const taken = sut.transcode(bytes, now);
  if (!taken) return false;
  const want = generalPath(bytes, now, opts);
  if (want === null) throw new Error(`${label}: the fast path accepted a record the general path rejects`);
  if (!sut.value.equals(want.value)) {
    throw new Error(`${label}: output differs\nfast    ${sut.value.toString('hex')}\ngeneral ${want.value.toString('hex')}`);
  }
  expect(sut.key.toString('utf8')).toBe(want.key);
  expect([sut.h1, sut.h2]).toEqual(hash64(want.id));
  return true;
}

const mutations: [string, (e: ClickEventInput) => void][] = [
  ['event_id empty', (e) => (e.event_id = '')],
  ['event_id spaces', (e) => (e.event_id = ` ${e.event_id} `)],
  ['event_id decimal', (e) => (e.event_id = '266079.0')],
  ['event_id -decimal', (e) => (e.event_id = '-5.00')],
  ['event_id not integral', (e) => (e.event_id = '12.5')],
  ['event_id at cap', (e) => (e.event_id = 'x'.repeat(256))],
  ['event_id over cap', (e) => (e.event_id = 'x'.repeat(257))],
  ['event_id unicode', (e) => (e.event_id = 'évènement-1')],
  ['event_id tab', (e) => (e.event_id = 'a\tb')],
  ['user_id null', (e) => (e.user_id = null)],
  ['user_id null, anonymous', (e) => ((e.user_id = null), (e.anonymous_id = 'anon-1'))],
  ['user and anonymous', (e) => (e.anonymous_id = 'anon-2')],
  ['user_id empty', (e) => (e.user_id = '')],
  ['user_id decimal', (e) => (e.user_id = '266079.0')],
  ['user_id space', (e) => (e.user_id = 'u 1')],
  ['user_id trailing space', (e) => (e.user_id = 'u1 ')],
  ['session_id empty', (e) => (e.session_id = '')],
  ['event_type upper', (e) => (e.event_type = 'VIEW')],
  ['event_type synonym', (e) => (e.event_type = 'pv')],
  ['event_type unknown', (e) => (e.event_type = 'teleport')],
  ['event_type purchase', (e) => (e.event_type = 'purchase')],
  ['event_type cart_remove', (e) => (e.event_type = 'cart_remove')],
  ['ts too old', (e) => (e.ts = MIN_TS - 1)],
  ['ts oldest', (e) => (e.ts = MIN_TS)],
  ['ts future', (e) => (e.ts = NOW + 10 * 60_000)],
  ['ts at skew', (e) => (e.ts = NOW + OPTS.maxFutureSkewMs)],
  ['ts backfill', (e) => (e.ts = NOW - 30 * 86_400_000)],
  ['ts zero', (e) => (e.ts = 0)],
  ['price negative', (e) => (e.price = -1)],
  ['price minus zero', (e) => (e.price = -0)],
  ['price zero', (e) => (e.price = 0)],
  ['price huge', (e) => (e.price = 1e10)],
  ['price max', (e) => (e.price = OPTS.maxPrice)],
  ['price NaN', (e) => (e.price = Number.NaN)],
  ['price Infinity', (e) => (e.price = Number.POSITIVE_INFINITY)],
  ['price, no currency', (e) => ((e.price = 9.99), (e.currency = null))],
  ['no price, no currency', (e) => ((e.price = null), (e.currency = null))],
  ['currency lower', (e) => (e.currency = 'usd')],
  ['currency short', (e) => (e.currency = 'US')],
  ['currency empty', (e) => ((e.price = 5), (e.currency = ''))],
  ['currency spaced', (e) => (e.currency = ' EUR')],
  ['currency EUR', (e) => (e.currency = 'EUR')],
  ['quantity 0', (e) => (e.quantity = 0)],
  ['quantity 1', (e) => (e.quantity = 1)],
  ['quantity max', (e) => (e.quantity = OPTS.maxQuantity)],
  ['quantity over', (e) => (e.quantity = OPTS.maxQuantity + 1)],
  ['quantity negative', (e) => (e.quantity = -3)],
  ['rating 0', (e) => (e.rating = 0)],
  ['rating 5', (e) => (e.rating = 5)],
  ['rating 6', (e) => (e.rating = 6)],
  ['ip v6', (e) => (e.ip = '2001:db8:85a3:8d3:1319:8a2e:370:7348')],
  ['ip v6 short', (e) => (e.ip = '2001:db8::1')],
  ['ip mapped', (e) => (e.ip = '::ffff:1.2.3.4')],
  ['ip bracketed', (e) => (e.ip = '[::1]')],
  ['ip leading zero', (e) => (e.ip = '01.2.3.4')],
  ['ip garbage', (e) => (e.ip = 'not-an-ip')],
  ['ip spaced', (e) => (e.ip = ' 1.2.3.4')],
  ['ip already truncated', (e) => (e.ip = '1.2.3.0')],
  ['ip null', (e) => (e.ip = null)],
  ['device empty', (e) => (e.device = '')],
  ['device blank', (e) => (e.device = '   ')],
  ['os unicode', (e) => (e.os = 'Harmony–OS')],
  ['city composed', (e) => (e.city = 'Zu\u0308rich')],
  ['query at cap', (e) => (e.query = 'q'.repeat(OPTS.maxStringLength))],
  ['query over cap', (e) => (e.query = 'q'.repeat(OPTS.maxStringLength + 1))],
  ['query control', (e) => (e.query = 'a\u0001b')],
  ['category decimal', (e) => (e.category = '266079.0')],
  ['category long text', (e) => (e.category = 'c'.repeat(300))],
  ['brand spaced', (e) => (e.brand = ' Acme')],
  ['brand accented', (e) => (e.brand = 'Lumière')],
  ['brand decomposed', (e) => (e.brand = 'Lumie\u0300re')],
  ['brand nbsp', (e) => (e.brand = 'Acme\u00a0')],
  ['city ideographic space', (e) => (e.city = '\u3000北京')],
  ['city chinese', (e) => (e.city = '北京')],
  ['user_id chinese', (e) => (e.user_id = '用户-1')],
  ['query emoji', (e) => (e.query = 'gift 🎁 box')],
  ['query replacement char', (e) => (e.query = 'a\ufffdb')],
  ['query lone surrogate', (e) => (e.query = 'a\ud800b')],
  ['referrer', (e) => (e.referrer = 'https://example.com/?q=1')],
  ['target_user_id', (e) => (e.target_user_id = 'u-99')],
  ['properties one', (e) => (e.properties = { campaign: 'spring' })],
  ['properties several', (e) => (e.properties = { b: '2', a: '1', 'utm-source': 'mail' })],
  ['properties empty value', (e) => (e.properties = { a: '' })],
  ['properties index key', (e) => (e.properties = { b: 'x', 1: 'y' })],
  ['properties reserved', (e) => (e.properties = { constructor: 'x' })],
  ['properties proto', (e) => (e.properties = JSON.parse('{"__proto__":"x"}') as Record<string, string>)],
  ['properties key spaced', (e) => (e.properties = { ' a': 'x' })],
  ['properties value spaced', (e) => (e.properties = { a: ' x' })],
  ['properties value unicode', (e) => (e.properties = { a: 'ü' })],
  ['properties key 128', (e) => (e.properties = { ['k'.repeat(128)]: 'x' })],
  ['properties key 129', (e) => (e.properties = { ['k'.repeat(129)]: 'x' })],
  ['properties at cap', (e) => (e.properties = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])))],
  ['properties over cap', (e) => (e.properties = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])))],
  ['source kept', (e) => (e.source = 'replay:jdata')],
  ['source empty', (e) => (e.source = '')],
  ['source long', (e) => (e.source = 's'.repeat(65))],
  ['source 64', (e) => (e.source = 's'.repeat(64))],
  ['source unicode', (e) => (e.source = 'répétition')],
  ['source spaced', (e) => (e.source = ' http ')],
  ['backfill true', (e) => (e.backfill = true)],
  ['ingested_at set', (e) => (e.ingested_at = 123)],
];

describe(CanonicalFastPath.name, () => {
  const sut = new CanonicalFastPath(OPTS, 'kafka');

  it('was written for the current ClickEvent fields', () => {
    expect(clickEventLayout()).toContain('event_id:string user_id:?string');
    expect(() => new CanonicalFastPath(OPTS, 'kafka')).not.toThrow();
  });

  it('takes every generated event and writes exactly what the general path writes', () => {
    const events = generated(3000, 7);
    let taken = 0;
    for (const [i, e] of events.entries()) {
      if (compare(sut, Codecs.ClickEvent.encode(e), NOW, `generated #${i}`)) taken++;
    }
    expect(taken).toBe(events.length);
  });

  it.each(mutations)('%s: same output as the general path, or left to it', (label, mutate) => {
    let taken = 0;
    for (const e of generated(40, 11)) {
      mutate(e);
      if (compare(sut, Codecs.ClickEvent.encode(e), NOW, label)) taken++;
    }
    // Mutations the general path rewrites or rejects must not be taken (they would be by a
    // fast path that skipped a rule).
    const general = generated(40, 11).map((e) => (mutate(e), generalPath(Codecs.ClickEvent.encode(e), NOW)));
    if (general.every((g) => g === null)) expect(taken).toBe(0);
  });

  it('leaves to the general path what it rewrites or rejects', () => {
    const declined = [
      'event_id spaces', 'event_id decimal', 'event_id over cap', 'event_id unicode', 'user_id null', 'user_id empty', 'user_id decimal',
      'event_type upper', 'event_type synonym', 'ts future', 'price negative', 'currency lower', 'quantity over', 'rating 6',
      'ip garbage', 'device empty', 'city composed', 'properties index key', 'properties proto', 'source unicode',
      'brand decomposed', 'brand nbsp', 'city ideographic space', 'query lone surrogate',
    ];
    for (const label of declined) {
      const mutate = mutations.find(([l]) => l === label)![1];
      const e = generated(1, 3)[0];
      mutate(e);
      expect([label, sut.transcode(Codecs.ClickEvent.encode(e), NOW)]).toEqual([label, false]);
    }
  });

  it('takes the common variations itself', () => {
    const taken = [
      'user_id null, anonymous', 'price, no currency', 'ts backfill', 'ip v6', 'ip mapped', 'properties several', 'source kept',
      'backfill true', 'ingested_at set', 'event_id not integral', 'brand accented', 'city chinese', 'user_id chinese', 'query emoji',
      'properties value unicode',
    ];
    for (const label of taken) {
      const mutate = mutations.find(([l]) => l === label)![1];
      const e = generated(1, 3)[0];
      mutate(e);
      expect([label, compare(sut, Codecs.ClickEvent.encode(e), NOW, label)]).toEqual([label, true]);
    }
  });

  it('never takes a corrupted record the general path would treat differently (byte-flip fuzz)', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const events = generated(400, 5).map((e) => Codecs.ClickEvent.encode(e));
    let taken = 0;
    let declined = 0;
    for (let round = 0; round < 20; round++) {
      for (const [i, original] of events.entries()) {
        const bytes = Buffer.from(original);
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[10 + Math.floor(rand() * (bytes.length - 10))] = Math.floor(rand() * 256);
        const cut = rand() < 0.1 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
        if (compare(sut, cut, NOW, `fuzz ${round}/${i}`)) taken++;
        else declined++;
      }
    }
    expect(taken).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(100);
  });

  it('leaves non-minimal varints, odd booleans and other writer schemas to the general path', () => {
    const e = generated(1, 3)[0];
    const bytes = Codecs.ClickEvent.encode({ ...e, backfill: false });
    expect(sut.transcode(bytes, NOW)).toBe(true);
    const odd = Buffer.from(bytes);
    odd[odd.length - 1] = 2; // avsc reads any non-zero byte as true
    expect(sut.transcode(odd, NOW)).toBe(false);
    expect(generalPath(odd, NOW)).not.toBeNull();
    const otherWriter = Buffer.from(bytes);
    otherWriter[5] ^= 0xff;
    expect(sut.transcode(otherWriter, NOW)).toBe(false);
    // event_id's length written in two bytes (0x80|n, 0x00): valid Avro, but not avsc's bytes.
    const n = bytes[10];
    const padded = Buffer.concat([bytes.subarray(0, 10), Buffer.from([n | 0x80, 0x00]), bytes.subarray(11)]);
    expect(Codecs.ClickEvent.decode(padded).event_id).toBe(e.event_id);
    expect(sut.transcode(padded, NOW)).toBe(false);
  });

  it('follows the configured limits and default currency', () => {
    const strict: NormalizeOptions = { ...OPTS, maxIdLength: 20, maxStringLength: 200, maxProperties: 1, maxPrice: 10, maxQuantity: 2, defaultCurrency: 'EUR' };
    const tight = new CanonicalFastPath(strict, 'kafka');
    let taken = 0;
    for (const [label, mutate] of mutations) {
      for (const e of generated(5, 13)) {
        mutate(e);
        if (compare(tight, Codecs.ClickEvent.encode(e), NOW, `strict ${label}`, strict)) taken++;
      }
    }
    expect(taken).toBeGreaterThan(0);
  });

  it('keeps its outputs intact while later records are written (slab slices are not reused)', () => {
    const events = generated(2000, 17).map((e) => Codecs.ClickEvent.encode(e));
    const outputs: Buffer[] = [];
    for (const b of events) {
      expect(sut.transcode(b, NOW)).toBe(true);
      outputs.push(sut.value);
    }
    for (const [i, b] of events.entries()) expect(outputs[i].equals(generalPath(b, NOW)!.value)).toBe(true);
  });
});
