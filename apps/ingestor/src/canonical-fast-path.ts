import { Codecs, SINGLE_OBJECT_HEADER_LENGTH } from '@app/contracts';
import { hashBytes, lastHash } from './dedup-window';
import { EVENT_TYPES, MIN_TS, NormalizeOptions } from './event-normalizer';
import { truncateIp } from './privacy';

/**
 * The Kafka intake's fast path for raw ClickEvents that are already in canonical form: it checks
 * the Avro bytes against the normaliser's rules and writes the validated event by copying them,
 * without decoding to JavaScript strings and encoding again. A CPU profile of the raw intake put
 * over half of the ingestor's time in that round trip (avsc read and write, string decoding, the
 * normaliser's objects and their garbage).
 *
 * It handles only the case where normalisation would leave every field as it is, except the ones
 * the ingestor always sets: `ip` truncated, `ingested_at`, `source`, `backfill`, and the default
 * `currency` when a price has none. Anything else — a field to trim, a synonym to map, a numeric
 * id written as "266079.0", non-ASCII text, any rule broken, an older writer schema, privacy rules
 * beyond IP truncation, even a non-minimal varint — makes `transcode` return false, and the caller
 * takes the general path (decode, `normalizeEvent`, privacy, encode), which also produces every
 * rejection and its reason. The output is then byte for byte what the general path would write;
 * canonical-fast-path.spec.ts checks that on generated events and on thousands of mutations of
 * them, and that generated events do take this path.
 */
export class CanonicalFastPath {
  /** After a successful `transcode`: the validated event (single-object encoding). */
  value: Buffer = EMPTY;
  /** After a successful `transcode`: the message key (user_id, else anonymous_id). */
  key: Buffer = EMPTY;
  /** After a successful `transcode`: the 64-bit hash of event_id (as `hashString` gives it). */
  h1 = 0;
  h2 = 0;

  private readonly eventTypes: Buffer[];
  private readonly defaultCurrency: Buffer;
  private readonly sourceName: Buffer;
  private slab: Buffer = EMPTY;
  private slabPos = 0;

  // The reader's position and the spans found by the last `transcode`.
  private buf: Buffer = EMPTY;
  private pos = 0;
  private ok = true;

  constructor(
    private readonly opts: NormalizeOptions,
    source: string,
  ) {
    assertLayout();
    this.eventTypes = EVENT_TYPES.map((t) => Buffer.from(t, 'latin1'));
    this.defaultCurrency = Buffer.from(opts.defaultCurrency, 'utf8');
    this.sourceName = Buffer.from(source, 'utf8');
  }

