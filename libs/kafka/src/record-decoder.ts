/**
 * kafkajs 2.2.4's decoder of one fetched record (`protocol/recordBatch/record/v0/decoder`), without
 * its per-record 64-bit arithmetic: it parses the batch's first offset and first timestamp from
 * decimal strings into `Long`s (BigInts), adds the record's delta and formats the sum back into a
 * string — twice per record — and reads the timestamp delta as a `Long` too. Here the batch's bases
 * are parsed once per batch, and the sums are computed as numbers while they are safe integers
 * (offsets and millisecond timestamps are, by far); anything else takes kafkajs' own code. Records
 * without headers (most) skip its header reader. The result has the same fields and values
 * (record-decoder.spec.ts compares both on encoded record batches).
 */

/** The parts of kafkajs' Decoder this uses. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): { toString(): string };
  readVarIntBytes(): Buffer | null;
}

export interface RecordBatchContext {
  firstOffset: string;
  firstTimestamp: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, unknown>;
  isControlRecord: boolean;
  batchContext: RecordBatchContext;
}

type OriginalDecoder = (decoder: KafkajsDecoder, batchContext?: RecordBatchContext) => DecodedRecord;

/** kafkajs' TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1;

/**
 * Builds the fast decoder; `original` (kafkajs' decoder) handles what the fast path does not:
 * headers, deltas or sums beyond 2^53, bases that are not plain safe integers.
 */
export function fastRecordDecoder(original: OriginalDecoder): OriginalDecoder {
  // The bases of the batch decoded last (records of a batch are decoded one after another).
  let context: RecordBatchContext | null = null;
  let offsetBase = 0;
  let timestampBase = 0;

  return function decodeRecord(decoder, batchContext = {} as RecordBatchContext) {
    if (batchContext !== context) {
      context = batchContext;
      offsetBase = safeInteger(batchContext.firstOffset);
      timestampBase = safeInteger(batchContext.firstTimestamp);
    }
    const start = decoder.offset;
    const buf = decoder.buffer;
    // attributes (int8), timestamp delta (zig-zag varlong), offset delta (zig-zag varint)
    if (start + 1 > buf.length) return original(decoder, batchContext);
    const attributes = buf.readInt8(start);
    decoder.offset = start + 1;
    const timestampDelta = readSmallVarLong(decoder);
    if (timestampDelta === null || Number.isNaN(offsetBase) || Number.isNaN(timestampBase)) {
      decoder.offset = start;
      return original(decoder, batchContext);
    }
    const offsetDelta = decoder.readVarInt();
    const ts = timestampBase + timestampDelta;
    const off = offsetBase + offsetDelta;
    const logAppend = batchContext.timestampType === LOG_APPEND_TIME && batchContext.maxTimestamp;
    if (!Number.isSafeInteger(off) || (!logAppend && !Number.isSafeInteger(ts))) {
      decoder.offset = start;
      return original(decoder, batchContext);
    }
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    // Header count 0 is one byte, 0x00 (zig-zag varint): most records. Others: kafkajs' code.
    if (decoder.offset >= decoder.buffer.length || decoder.buffer[decoder.offset] !== 0) {
      decoder.offset = start;
      return original(decoder, batchContext);
    }
    decoder.offset++;
    return {
      magicByte: batchContext.magicByte,
      attributes,
      timestamp: logAppend ? batchContext.maxTimestamp! : String(ts),
      offset: String(off),
      key,
      value,
      headers: {},
      isControlRecord: batchContext.isControlBatch ?? false,
      batchContext,
    };
  };
}

