/**
 * ClickHouse's RowBinary input format, written straight into a growing buffer: each row is its
 * columns' values back to back, in the column order of the INSERT's column list, without names or
 * text. For the aggregator's `events` rows that is ~3× fewer bytes than JSONEachRow, no row object
 * and no JSON string per row on our side, and no JSON parsing on the server's.
 *
 * Encodings (https://clickhouse.com/docs/en/interfaces/formats#rowbinary; the same on 18.16 and
 * current servers, checked by test/integration/clickhouse-row-binary.int-spec.ts):
 * String = unsigned LEB128 byte length + UTF-8 bytes (LowCardinality(String) alike); UIntN / Float64
 * little-endian; DateTime = UInt32 seconds; Nullable(T) = one byte (1 = NULL) then T unless NULL;
 * Array(T) = LEB128 count + the elements.
 */
/** A double's bytes (float64), through one shared scratch. */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The RangeError Buffer's writers throw for a value out of range (ERR_OUT_OF_RANGE). */
function outOfRange(v: number, max: number): RangeError {
  const err = new RangeError(`The value of "value" is out of range. It must be >= 0 and <= ${max}. Received ${v}`);
  (err as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** Rows handed over by `RowBinaryEncoder.take`. */
export interface RowBinaryChunk {
  /** The rows' bytes; valid until `release`. */
  readonly bytes: Buffer;
  /**
   * Gives the memory back to the encoder for later rows: call it once the bytes are no longer
   * needed (after the insert succeeded), at most once; not calling it only costs an allocation.
   */
  release(): void;
}

/** Chunks smaller than this are copied by `take` rather than handed over with their buffer. */
const HAND_OVER_MIN_BYTES = 256 * 1024;
/** Buffers given back and kept for reuse, at most (more are left to the garbage collector). */
const MAX_SPARE_BUFFERS = 8;
const noop = () => undefined;

export class RowBinaryEncoder {
  private buf: Buffer;
  private pos = 0;
  /** Rows written so far (counted by `endRow`). */
  rows = 0;
  /** Buffers handed over by `take` and given back by `release`, for the next rows. */
  private readonly spare: Buffer[] = [];

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.pos;
  }

  /** The bytes written so far (a view: valid until the next write or `reset`). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * Hands the bytes written so far over and starts again. A buffer that is mostly full is handed
   * over itself, and the encoder goes on in a spare one: a buffer given back by an earlier chunk's
   * `release`, else a new one. Copying tens of megabytes of rows per second — and allocating the
   * copies outside V8's heap, whose growth V8 answers with a full garbage collection about every
   * 64 MB — was the aggregator's largest source of such allocations (bench:aggregate). A small
   * chunk is copied, so that a few rows do not hold a large buffer, and so is one that fills less
   * than half of it when no spare is at hand (a copy is then the smaller allocation).
   */
  take(): RowBinaryChunk {
    const buf = this.buf;
    const n = this.pos;
    this.pos = 0;
    this.rows = 0;
    // Without a spare, handing over costs a new buffer of the whole capacity: copy what fills less than half.
    if (n < HAND_OVER_MIN_BYTES || (n < buf.length / 2 && this.spare.length === 0)) return { bytes: Buffer.from(buf.subarray(0, n)), release: noop };
    let spare = this.spare.pop();
    while (spare !== undefined && spare.length < buf.length) spare = this.spare.pop(); // from before a growth
    this.buf = spare ?? Buffer.allocUnsafe(buf.length);
    let given = false;
    return {
      bytes: buf.subarray(0, n),
      release: () => {
        if (given) return;
        given = true;
        if (this.spare.length < MAX_SPARE_BUFFERS && buf.length >= this.buf.length) this.spare.push(buf);
      },
    };
  }

  endRow(): void {
    this.rows++;
  }

  /** Forgets everything written (keeps the buffer). */
  reset(): void {
    this.pos = 0;
    this.rows = 0;
  }

  /** Drops what was written after `byteLength` was `at` (a row that failed halfway). */
  truncate(at: number): void {
    this.pos = Math.min(this.pos, at);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private leb128(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  string(s: string): void {
    const n = s.length;
    // Short ASCII (most ids and names) in one pass; anything else measures its UTF-8 first.
    if (n < 0x80) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + bytes);
    this.leb128(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  /** A String from bytes that are already UTF-8 (`src[start, end)`), copied. */
  rawString(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(5 + n);
    this.leb128(n);
    const buf = this.buf;
    // Byte by byte up to a few hundred bytes: `set(subarray(...))` allocates a view per string.
    if (n < 512) {
      const at = this.pos - start;
      for (let i = start; i < end; i++) buf[at + i] = src[i];
    } else {
      buf.set(src.subarray(start, end), this.pos);
    }
    this.pos += n;
  }

  stringArray(values: readonly string[]): void {
    this.arrayLength(values.length);
    for (const v of values) this.string(v);
  }

  /** The element count before an Array's elements (write them right after). */
  arrayLength(n: number): void {
    this.ensure(5);
    this.leb128(n);
  }

  // The integers below are stored byte by byte, as Buffer's writeUIntXLE store them, with the
  // same range check: its methods cost 20-70 ns per value (bench: node /tmp-style loop of 2 M),
  // a handful of typed-array stores a few.

  uint8(v: number): void {
    if (v > 0xff || v < 0) throw outOfRange(v, 0xff);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Rewrites one UInt8 already written at byte `at` (e.g. a flag known only after the row). */
  setUInt8(at: number, v: number): void {
    if (at >= this.pos) throw new RangeError(`byte ${at} not written yet`);
    this.buf.writeUInt8(v, at);
  }

  uint16(v: number): void {
    if (v > 0xffff || v < 0) throw outOfRange(v, 0xffff);
    this.ensure(2);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v;
    buf[p + 1] = v >>> 8;
    this.pos = p + 2;
  }

  uint32(v: number): void {
    if (v > 0xffffffff || v < 0) throw outOfRange(v, 0xffffffff);
    this.ensure(4);
    this.put32(v);
  }

  /** Four little-endian bytes of `v` (0 ≤ v < 2^32, or as `>>> 0` takes it). */
  private put32(v: number): void {
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v;
    buf[p + 1] = v >>> 8;
    buf[p + 2] = v >>> 16;
    buf[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** UInt64 from a non-negative integer (number below 2^53, or a decimal string such as a Kafka offset). */
  uint64(v: number | string): void {
    this.ensure(8);
    const n = typeof v === 'number' ? v : Number(v);
    if (Number.isSafeInteger(n) && n >= 0) {
      this.put32(n % 0x100000000);
      this.put32(Math.floor(n / 0x100000000));
    } else {
      this.pos = this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    }
  }

  float64(v: number): void {
    this.ensure(8);
    F64[0] = v;
    const buf = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) buf[p + i] = F64_BYTES[i];
    else for (let i = 0; i < 8; i++) buf[p + i] = F64_BYTES[7 - i];
    this.pos = p + 8;
  }

  /** DateTime: whole seconds since the epoch. */
  dateTime(seconds: number): void {
    this.uint32(seconds);
  }

  nullableFloat64(v: number | null): void {
    if (v === null) this.uint8(1);
    else {
      this.uint8(0);
      this.float64(v);
    }
  }

  nullableUInt8(v: number | null): void {
    if (v === null) this.uint8(1);
    else {
      if (v > 0xff || v < 0) throw outOfRange(v, 0xff);
      this.ensure(2);
      this.buf[this.pos] = 0;
      this.buf[this.pos + 1] = v;
      this.pos += 2;
    }
  }
}