  /**
   * Validates and rewrites one raw ClickEvent. True: `value`, `key`, `h1`/`h2` hold the result.
   * False: not the canonical case; nothing is known about the record, take the general path.
   */
  transcode(input: Buffer, now: number): boolean {
    const o = this.opts;
    if (!Codecs.ClickEvent.isCurrentWriter(input)) return false;
    this.buf = input;
    this.pos = SINGLE_OBJECT_HEADER_LENGTH;
    this.ok = true;
    const idMax = o.maxIdLength;
    const textMax = o.maxStringLength;

    // event_id
    const idStart = this.stringStart();
    const idEnd = this.pos;
    // (ASCII only: its hash must be the one `hashString` gives the decoded id.)
    if (!this.ok || !this.isCanonicalId(idStart, idEnd, idMax) || this.sawUnicode) return false;
    // user_id, anonymous_id: one of them is required
    let keyStart = -1;
    let keyEnd = -1;
    if (this.nullableId(idMax)) {
      keyStart = this.spanStart;
      keyEnd = this.pos;
    }
    if (!this.ok) return false;
    if (this.nullableId(idMax) && keyStart < 0) {
      keyStart = this.spanStart;
      keyEnd = this.pos;
    }
    if (!this.ok || keyStart < 0) return false;
    // session_id
    this.nullableId(idMax);
    // event_type: already one of the canonical names
    const typeStart = this.stringStart();
    if (!this.ok || !this.isEventType(typeStart, this.pos)) return false;
    // ts
    const ts = this.readLong();
    if (!this.ok || ts < MIN_TS || ts > now + o.maxFutureSkewMs) return false;
    // item_id, category, brand (category and brand: only when they read as ids)
    this.nullableId(idMax);
    this.nullableId(idMax);
    this.nullableId(idMax);
    if (!this.ok) return false;
    // price
    let hasPrice = false;
    if (this.unionBranch()) {
      if (this.pos + 8 > input.length) return false;
      const price = input.readDoubleLE(this.pos);
      this.pos += 8;
      if (!Number.isFinite(price) || price < 0 || price > o.maxPrice) return false;
      hasPrice = true;
    }
    // currency: three upper-case letters, or none (the default then applies when there is a price)
    const currencyStart = this.pos;
    const hasCurrency = this.unionBranch();
    if (hasCurrency) {
      const s = this.stringStart();
      if (!this.ok || this.pos - s !== 3 || !isUpper(input[s]) || !isUpper(input[s + 1]) || !isUpper(input[s + 2])) return false;
    }
    const currencyEnd = this.pos;
    // quantity, rating
    if (this.unionBranch()) {
      const q = this.readLong();
      if (!this.ok || q < 1 || q > o.maxQuantity || q > INT32_MAX) return false;
    }
    if (this.unionBranch()) {
      const r = this.readLong();
      if (!this.ok || r < 1 || r > 5) return false;
    }
    if (!this.ok) return false;
    // query, target_user_id, device, os, city, region, country
    this.nullableText(textMax);
    this.nullableId(idMax);
    for (let i = 0; i < 5; i++) this.nullableText(textMax);
    if (!this.ok) return false;
    // ip: truncated like the privacy filter does
    const ipStart = this.pos;
    let ip: string | null = null;
    if (this.nullableText(textMax)) {
      ip = truncateIp(input.toString('utf8', this.spanStart, this.pos));
      if (ip === null) return false;
    }
    const ipEnd = this.pos;
    // user_agent, referrer
    this.nullableText(textMax);
    this.nullableText(textMax);
    if (!this.ok || !this.properties()) return false;
    const copyEnd = this.pos;
    // ingested_at (replaced)
    if (this.unionBranch()) this.readLong();
    // source: a producer's own (1 to 64 ASCII characters) is kept, else the intake path's name
    let sourceStart = -1;
    let sourceEnd = -1;
    if (this.unionBranch()) {
      const s = this.stringStart();
      if (!this.ok) return false;
      for (let i = s; i < this.pos; i++) if (input[i] >= 0x80) return false;
      if (this.pos - s >= 1 && this.pos - s <= 64) {
        sourceStart = s;
        sourceEnd = this.pos;
      }
    }
    // backfill
    if (!this.ok || this.pos >= input.length) return false;
    const backfillByte = input[this.pos++];
    if (backfillByte > 1 || this.pos !== input.length) return false;
    const backfill = backfillByte === 1 || ts < now - o.backfillAfterMs;

    // Sizes, then one write into the slab: value, then key.
    const currencyBytes = hasCurrency ? currencyEnd - currencyStart : hasPrice ? 1 + stringSize(this.defaultCurrency.length) : 1;
    const ipBytes = ip === null ? 1 : 1 + stringSize(ip.length);
    const source = sourceStart >= 0 ? sourceEnd - sourceStart : this.sourceName.length;
    const ingestedZ = now >= 0 ? now * 2 : -now * 2 - 1;
    const valueBytes =
      SINGLE_OBJECT_HEADER_LENGTH +
      (currencyStart - SINGLE_OBJECT_HEADER_LENGTH) +
      currencyBytes +
      (ipStart - currencyEnd) +
      ipBytes +
      (copyEnd - ipEnd) +
      1 + varintSize(ingestedZ) +
      1 + stringSize(source) +
      1;
    const keyBytes = keyEnd - keyStart;
    const out = this.take(valueBytes + keyBytes);
    let w = this.slabPos;
    w += input.copy(out, w, 0, currencyStart); // the header (the current writer's) and the fields up to currency
    if (hasCurrency) w += input.copy(out, w, currencyStart, currencyEnd);
    else if (hasPrice) {
      out[w++] = 2;
      w = writeVarint(out, w, this.defaultCurrency.length * 2);
      w += this.defaultCurrency.copy(out, w);
    } else out[w++] = 0;
    w += input.copy(out, w, currencyEnd, ipStart);
    if (ip === null) out[w++] = 0;
    else {
      out[w++] = 2;
      w = writeVarint(out, w, ip.length * 2);
      w += out.write(ip, w, 'latin1');
    }
    w += input.copy(out, w, ipEnd, copyEnd);
    out[w++] = 2;
    w = writeVarint(out, w, ingestedZ);
    out[w++] = 2;
    w = writeVarint(out, w, source * 2);
    w += sourceStart >= 0 ? input.copy(out, w, sourceStart, sourceEnd) : this.sourceName.copy(out, w);
    out[w++] = backfill ? 1 : 0;
    const valueEnd = w;
    w += input.copy(out, w, keyStart, keyEnd);
    if (valueEnd - this.slabPos !== valueBytes) return false; // a bug; the spec compares sizes and bytes
    this.value = out.subarray(this.slabPos, valueEnd);
    this.key = out.subarray(valueEnd, w);
    this.slabPos = w;
    this.h1 = hashBytes(input, idStart, idEnd);
    this.h2 = lastHash.h2;
    this.buf = EMPTY;
    return true;
  }