/** A decimal string as a number when it is a plain safe integer ('-1', '1790812920000'), else NaN. */
function safeInteger(s: unknown): number {
  if (typeof s !== 'string' || !/^-?(0|[1-9][0-9]{0,15})$/.test(s)) return Number.NaN;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/** A zig-zag varlong of at most 7 bytes (|value| < 2^48) as a number, else null (offset unchanged then). */
function readSmallVarLong(decoder: KafkajsDecoder): number | null {
  const buf = decoder.buffer;
  let pos = decoder.offset;
  let z = 0;
  let scale = 1;
  for (let i = 0; i < 7 && pos < buf.length; i++) {
    const b = buf[pos++];
    z += (b & 0x7f) * scale;
    if (b < 0x80) {
      decoder.offset = pos;
      return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
    }
    scale *= 128;
  }
  return null;
}

/**
 * A fetched record that keeps its key and value as positions in its record batch's bytes rather
 * than as Buffers of their own, and its offset and timestamp as numbers: one object per record
 * instead of about six (the record, two Buffer views, two strings, the headers). The aggregator
 * fetches megabytes per partition, so hundreds of thousands of records wait for their turn at once;
 * every one of those objects was copied by young-generation collections, promoted, and marked by
 * each full one (bench:aggregate heap snapshot mid-drain: 1.3 M objects and 0.6 M Buffers, most of
 * them fetched records).
 *
 * kafkajs and our consumers read the usual fields through getters — `key`, `value` (a view made
 * on each read), `offset`, `timestamp` (decimal strings as kafkajs gives them), `headers` — with
 * the values kafkajs' decoder would give (record-decoder.spec.ts). `bytes` and the positions are
 * for readers that want the bytes without a view per record.
 */
export class FetchedRecord {
  constructor(
    /** The record batch's bytes, shared by its records. */
    readonly bytes: Buffer,
    /** The key's bytes are bytes[keyStart, keyEnd); keyStart is -1 for a null key. */
    readonly keyStart: number,
    readonly keyEnd: number,
    /** The value's bytes are bytes[valueStart, valueEnd); valueStart is -1 for a null value. */
    readonly valueStart: number,
    readonly valueEnd: number,
    /** The offset as a number (a safe integer). */
    readonly offsetNumber: number,
    /** The timestamp (epoch ms) as a number; the batch's max timestamp for log-append time. */
    readonly timestampNumber: number,
    readonly attributes: number,
    readonly batchContext: RecordBatchContext,
  ) {}

  get magicByte(): number | undefined {
    return this.batchContext.magicByte;
  }

  get isControlRecord(): boolean {
    return this.batchContext.isControlBatch ?? false;
  }

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : this.bytes.subarray(this.keyStart, this.keyEnd);
  }

  get value(): Buffer | null {
    return this.valueStart < 0 ? null : this.bytes.subarray(this.valueStart, this.valueEnd);
  }

  get offset(): string {
    return String(this.offsetNumber);
  }

  get timestamp(): string {
    const ctx = this.batchContext;
    return ctx.timestampType === LOG_APPEND_TIME && ctx.maxTimestamp ? ctx.maxTimestamp : String(this.timestampNumber);
  }

  /** Records decoded here have no headers (those with headers are kafkajs' own records). */
  get headers(): Record<string, unknown> {
    return {};
  }
}

/** The parts of kafkajs' Decoder the record batch decoder uses. */
export interface KafkajsBatchDecoder extends KafkajsDecoder {
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  slice(size: number): KafkajsBatchDecoder;
  forward(size: number): void;
}

export interface DecodedRecordBatch extends Omit<RecordBatchContext, 'magicByte'> {
  records: (DecodedRecord | FetchedRecord)[];
  [field: string]: unknown;
}

type OriginalBatchDecoder = (fetchDecoder: KafkajsBatchDecoder) => Promise<DecodedRecordBatch>;

const CODEC_MASK = 0x07;
const TIMESTAMP_TYPE_FLAG_MASK = 0x08;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** firstOffset (int64) and length (int32), before the batch's own bytes. */
const BATCH_PREFIX = 12;
/** The batch header after the length, up to the record count: epoch, magic, crc, attributes, ... firstSequence. */
const BATCH_HEADER = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4;

/**
 * kafkajs 2.2.4's record batch decoder (`protocol/recordBatch/v0/decoder`) for uncompressed
 * batches, giving `FetchedRecord`s: it reads each record's fields straight from the batch's bytes,
 * without the Buffer view and Decoder kafkajs makes per record. The batch's fields are read as
 * kafkajs reads them. Compressed and partial batches, and any batch with a record the fast path
 * does not take as a whole (lengths or deltas beyond its small varints, offsets or timestamps that
 * are not safe integers), are decoded by kafkajs' own code from the start; a record with headers is
 * decoded by kafkajs' record decoder (`recordDecoder`), the others of its batch stay fast.
 */
