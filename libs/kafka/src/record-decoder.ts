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
