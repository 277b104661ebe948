import type { RowBinaryEncoder } from '@app/clickhouse';
import { Codecs, SINGLE_OBJECT_HEADER_LENGTH } from '@app/contracts';
import type { FeatureSource } from '@app/features';
import { StringInterner } from './interner';

/**
 * The aggregator's fast path from a ClickEvent's Avro bytes to its `events` row: the fields the
 * features need are decoded (ids, type, times, category, brand, numbers), the others — device,
 * geo, ip, user agent, referrer, query, currency, properties, source — are copied from the Avro
 * bytes into the RowBinary row without becoming JavaScript strings. Decoding every field (avsc)
 * and writing it back was the largest share of the aggregator's CPU after garbage collection.
 *
 * The row is exactly what `encodeEventRow` writes for the decoded event (spec:
 * event-transcoder.spec.ts, generated events, mutations and a byte-flip fuzz). Whatever is not
 * the plain case returns false before anything is written, and the caller decodes with avsc:
 * another writer schema, corrupt bytes, text that is not valid UTF-8 (avsc would replace it),
 * properties whose keys a JavaScript object would reorder or merge (array indices, repeats,
 * `__proto__`), values a column cannot hold.
 */
export class EventTranscoder {
  /** After a successful `transcode`: what `toFeatureEvent` needs. */
  readonly event: FeatureSource = {
    event_id: '', event_type: '', ts: 0, item_id: null, category: null, brand: null, price: null,
    quantity: null, rating: null, session_id: null, ingested_at: null,
  };
  /** After a successful `transcode`: user_id, else anonymous_id, else event_id (clickEventKey). */
  key = '';
  /** After a successful `transcode`: the byte offset of the row's `late` column (see markLate). */
  lateAt = 0;

  private buf: Buffer = Buffer.alloc(0);
  /** The event's bytes are buf[.., end). */
  private end = 0;
  private pos = 0;
  private ok = true;
  /**
   * Types, categories and brands repeat across events, items less so: each comes from a cache of
   * the strings already decoded, so they are not decoded again and the states that keep them share
   * one string (interner.ts). Ids and sessions are mostly new.
   */
  private readonly labels = new StringInterner(12);
  private readonly items = new StringInterner(16);
  /** Start and end of each copied string (by field order below), -1 for null. */
  private readonly spans = new Int32Array(2 * COPIED);
  /** skipProperties' key spans (start, end, start, end...). */
  private readonly keySpans: number[] = [];