  /** Output space: slices of a shared slab (a message keeps its slab alive only until sent). */
  private take(n: number): Buffer {
    if (this.slabPos + n > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
      this.slabPos = 0;
    }
    return this.slab;
  }

  /** Start of the last nullable string read. */
  private spanStart = 0;

  /** Zig-zag varint (Avro int/long); only minimal encodings below 2^53 are taken. */
  private readLong(): number {
    const buf = this.buf;
    let z = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= buf.length) break;
      const b = buf[this.pos++];
      z += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) break; // not minimal: avsc would write fewer bytes
        return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
      }
      scale *= 128;
    }
    this.ok = false;
    return 0;
  }

  /** Union index of a `["null", X]` field: false for null, true for X. */
  private unionBranch(): boolean {
    const b = this.buf[this.pos++];
    if (b === 0) return false;
    if (b !== 2) this.ok = false;
    return b === 2;
  }

  /** Reads a string's length and skips its bytes; returns where they start. */
  private stringStart(): number {
    const n = this.readLong();
    const start = this.pos;
    if (n < 0 || start + n > this.buf.length) {
      this.ok = false;
      return start;
    }
    this.pos = start + n;
    return start;
  }

  /** A `["null","string"]` id field; true when present (span from `spanStart` to `pos`). */
  private nullableId(max: number): boolean {
    if (!this.ok || !this.unionBranch()) return false;
    const s = this.stringStart();
    if (!this.ok || !this.isCanonicalId(s, this.pos, max)) {
      this.ok = false;
      return false;
    }
    this.spanStart = s;
    return true;
  }

  /** A `["null","string"]` text field; true when present (span from `spanStart` to `pos`). */
  private nullableText(max: number): boolean {
    if (!this.ok || !this.unionBranch()) return false;
    const s = this.stringStart();
    if (!this.ok || !this.isCanonicalText(s, this.pos, max)) {
      this.ok = false;
      return false;
    }
    this.spanStart = s;
    return true;
  }

  /** Set by `isCanonicalText` when the text it accepted is not ASCII. */
  private sawUnicode = false;

  /**
   * Text that `clean()` leaves as it is, 1 to `max` characters: printable ASCII without
   * surrounding spaces, or (decoded) valid UTF-8 already in NFC without surrounding white space.
   */
  private isCanonicalText(s: number, e: number, max: number): boolean {
    this.sawUnicode = false;
    const n = e - s;
    if (n < 1) return false;
    const buf = this.buf;
    for (let i = s; i < e; i++) {
      const c = buf[i];
      if (c < 0x20 || c > 0x7e) return c >= 0x80 && this.isCanonicalUnicode(s, e, max);
    }
    return n <= max && buf[s] !== 0x20 && buf[e - 1] !== 0x20;
  }

  private isCanonicalUnicode(s: number, e: number, max: number): boolean {
    const text = this.buf.toString('utf8', s, e);
    // U+FFFD: invalid UTF-8 was replaced (the general path would write different bytes).
    if (text.length > max || text.includes('\ufffd') || text.normalize('NFC') !== text || text.trim() !== text) return false;
    this.sawUnicode = true;
    return true;
  }

  /** Canonical text that is not an integral decimal ("266079.0" becomes "266079"). */
  private isCanonicalId(s: number, e: number, max: number): boolean {
    return this.isCanonicalText(s, e, max) && !this.isIntegralDecimal(s, e);
  }

  /** `/^-?\d+\.0+$/` over bytes. */
  private isIntegralDecimal(s: number, e: number): boolean {
    const buf = this.buf;
    let i = s;
    if (buf[i] === 0x2d) i++;
    const digits = i;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === digits || i >= e || buf[i] !== 0x2e) return false;
    i++;
    if (i >= e) return false;
    while (i < e && buf[i] === 0x30) i++;
    return i === e;
  }

  private isEventType(s: number, e: number): boolean {
    const n = e - s;
    for (const t of this.eventTypes) {
      if (t.length !== n) continue;
      let i = 0;
      while (i < n && t[i] === this.buf[s + i]) i++;
      if (i === n) return true;
    }
    return false;
  }

  /**
   * `properties`: one block of at most `maxProperties` entries, keys printable ASCII of 1 to 128
   * characters (not reserved, not array indices: those would be reordered), no key twice, values
   * canonical text (empty allowed) up to the length cap.
   */
  private properties(): boolean {
    const count = this.readLong();
    if (!this.ok || count < 0) return false;
    if (count === 0) return true;
    if (count > this.opts.maxProperties) return false;
    const keys: number[] = [];
    const buf = this.buf;
    for (let k = 0; k < count; k++) {
      const ks = this.stringStart();
      const ke = this.pos;
      if (!this.ok || !this.isCanonicalText(ks, ke, 128) || this.sawUnicode || isReservedOrIndex(buf, ks, ke)) return false;
      for (let j = 0; j < keys.length; j += 2) if (buf.compare(buf, ks, ke, keys[j], keys[j + 1]) === 0) return false;
      keys.push(ks, ke);
      const vs = this.stringStart();
      if (!this.ok || (this.pos > vs && !this.isCanonicalText(vs, this.pos, this.opts.maxStringLength))) return false;
    }
    return this.readLong() === 0 && this.ok;
  }
}

