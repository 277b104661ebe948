/**
 * The body of a Produce request (v3 layout, used by v3-v7) for uncompressed record batches,
 * written into one buffer: the same bytes as kafkajs 2.2.4's encoder, which builds an Encoder
 * per record and per header, copies the records into the batch body, the body into the batch and
 * the batch into the record set (a cpu profile of bench:ingest put ~20 % of the ingestor's time
 * in produce encoding). Sizes are computed first, then every byte is written once.
 *
 * Anything outside the common case (compression, empty partitions, keys or values that are not
 * strings or Buffers, header values that are not strings or Buffers, timestamp deltas beyond
 * ±2^52) makes `encodeProduceV3` return null, and kafkajs' own encoder runs instead — it is the
 * one that decides, e.g., which errors such inputs raise. kafkajs-patches.ts installs it;
 * scripts/check-kafkajs-patches.js compares the bytes with kafkajs' own.
 */

/** kafkajs' `utils/long` (a BigInt wrapper): only what int64 writes need. */
export interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
export interface LongClass {
  fromValue(value: unknown): LongLike;
  fromInt(value: number): LongLike;
}

export interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  timestamp?: unknown;
  headers?: Record<string, unknown> | undefined;
}

export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[] }[];
}

const TRANSACTIONAL_MASK = 16;
/** attributes … firstSequence, then the record count. */
const BATCH_BODY_FIXED = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** firstOffset, batch length, partition leader epoch, magic, crc. */
const RECORD_SET_FIXED = 8 + 4 + 4 + 1 + 4;
const VARINT_MINUS_ONE = 1; // zigzag(-1) = 1: one byte