  /**
   * Appends the `events` row of the event in `input[start, end)` (late = 0, like encodeEventRow)
   * and fills `event`, `key` and `lateAt`; false (nothing written) when the caller must decode the
   * event itself. `recordKey` is the record's key, decoded.
   */
  transcode(
    input: Buffer,
    out: RowBinaryEncoder,
    partition: number,
    offset: string | number,
    storedAt: number,
    recordKey = '',
    start = 0,
    end = input.length,
  ): boolean {
    if (!Codecs.ClickEvent.isCurrentWriter(input, start)) return false;
    this.buf = input;
    this.end = end;
    this.pos = start + SINGLE_OBJECT_HEADER_LENGTH;
    this.ok = true;
    const e = this.event;
    const spans = this.spans;
    e.event_id = this.string();
    // The record key is the user id the ingestor keyed the event by (clickEventKey): its string,
    // already decoded for the state lookup, is reused when the bytes are its characters.
    const userId = this.unionBranch() ? this.keyString(recordKey) : null;
    const anonymousId = this.nullableString();
    e.session_id = this.nullableString();
    e.event_type = this.interned(this.labels);
    e.ts = this.long();
    e.item_id = this.unionBranch() ? this.interned(this.items) : null;
    e.category = this.unionBranch() ? this.interned(this.labels) : null;
    e.brand = this.unionBranch() ? this.interned(this.labels) : null;
    e.price = this.unionBranch() ? this.double() : null;
    this.span(spans, 0); // currency
    e.quantity = this.unionBranch() ? this.long() : null;
    e.rating = this.unionBranch() ? this.long() : null;
    for (let f = 1; f < COPIED - 1; f++) this.span(spans, f); // query ... referrer
    const propsStart = this.pos;
    const props = this.skipProperties();
    const propsEnd = this.pos;
    e.ingested_at = this.unionBranch() ? this.long() : null;
    this.span(spans, COPIED - 1); // source
    const backfill = this.pos < end ? input[this.pos++] : -1;
    if (!this.ok || this.pos !== end || backfill > 1 || backfill < 0 || props < 0) return false;
    // Values encodeEventRow would refuse (it throws; the general path dead-letters them).
    const ingested = e.ingested_at ?? e.ts;
    if (!fitsDateTime(e.ts) || !fitsDateTime(ingested) || (e.rating !== null && (e.rating < 0 || e.rating > 255))) return false;
    if (e.quantity !== null && (e.quantity < 0 || e.quantity > 0xffffffff)) return false;
    if (partition < 0 || partition > 0xffff) return false;

    const key = userId ?? anonymousId ?? e.event_id;
    out.string(e.event_id);
    out.string(key);
    out.string(userId ?? '');
    out.string(anonymousId ?? '');
    out.string(e.session_id ?? '');
    out.string(e.event_type);
    out.dateTime(Math.floor(e.ts / 1000));
    out.uint16(e.ts % 1000);
    out.string(e.item_id ?? '');
    out.string(e.category ?? '');
    out.string(e.brand ?? '');
    out.nullableFloat64(e.price);
    this.copy(out, 0);
    out.uint32(e.quantity ?? 1);
    out.nullableUInt8(e.rating);
    for (let f = 1; f < COPIED - 1; f++) this.copy(out, f);
    this.copyProperties(out, propsStart, propsEnd, props);
    this.copy(out, COPIED - 1);
    out.uint8(backfill);
    this.lateAt = out.byteLength;
    out.uint8(0); // late
    out.uint8(1); // ver
    out.dateTime(Math.floor(ingested / 1000));
    out.uint16(ingested % 1000);
    out.uint16(partition);
    out.uint64(offset);
    out.dateTime(Math.floor(storedAt / 1000));
    this.key = key;
    this.buf = EMPTY;
    return true;
  }

  /** Zig-zag varint (Avro int/long) up to 2^53. */
  private long(): number {
    const buf = this.buf;
    let z = 0;
    let scale = 1;
    for (let i = 0; i < 8 && this.pos < this.end; i++) {
      const b = buf[this.pos++];
      z += (b & 0x7f) * scale;
      if (b < 0x80) return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
      scale *= 128;
    }
    this.ok = false;
    return 0;
  }