const EMPTY = Buffer.alloc(0);
const SLAB_BYTES = 256 * 1024;
const INT32_MAX = 2 ** 31 - 1;
const RESERVED = ['__proto__', 'constructor', 'prototype'].map((k) => Buffer.from(k, 'latin1'));

const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;

function isReservedOrIndex(buf: Buffer, s: number, e: number): boolean {
  let digits = true;
  for (let i = s; i < e && digits; i++) digits = buf[i] >= 0x30 && buf[i] <= 0x39;
  if (digits) return true;
  for (const r of RESERVED) if (buf.compare(r, 0, r.length, s, e) === 0) return true;
  return false;
}

function varintSize(z: number): number {
  let n = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    n++;
  }
  return n;
}

/** Bytes of an Avro string of `n` bytes: zig-zag length varint plus the bytes. */
const stringSize = (n: number): number => varintSize(n * 2) + n;

function writeVarint(buf: Buffer, at: number, z: number): number {
  while (z >= 0x80) {
    buf[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[at++] = z;
  return at;
}

/** The ClickEvent fields, in order, with the Avro types the fast path was written for. */
const LAYOUT =
  'event_id:string user_id:?string anonymous_id:?string session_id:?string event_type:string ts:long ' +
  'item_id:?string category:?string brand:?string price:?double currency:?string quantity:?int rating:?int ' +
  'query:?string target_user_id:?string device:?string os:?string city:?string region:?string country:?string ' +
  'ip:?string user_agent:?string referrer:?string properties:map<string> ingested_at:?long source:?string backfill:boolean';

/** The current ClickEvent schema in LAYOUT's notation. */
export function clickEventLayout(): string {
  const schema = Codecs.ClickEvent.type.schema() as { fields: { name: string; type: unknown }[] };
  const typeOf = (t: unknown): string => {
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) return t.length === 2 && t[0] === 'null' ? `?${typeOf(t[1])}` : JSON.stringify(t);
    const o = t as { type: string; values?: unknown };
    return o.type === 'map' ? `map<${typeOf(o.values)}>` : JSON.stringify(t);
  };
  return schema.fields.map((f) => `${f.name}:${typeOf(f.type)}`).join(' ');
}

/** The fast path reads fields by position: a schema change must come with a change here. */
function assertLayout(): void {
  const current = clickEventLayout();
  if (current !== LAYOUT) {
    throw new Error(`CanonicalFastPath was written for ClickEvent fields\n${LAYOUT}\nbut the schema now has\n${current}`);
  }
}