/** Bytes of the zigzag varint of a 32-bit int (kafkajs `sizeOfVarInt`). */
function sizeOfVarInt(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (v >= 0x80) {
    bytes++;
    v >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, off: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

/** zigzag64 of a safe integer with |v| < 2^52, as a non-negative number below 2^53. */
const zigZag64 = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);

function sizeOfUVarNumber(z: number): number {
  let bytes = 1;
  while (z >= 0x80) {
    bytes++;
    z = Math.floor(z / 0x80);
  }
  return bytes;
}

function writeUVarNumber(buf: Buffer, off: number, z: number): number {
  while (z >= 0x80) {
    buf[off++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[off++] = z;
  return off;
}

const bytesOf = (v: unknown): number => (Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v as string, 'utf8'));
const isBytes = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);

function writeBytes(buf: Buffer, off: number, v: unknown, length: number): number {
  if (Buffer.isBuffer(v)) v.copy(buf, off);
  else buf.write(v as string, off, length, 'utf8');
  return off + length;
}

function writeInt64(buf: Buffer, off: number, long: LongLike): number {
  buf.writeInt32BE(long.getHighBits(), off);
  buf.writeInt32BE(long.getLowBits(), off + 4);
  return off + 8;
}

/** One partition's records, measured: what the write pass needs. */
interface PartitionPlan {
  partition: number;
  firstSequence: number;
  messages: ProduceMessage[];
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  /** Per record: body size, timestamp delta zigzag, key bytes, value bytes (-1 = null). */
  sizes: Float64Array;
  headers: ({ key: string; value: unknown }[] | null)[];
  recordsBytes: number;
}

/**
 * kafkajs' timestamps of a batch: `messages.map(m => m.timestamp).filter(t => t != null).sort()`,
 * whose default comparison is by string; the first and last of that order (a stable sort).
 */
function batchTimestamps(messages: ProduceMessage[], dateNow: number): [unknown, unknown] {
  let first: unknown = undefined;
  let last: unknown = undefined;
  let firstKey = '';
  let lastKey = '';
  for (const m of messages) {
    const t = m.timestamp;
    if (t === null || t === undefined) continue;
    // String(t) on purpose: kafkajs' sort() compares timestamps as strings, whatever their type.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    const k = String(t);
    if (first === undefined || k < firstKey) [first, firstKey] = [t, k];
    if (last === undefined || k >= lastKey) [last, lastKey] = [t, k];
  }
  return first === undefined ? [dateNow, dateNow] : [first, last];
}

function planPartition(p: { partition: number; firstSequence?: number; messages: ProduceMessage[] }, dateNow: number): PartitionPlan | null {
  const n = p.messages.length;
  if (n === 0) return null;
  const [firstTimestamp, maxTimestamp] = batchTimestamps(p.messages, dateNow);
  // kafkajs computes `(message.timestamp || dateNow) - firstTimestamp` with JS coercion.
  const firstTimestampNumber = Number(firstTimestamp);
  const sizes = new Float64Array(n * 4);
  const headers: ({ key: string; value: unknown }[] | null)[] = new Array(n);
  let recordsBytes = 0;
  for (let i = 0; i < n; i++) {
    const m = p.messages[i];
    const delta = Number((m.timestamp as number) || dateNow) - firstTimestampNumber;
    if (!Number.isSafeInteger(delta) || Math.abs(delta) >= 2 ** 52) return null;
    const z = zigZag64(delta);
    const key = m.key;
    const value = m.value;
    if (!(key === null || key === undefined || isBytes(key)) || !(value === null || value === undefined || isBytes(value))) return null;
    const keyBytes = key === null || key === undefined ? -1 : bytesOf(key);
    const valueBytes = value === null || value === undefined ? -1 : bytesOf(value);
    let headerList: { key: string; value: unknown }[] | null = null;
    let headersSize = 1; // varint count (< 64 headers: one byte; checked below)
    const h = m.headers === undefined ? {} : m.headers;
    if (h === null || typeof h !== 'object') return null;
    for (const hk of Object.keys(h)) {
      const hv = h[hk];
      const values = Array.isArray(hv) ? (hv as unknown[]) : [hv];
      for (const v of values) {
        if (!isBytes(v)) return null;
        (headerList ??= []).push({ key: hk, value: v });
        const kb = Buffer.byteLength(hk, 'utf8');
        const vb = bytesOf(v);
        headersSize += sizeOfVarInt(kb) + kb + sizeOfVarInt(vb) + vb;
      }
    }
    if (headerList && headerList.length >= 64) return null;
    const body =
      1 +
      sizeOfUVarNumber(z) +
      sizeOfVarInt(i) +
      (keyBytes < 0 ? VARINT_MINUS_ONE : sizeOfVarInt(keyBytes) + keyBytes) +
      (valueBytes < 0 ? VARINT_MINUS_ONE : sizeOfVarInt(valueBytes) + valueBytes) +
      headersSize;
    sizes[i * 4] = body;
    sizes[i * 4 + 1] = z;
    sizes[i * 4 + 2] = keyBytes;
    sizes[i * 4 + 3] = valueBytes;
    headers[i] = headerList;
    recordsBytes += sizeOfVarInt(body) + body;
  }
  return { partition: p.partition, firstSequence: p.firstSequence ?? 0, messages: p.messages, firstTimestamp, maxTimestamp, sizes, headers, recordsBytes };
}

function writeRecords(buf: Buffer, off: number, plan: PartitionPlan): number {
  const { messages, sizes, headers } = plan;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    off = writeVarInt(buf, off, sizes[i * 4]);
    buf[off++] = 0; // attributes
    off = writeUVarNumber(buf, off, sizes[i * 4 + 1]);
    off = writeVarInt(buf, off, i);
    const keyBytes = sizes[i * 4 + 2];
    if (keyBytes < 0) off = writeVarInt(buf, off, -1);
    else off = writeBytes(buf, writeVarInt(buf, off, keyBytes), m.key, keyBytes);
    const valueBytes = sizes[i * 4 + 3];
    if (valueBytes < 0) off = writeVarInt(buf, off, -1);
    else off = writeBytes(buf, writeVarInt(buf, off, valueBytes), m.value, valueBytes);
    const hs = headers[i];
    off = writeVarInt(buf, off, hs ? hs.length : 0);
    if (hs) {
      for (const h of hs) {
        const kb = Buffer.byteLength(h.key, 'utf8');
        off = writeVarInt(buf, off, kb);
        off += buf.write(h.key, off, kb, 'utf8');
        const vb = bytesOf(h.value);
        off = writeBytes(buf, writeVarInt(buf, off, vb), h.value, vb);
      }
    }
  }
  return off;
}

