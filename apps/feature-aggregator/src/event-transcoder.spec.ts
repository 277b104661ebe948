import { RowBinaryEncoder } from '@app/clickhouse';
import { ClickEvent, clickEventKey, Codecs, exampleClickEvent } from '@app/contracts';
import { CanonicalEventJson, generateEvents, toRawClickEvent } from '@app/datasets';
import { toFeatureEvent } from '@app/features';
import { encodeEventRow } from './event-row';
import { EventTranscoder } from './event-transcoder';

const NOW = Date.UTC(2026, 10, 29, 12);
const STORED = NOW + 1234;

/** The general path: avsc decode, then encodeEventRow (null: the event cannot be written). */
function general(bytes: Buffer, partition: number, offset: string) {
  let e: ClickEvent;
  try {
    e = Codecs.ClickEvent.decode(bytes);
  } catch {
    return null;
  }
  const out = new RowBinaryEncoder(16);
  try {
    const lateAt = encodeEventRow(out, e, clickEventKey(e), partition, offset, STORED);
    return { row: out.take().bytes, lateAt, key: clickEventKey(e), e };
  } catch {
    return null;
  }
}

let calls = 0;

/**
 * The record key the consumer passes (decoded): in turn none, the event's own key (its string
 * reused), and a string of the same length that differs, which must then not be used.
 */
function recordKeyFor(bytes: Buffer): string {
  const mode = calls++ % 3;
  let key: string;
  try {
    key = clickEventKey(Codecs.ClickEvent.decode(bytes));
  } catch {
    return '';
  }
  if (mode === 0) return '';
  if (mode === 1 || key.length === 0) return key;
  return key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x');
}

/**
 * Transcodes `bytes` as the consumer does — in turn on their own and inside a record batch, with
 * other bytes before and after them — and checks the row and event against the general path.
 */
function compare(sut: EventTranscoder, bytes: Buffer, label: string, partition = 3, offset = '12345', recordKey = recordKeyFor(bytes)): boolean {
  const out = new RowBinaryEncoder(16);
  out.uint8(7); // rows before this one: offsets are relative to the whole buffer
  const framed = calls % 2 === 0;
  const input = framed ? Buffer.concat([Buffer.alloc(5, 0x02), bytes, Buffer.alloc(7, 0x02)]) : bytes;
  const start = framed ? 5 : 0;
  const taken = sut.transcode(input, out, partition, offset, STORED, recordKey, start, start + bytes.length);
  if (!taken) {
    expect([label, out.byteLength]).toEqual([label, 1]); // nothing written
    return false;
  }
  const want = general(bytes, partition, offset);
  if (want === null) throw new Error(`${label}: transcoded an event the general path cannot write`);
  const row = out.bytes().subarray(1);
  if (!row.equals(want.row)) throw new Error(`${label}: row differs\nfast    ${row.toString('hex')}\ngeneral ${want.row.toString('hex')}`);
  expect([label, sut.key, sut.lateAt - 1]).toEqual([label, want.key, want.lateAt]);
  let fast: unknown;
  let slow: unknown;
  try {
    fast = toFeatureEvent(sut.event);
  } catch (err) {
    fast = String(err);
  }
  try {
    slow = toFeatureEvent(want.e);
  } catch (err) {
    slow = String(err);
  }
  expect([label, fast]).toEqual([label, slow]);
  return true;
}

/** A generated event as the ingestor publishes it. */
const raw = (e: CanonicalEventJson): ClickEvent => ({ ...toRawClickEvent(e), ingested_at: NOW, source: 'kafka', backfill: false }) as ClickEvent;

function generated(n: number, seed: number): ClickEvent[] {
  const out: ClickEvent[] = [];
  for (const e of generateEvents({ seed, users: Math.max(50, Math.ceil(n / 40)), days: 2, startMs: NOW - 2 * 86_400_000 })) {
    out.push(raw(e));
    if (out.length >= n) break;
  }
  return out;
}

const mutations: [string, Partial<ClickEvent>][] = [
  ['every optional null', { user_id: null, anonymous_id: 'anon', session_id: null, item_id: null, category: null, brand: null, price: null, currency: null, quantity: null, rating: null, query: null, target_user_id: null, device: null, os: null, city: null, region: null, country: null, ip: null, user_agent: null, referrer: null, ingested_at: null, source: null }],
  ['no user at all', { user_id: null, anonymous_id: null }],
  ['empty strings', { user_id: '', session_id: '', category: '', brand: '', query: '', device: '', source: '' }],
  ['unicode', { city: '北京', brand: 'Lumière', query: 'gift 🎁', user_agent: 'é'.repeat(40), user_id: '用户' }],
  ['long strings', { user_agent: 'x'.repeat(5000), referrer: 'r'.repeat(200) }],
  ['properties', { properties: { campaign: 'spring', 'utm-source': 'mail', ü: 'ß', empty: '' } }],
  ['properties index key', { properties: { b: 'x', 1: 'y' } }],
  ['properties proto', { properties: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> }],
  ['many properties', { properties: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, `v${i}`])) }],
  ['rating 255', { rating: 255 }],
  ['rating 256', { rating: 256 }],
  ['rating negative', { rating: -1 }],
  ['quantity 0', { quantity: 0 }],
  ['quantity negative', { quantity: -5 }],
  ['quantity max int', { quantity: 2 ** 31 - 1 }],
  ['price negative', { price: -3 }],
  ['price NaN', { price: Number.NaN }],
  ['ts negative', { ts: -5 }],
  ['ts zero', { ts: 0 }],
  ['ts 2100', { ts: 4_102_444_800_000 }],
  ['ts beyond DateTime', { ts: 2 ** 32 * 1000 }],
  ['ingested negative', { ingested_at: -1 }],
  ['ingested null', { ingested_at: null }],
  ['backfill', { backfill: true }],
  ['event_id empty', { event_id: '' }],
];