export function fastRecordBatchDecoder(
  original: OriginalBatchDecoder,
  recordDecoder: OriginalDecoder,
  Decoder: new (buffer: Buffer) => KafkajsDecoder,
): OriginalBatchDecoder {
  return async function decodeRecordBatch(fetchDecoder) {
    const start = fetchDecoder.offset;
    const whole = fetchDecoder.buffer;
    if (start + BATCH_PREFIX + BATCH_HEADER + 4 > whole.length) return original(fetchDecoder);
    const length = whole.readInt32BE(start + 8);
    const attributes = whole.readInt16BE(start + BATCH_PREFIX + 4 + 1 + 4);
    if ((attributes & CODEC_MASK) !== 0 || length < BATCH_HEADER + 4 || start + BATCH_PREFIX + length > whole.length) return original(fetchDecoder);

    const firstOffset = fetchDecoder.readInt64().toString();
    fetchDecoder.readInt32(); // length
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // crc (kafkajs does not check it either)
    decoder.readInt16(); // attributes, read above
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
      isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : 0,
    };
    const records = readRecords(decoder, { ...recordContext, magicByte }, recordDecoder, Decoder);
    if (records === null) {
      fetchDecoder.offset = start;
      return original(fetchDecoder);
    }
    return { ...recordContext, records };
  };
}

/** The batch's records (kafkajs' readArray of length-prefixed records), or null to leave the batch to kafkajs. */
function readRecords(
  decoder: KafkajsBatchDecoder,
  ctx: RecordBatchContext,
  recordDecoder: OriginalDecoder,
  Decoder: new (buffer: Buffer) => KafkajsDecoder,
): (DecodedRecord | FetchedRecord)[] | null {
  const buf = decoder.buffer;
  const count = decoder.readInt32();
  if (count === -1) return [];
  if (count < 0 || count > buf.length) return null;
  const offsetBase = safeInteger(ctx.firstOffset);
  const timestampBase = safeInteger(ctx.firstTimestamp);
  if (Number.isNaN(offsetBase) || Number.isNaN(timestampBase)) return null;
  const logAppend = ctx.timestampType === LOG_APPEND_TIME && !!ctx.maxTimestamp;
  const logAppendTime = logAppend ? safeInteger(ctx.maxTimestamp) : 0;
  const records = new Array<DecodedRecord | FetchedRecord>(count);
  const cursor = { pos: decoder.offset };
  for (let i = 0; i < count; i++) {
    const length = smallVarInt(buf, cursor, buf.length);
    if (length === null || length < 1) return null;
    const start = cursor.pos;
    const end = start + length;
    if (end > buf.length) return null;
    const attributes = buf.readInt8(start);
    cursor.pos = start + 1;
    const timestampDelta = smallVarInt(buf, cursor, end);
    const offsetDelta = smallVarInt(buf, cursor, end);
    const keyLength = smallVarInt(buf, cursor, end);
    if (timestampDelta === null || offsetDelta === null || keyLength === null || keyLength < -1) return null;
    const keyStart = keyLength < 0 ? -1 : cursor.pos;
    cursor.pos += Math.max(0, keyLength);
    const valueLength = smallVarInt(buf, cursor, end);
    if (valueLength === null || valueLength < -1) return null;
    const valueStart = valueLength < 0 ? -1 : cursor.pos;
    cursor.pos += Math.max(0, valueLength);
    const off = offsetBase + offsetDelta;
    const ts = timestampBase + timestampDelta;
    if (cursor.pos >= end || !Number.isSafeInteger(off) || (logAppend ? Number.isNaN(logAppendTime) : !Number.isSafeInteger(ts))) return null;
    if (buf[cursor.pos] === 0) {
      // No headers: most records.
      records[i] = new FetchedRecord(buf, keyStart, keyStart + Math.max(0, keyLength), valueStart, valueStart + Math.max(0, valueLength), off, logAppend ? logAppendTime : ts, attributes, ctx);
    } else {
      records[i] = recordDecoder(new Decoder(buf.subarray(start, end)), ctx);
    }
    cursor.pos = end;
  }
  decoder.offset = cursor.pos;
  return records;
}

/** kafkajs' zig-zag varint (readVarInt) of at most 4 bytes (|value| < 2^27), read below `end`; null beyond that. */
function smallVarInt(buf: Buffer, cursor: { pos: number }, end: number): number | null {
  let pos = cursor.pos;
  let z = 0;
  for (let shift = 0; shift < 28 && pos < end; shift += 7) {
    const b = buf[pos++];
    z |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return (z >>> 1) ^ -(z & 1);
    }
  }
  return null;
}