/**
 * The Produce v3 request body (what kafkajs' `encode()` returns as an Encoder's bytes), or null
 * when this input is not the common case and kafkajs' own encoder must run.
 */
/**
 * The produce request body, or null for input left to kafkajs' encoder. With `headroom`, the body
 * starts that many bytes into the buffer, for the request's size and header to be written in front
 * of it without a copy (kafkajs-patches.ts, request framing).
 */
export function encodeProduceV3(
  args: ProduceArgs,
  deps: { Long: LongClass; crc32C: (b: Buffer) => number; dateNow: number },
  headroom = 0,
): Buffer | null {
  const { Long, crc32C, dateNow } = deps;
  if ((args.compression ?? 0) !== 0) return null;
  const transactionalId = args.transactionalId ?? null;
  const producerId = Long.fromValue(args.producerId === undefined ? Long.fromInt(-1) : args.producerId);
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = transactionalId ? TRANSACTIONAL_MASK : 0;

  const txnBytes = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8');
  let total = 2 + txnBytes + 2 + 4 + 4;
  const plans: { topic: string; topicBytes: number; partitions: PartitionPlan[] }[] = [];
  for (const t of args.topicData) {
    const topicBytes = Buffer.byteLength(t.topic, 'utf8');
    total += 2 + topicBytes + 4;
    const partitions: PartitionPlan[] = [];
    for (const p of t.partitions) {
      const plan = planPartition(p, dateNow);
      if (!plan) return null;
      partitions.push(plan);
      total += 4 + 4 + RECORD_SET_FIXED + BATCH_BODY_FIXED + plan.recordsBytes;
    }
    plans.push({ topic: t.topic, topicBytes, partitions });
  }

  const buf = Buffer.allocUnsafe(headroom + total);
  let off = headroom;
  if (transactionalId === null) off = buf.writeInt16BE(-1, off);
  else {
    off = buf.writeInt16BE(txnBytes, off);
    off += buf.write(transactionalId, off, txnBytes, 'utf8');
  }
  off = buf.writeInt16BE(args.acks, off);
  off = buf.writeInt32BE(args.timeout, off);
  off = buf.writeInt32BE(plans.length, off);
  for (const t of plans) {
    off = buf.writeInt16BE(t.topicBytes, off);
    off += buf.write(t.topic, off, t.topicBytes, 'utf8');
    off = buf.writeInt32BE(t.partitions.length, off);
    for (const p of t.partitions) {
      const bodyBytes = BATCH_BODY_FIXED + p.recordsBytes;
      const batchBytes = 4 + 1 + 4 + bodyBytes; // leader epoch, magic, crc, body
      off = buf.writeInt32BE(p.partition, off);
      off = buf.writeInt32BE(8 + 4 + batchBytes, off); // the record set's size
      off = writeInt64(buf, off, Long.fromInt(0)); // firstOffset
      off = buf.writeInt32BE(batchBytes, off);
      off = buf.writeInt32BE(0, off); // partition leader epoch
      off = buf.writeInt8(2, off); // magic
      const crcAt = off;
      off += 4;
      const bodyStart = off;
      off = buf.writeInt16BE(attributes, off);
      off = buf.writeInt32BE(p.messages.length - 1, off); // lastOffsetDelta
      off = writeInt64(buf, off, Long.fromValue(p.firstTimestamp));
      off = writeInt64(buf, off, Long.fromValue(p.maxTimestamp));
      off = writeInt64(buf, off, producerId);
      off = buf.writeInt16BE(producerEpoch, off);
      off = buf.writeInt32BE(p.firstSequence, off);
      off = buf.writeInt32BE(p.messages.length, off);
      off = writeRecords(buf, off, p);
      buf.writeUInt32BE(crc32C(buf.subarray(bodyStart, off)), crcAt);
    }
  }
  if (off !== headroom + total) throw new Error(`produce encoder: wrote ${off - headroom} of ${total} bytes`);
  return buf;
}