describe(EventTranscoder.name, () => {
  const sut = new EventTranscoder();

  it('writes every generated event’s row exactly as the general path does', () => {
    const events = generated(2000, 21);
    let taken = 0;
    for (const [i, e] of events.entries()) if (compare(sut, Codecs.ClickEvent.encode(e), `generated #${i}`, i % 6, String(i * 977))) taken++;
    expect(taken).toBe(events.length);
    expect(compare(sut, Codecs.ClickEvent.encode(exampleClickEvent()), 'example')).toBe(true);
  });

  it.each(mutations)('%s: the same row as the general path, or left to it', (label, patch) => {
    const events = generated(10, 5);
    let checked = 0;
    for (const e of events) {
      compare(sut, Codecs.ClickEvent.encode({ ...e, ...patch }), label);
      checked++;
    }
    expect(checked).toBe(events.length);
  });

  it('takes unicode, nulls, empties and properties itself, and leaves reordered properties and unwritable values', () => {
    const takes = ['every optional null', 'no user at all', 'empty strings', 'unicode', 'long strings', 'properties', 'many properties', 'rating 255', 'backfill', 'ingested null', 'price negative', 'event_id empty'];
    const leaves = ['properties index key', 'properties proto', 'rating 256', 'rating negative', 'quantity negative', 'ts negative', 'ts beyond DateTime', 'ingested negative'];
    const e = generated(1, 9)[0];
    for (const label of takes) {
      const patch = mutations.find(([l]) => l === label)![1];
      expect([label, compare(sut, Codecs.ClickEvent.encode({ ...e, ...patch }), label)]).toEqual([label, true]);
    }
    for (const label of leaves) {
      const patch = mutations.find(([l]) => l === label)![1];
      expect([label, sut.transcode(Codecs.ClickEvent.encode({ ...e, ...patch }), new RowBinaryEncoder(), 0, '0', STORED)]).toEqual([label, false]);
    }
  });

  it('never writes a corrupted record the general path would write differently (byte-flip fuzz)', () => {
    let seed = 777;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const events = generated(300, 8).map((e, i) => Codecs.ClickEvent.encode(i % 3 === 0 ? { ...e, properties: { a: '1', bb: 'x', ccc: 'yy' } } : e));
    let taken = 0;
    let left = 0;
    for (let round = 0; round < 25; round++) {
      for (const [i, original] of events.entries()) {
        const bytes = Buffer.from(original);
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[10 + Math.floor(rand() * (bytes.length - 10))] = Math.floor(rand() * 256);
        const cut = rand() < 0.1 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
        if (compare(sut, cut, `fuzz ${round}/${i}`)) taken++;
        else left++;
      }
    }
    expect(taken).toBeGreaterThan(100);
    expect(left).toBeGreaterThan(100);
  });

  it('reuses the record key only where the bytes are ASCII and equal to it', () => {
    const bytes = Buffer.from(Codecs.ClickEvent.encode({ ...generated(1, 3)[0], user_id: 'user-QQ9' }));
    const at = bytes.indexOf(Buffer.from('user-QQ9'));
    bytes[at + 7] = 0xe9; // not UTF-8: avsc decodes U+FFFD, although 'é' is U+00E9
    expect(compare(sut, bytes, 'latin-1 byte', 3, '1', 'user-QQ\u00e9')).toBe(true);
    expect(sut.key).toBe('user-QQ\ufffd');
    expect(compare(sut, Codecs.ClickEvent.encode({ ...generated(1, 3)[0], user_id: 'user-QQ9' }), 'same', 3, '1', 'user-QQ9')).toBe(true);
    expect(sut.key).toBe('user-QQ9');
  });

  it('leaves other writer schemas and invalid UTF-8 to the general path', () => {
    const e = generated(1, 2)[0];
    const bytes = Codecs.ClickEvent.encode({ ...e, city: 'abc' });
    const other = Buffer.from(bytes);
    other[4] ^= 1;
    expect(sut.transcode(other, new RowBinaryEncoder(), 0, '0', STORED)).toBe(false);
    const at = bytes.indexOf(Buffer.from('abc'));
    const bad = Buffer.from(bytes);
    bad[at] = 0xc3; // a lead byte followed by 'b': invalid UTF-8, avsc would decode U+FFFD
    expect(sut.transcode(bad, new RowBinaryEncoder(), 0, '0', STORED)).toBe(false);
    expect(general(bad, 0, '0')).not.toBeNull();
    // A UTF-8-encoded surrogate and an overlong encoding: both decode to U+FFFD, so not copied.
    for (const seq of [[0xed, 0xa0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80]]) {
      const b = Buffer.from(bytes);
      b.set(seq, at);
      expect([seq, sut.transcode(b, new RowBinaryEncoder(), 0, '0', STORED)]).toEqual([seq, false]);
      expect(general(b, 0, '0')!.row.includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(true);
    }
    const ok = Buffer.from(bytes);
    ok.set([0xe2, 0x82, 0xac], at); // '€': valid
    expect(compare(sut, ok, 'euro sign')).toBe(true);
  });
});