  private double(): number {
    if (this.pos + 8 > this.end) {
      this.ok = false;
      return 0;
    }
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  private unionBranch(): boolean {
    if (this.pos >= this.end) {
      this.ok = false;
      return false;
    }
    const b = this.buf[this.pos++];
    if (b === 2) return true;
    if (b !== 0) this.ok = false;
    return false;
  }

  /**
   * Start of a string (its end is `pos` after the call); ok is cleared when it overruns or, with
   * `utf8`, is not valid UTF-8. Only copied strings need that check: decoded ones are replaced the
   * way avsc replaces them, and written from the decoded string in both paths.
   */
  private stringSpan(utf8: boolean): number {
    const n = this.long();
    const start = this.pos;
    if (!this.ok || n < 0 || start + n > this.end || (utf8 && !isUtf8(this.buf, start, start + n))) {
      this.ok = false;
      return start;
    }
    this.pos = start + n;
    return start;
  }

  private string(): string {
    const s = this.stringSpan(false);
    return this.ok ? this.buf.toString('utf8', s, this.pos) : '';
  }

  private nullableString(): string | null {
    return this.unionBranch() ? this.string() : null;
  }

  private interned(cache: StringInterner): string {
    const s = this.stringSpan(false);
    return this.ok ? cache.get(this.buf, s, this.pos) : '';
  }

  /** A string: `key` itself when the bytes are ASCII and its characters one by one (ids are), else decoded. */
  private keyString(key: string): string {
    const s = this.stringSpan(false);
    if (!this.ok) return '';
    const n = this.pos - s;
    if (key.length === n) {
      const buf = this.buf;
      let i = 0;
      while (i < n && buf[s + i] < 0x80 && key.charCodeAt(i) === buf[s + i]) i++;
      if (i === n) return key;
    }
    return this.buf.toString('utf8', s, this.pos);
  }

  /** A `["null","string"]` field to copy: its span in `spans[2f]`, `spans[2f+1]` (-1 for null). */
  private span(spans: Int32Array, f: number): void {
    if (this.unionBranch()) {
      spans[2 * f] = this.stringSpan(true);
      spans[2 * f + 1] = this.pos;
    } else {
      spans[2 * f] = -1;
    }
  }

  /** Writes a copied field as a RowBinary String (null as ''). */
  private copy(out: RowBinaryEncoder, f: number): void {
    const s = this.spans[2 * f];
    if (s < 0) out.uint8(0); // '' (length 0)
    else out.rawString(this.buf, s, this.spans[2 * f + 1]);
  }

  /**
   * Skips `properties` (map<string>), checking that a JavaScript object would keep its keys as
   * they are: no repeats, no array-index keys (those come first in an object), no `__proto__`.
   * Returns the number of entries, or -1 when the general path must handle it.
   */
  private skipProperties(): number {
    let total = 0;
    const keys = this.keySpans; // spans of the keys so far (the first nk), reused from event to event
    let nk = 0;
    for (;;) {
      let n = this.long();
      if (!this.ok) return -1;
      if (n === 0) return total;
      if (n < 0) {
        n = -n;
        this.long(); // block size in bytes
      }
      if (n > this.end - this.pos) return -1;
      for (let i = 0; i < n; i++) {
        const ks = this.stringSpan(true);
        const ke = this.pos;
        this.stringSpan(true);
        if (!this.ok || isIndexOrProto(this.buf, ks, ke)) return -1;
        for (let j = 0; j < nk; j += 2) if (this.buf.compare(this.buf, ks, ke, keys[j], keys[j + 1]) === 0) return -1;
        keys[nk++] = ks;
        keys[nk++] = ke;
      }
      total += n;
    }
  }

  /** prop_keys then prop_values, from the map bytes (entries are key, value, key, value, ...). */
  private copyProperties(out: RowBinaryEncoder, start: number, end: number, count: number): void {
    for (let pass = 0; pass < 2; pass++) {
      out.arrayLength(count);
      this.pos = start;
      while (this.pos < end) {
        let n = this.long();
        if (n === 0) break;
        if (n < 0) {
          n = -n;
          this.long();
        }
        for (let i = 0; i < n; i++) {
          const ks = this.stringSpan(false); // checked by skipProperties
          const ke = this.pos;
          const vs = this.stringSpan(false);
          const ve = this.pos;
          if (pass === 0) out.rawString(this.buf, ks, ke);
          else out.rawString(this.buf, vs, ve);
        }
      }
    }
    this.pos = end;
  }
}

/** Strings copied as bytes: currency, then query … referrer (10), then source. */
const COPIED = 12;
const EMPTY = Buffer.alloc(0);
const PROTO = Buffer.from('__proto__', 'latin1');

/** DateTime seconds and the UInt16 milliseconds encodeEventRow writes for `ms`. */
const fitsDateTime = (ms: number) => ms >= 0 && Math.floor(ms / 1000) <= 0xffffffff;

/** Canonical array indices (0 … 2^32 − 2, no leading zeros) sort first in an object: refuse them, and `__proto__`. */
function isIndexOrProto(buf: Buffer, s: number, e: number): boolean {
  if (e - s === PROTO.length && buf.compare(PROTO, 0, PROTO.length, s, e) === 0) return true;
  if (e === s) return false;
  for (let i = s; i < e; i++) if (buf[i] < 0x30 || buf[i] > 0x39) return false;
  return true; // all digits: maybe an index (refusing every digit string is simpler and safe)
}

/** Whether bytes are valid UTF-8 (what `toString('utf8')` decodes without replacement characters). */
function isUtf8(buf: Buffer, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = buf[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return false;
    if (i + need >= e) return false;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const b = buf[i + k];
      if ((b & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
