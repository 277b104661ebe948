/**
 * Hot spots of kafkajs 2.2.4, replaced by equivalent code (the first two found with a sampling
 * allocation profile of bench:aggregate, together ~40 % of the aggregator's allocations; the third
 * with a cpu profile of bench:ingest; the fourth, fetched records, with a trace of bench:aggregate —
 * see record-decoder.ts):
 *
 * 1. `groupMessagesPerPartition` builds each partition's list with `[...current, message]`: a copy
 *    of the list per message, quadratic in the messages of one send (35 % of all allocations).
 *    Replaced by a linear grouping with the same result (same keys, same order).
 * 2. The record Encoder (below).
 * 3. Produce request encoding, ~20 % of the ingestor's cpu: an Encoder per record and per header,
 *    then the records copied into the batch body, the body into the batch, the batch into the
 *    record set. `encodeProduceV3` (produce-encoder.ts) writes an uncompressed request into one
 *    buffer, sized first; any other input goes through kafkajs' own encoder.
 *
 * 4. Fetched records: record-decoder.ts.
 * 5. Request framing: one copy of each request's payload instead of two (`frameRequest` below).
 * 6. Fetched record batches, uncompressed: one `FetchedRecord` per record (record-decoder.ts).
 * 7. Responses read without a Buffer per socket read (frame-reader.ts).
 *
 * Encoder: kafkajs 2.2.4 encodes every produced record with `new Encoder()`, which zero-fills a 512-byte
 * buffer (`Buffer.alloc`), and grows encoders by allocating zero-filled buffers again. Every byte
 * is overwritten before it is read (encoders only append, and `buffer` slices to the write offset),
 * so the zero-filling is pure cost: in cpu profiles of bench:aggregate and bench:ingest these
 * allocations were ~6 % of the service's CPU, plus the garbage they make.
 *
 * This swaps the Encoder module's export for a subclass that allocates with `Buffer.allocUnsafe` (small
 * sizes come from Node's shared pool) before any other kafkajs module loads it; the wire bytes are
 * identical (scripts/check-kafkajs-patches.js compares produce requests byte for byte and groupings, and every
 * integration test produces through it). It applies only to the exact kafkajs version it was
 * written against, and only when it runs before kafkajs is loaded (libs/kafka imports it first);
 * otherwise kafkajs stays as it is. `PORTRAIT_KAFKAJS_PATCHES=0` turns them all off.
 */
import { createRequire } from 'node:module';
import { crc32c } from './crc32c';
import { frameSocketFactory, readFrames } from './frame-reader';
import { encodeProduceV3, LongClass, ProduceArgs } from './produce-encoder';
import { fastRecordBatchDecoder, fastRecordDecoder } from './record-decoder';

const PATCHED_VERSION = '2.2.4';

export type PatchState = 'patched' | 'disabled' | 'version-mismatch' | 'too-late' | 'unavailable';

interface EncoderClass {
  new (initialSize?: number): { buf: Buffer; offset: number; writeVarLong(value: unknown): unknown };
  nextPowerOfTwo(value: number): number;
  sizeOfVarLong(value: unknown): number;
}

/** The 64-bit zigzag encoding of a plain number within ±2^30 (then < 2^31), else null. */
function smallZigZag64(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= -0x40000000 || value >= 0x40000000) return null;
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function install(): PatchState {
  if (process.env.PORTRAIT_KAFKAJS_PATCHES === '0') return 'disabled';
  try {
    const req = createRequire(__filename);
    const version = (req('kafkajs/package.json') as { version: string }).version;
    if (version !== PATCHED_VERSION) return 'version-mismatch';
    const cache = req.cache;
    const encoderPath = req.resolve('kafkajs/src/protocol/encoder');
    // Too late once a module that captured the original class is loaded (kafkajs loads them all at once).
    if (cache[req.resolve('kafkajs/src/protocol/recordBatch/record/v0')]) return 'too-late';
    const Original = req(encoderPath) as EncoderClass;
    const entry = cache[encoderPath];
    if (!entry) return 'unavailable'; // e.g. under jest's own module registry
    class UnsafeAllocEncoder extends Original {
      constructor(initialSize = 511) {
        super(0); // allocates 1 byte
        this.buf = Buffer.allocUnsafe(Original.nextPowerOfTwo(initialSize));
        this.offset = 0;
      }

      ensureAvailable(length: number): void {
        if (this.offset + length > this.buf.length) {
          const grown = Buffer.allocUnsafe(Original.nextPowerOfTwo(this.offset + length));
          this.buf.copy(grown, 0, 0, this.offset);
          this.buf = grown;
        }
      }

      // Varints written in place (kafkajs builds a byte array and a Buffer per varint, and 64-bit
      // ones through Long objects): same LEB128 bytes; longs outside ±2^30 take kafkajs' path.
      writeUVarInt(value: number): this {
        this.ensureAvailable(5);
        while ((value & 0xffffff80) !== 0) {
          this.buf[this.offset++] = (value & 0x7f) | 0x80;
          value >>>= 7;
        }
        this.buf[this.offset++] = value & 0x7f;
        return this;
      }

      override writeVarLong(value: unknown): this {
        const zz = smallZigZag64(value);
        if (zz === null) return super.writeVarLong(value) as this;
        let v = zz;
        this.ensureAvailable(5);
        while (v >= 0x80) {
          this.buf[this.offset++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        this.buf[this.offset++] = v;
        return this;
      }

      static override sizeOfVarLong(value: unknown): number {
        const zz = smallZigZag64(value);
        if (zz === null) return Original.sizeOfVarLong(value);
        let bytes = 1;
        for (let v = zz; v >= 0x80; v >>>= 7) bytes++;
        return bytes;
      }
    }
    const groupingPath = req.resolve('kafkajs/src/producer/groupMessagesPerPartition');
    if (cache[req.resolve('kafkajs/src/producer/sendMessages')]) return 'too-late';
    req(groupingPath);
    const grouping = cache[groupingPath];
    if (!grouping) return 'unavailable';
    entry.exports = UnsafeAllocEncoder;
    grouping.exports = groupMessagesPerPartition;

    // 3. Produce requests (v4-v7 reuse v3's encoder, captured when they load).
    const produceV3Path = req.resolve('kafkajs/src/protocol/requests/produce/v3/request');
    if (cache[req.resolve('kafkajs/src/protocol/requests/produce/v4/request')]) return 'too-late';
    const originalProduce = req(produceV3Path) as (args: ProduceArgs) => { encode: () => Promise<unknown> };
    const produceEntry = cache[produceV3Path];
    if (!produceEntry) return 'unavailable';
    const Long = req('kafkajs/src/utils/long') as LongClass;
    const fastProduce = (args: ProduceArgs) => {
      const request = originalProduce(args) as ReturnType<typeof originalProduce> & Partial<Headroom>;
      const encodeOriginal = request.encode;
      request.encode = async () => {
        // The room createRequest (5.) asks for in front of the body, read before any await.
        const headroom = request.headroom ?? 0;
        const body = encodeProduceV3(args, { Long, crc32C: crc32c, dateNow: Date.now() }, headroom);
        if (!body) return encodeOriginal();
        const encoder = new UnsafeAllocEncoder(0) as InstanceType<EncoderClass> & Partial<Headroom>;
        encoder.buf = body;
        encoder.offset = body.length;
        encoder.headroom = headroom;
        return encoder;
      };
      return request;
    };
    // PORTRAIT_KAFKAJS_PRODUCE_PATCH=0: this one off alone (A/B measurements).
    if (process.env.PORTRAIT_KAFKAJS_PRODUCE_PATCH !== '0') produceEntry.exports = fastProduce;

    // 4. Fetched records (record-decoder.ts); the batch decoder captures it when it loads.
    const recordDecoderPath = req.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder');
    if (cache[req.resolve('kafkajs/src/protocol/recordBatch/v0/decoder')]) return 'too-late';
    const originalRecordDecoder = req(recordDecoderPath) as Parameters<typeof fastRecordDecoder>[0];
    const recordDecoderEntry = cache[recordDecoderPath];
    if (!recordDecoderEntry) return 'unavailable';
    const fastRecords = fastRecordDecoder(originalRecordDecoder);
    // PORTRAIT_KAFKAJS_FETCH_PATCH=0: this one off alone (A/B measurements).
    if (process.env.PORTRAIT_KAFKAJS_FETCH_PATCH !== '0') recordDecoderEntry.exports = fastRecords;

    // 6. Uncompressed record batches (record-decoder.ts: FetchedRecord); the fetch response's
    // decodeMessages captures the batch decoder when it loads. Compressed batches go on through
    // kafkajs' batch decoder, and with it through the record decoder of 4.
    const batchDecoderPath = req.resolve('kafkajs/src/protocol/recordBatch/v0/decoder');
    if (cache[req.resolve('kafkajs/src/protocol/requests/fetch/v4/decodeMessages')]) return 'too-late';
    const originalBatchDecoder = req(batchDecoderPath) as Parameters<typeof fastRecordBatchDecoder>[0];
    const batchDecoderEntry = cache[batchDecoderPath];
    if (!batchDecoderEntry) return 'unavailable';
    const fastBatches = fastRecordBatchDecoder(originalBatchDecoder, req(recordDecoderPath) as Parameters<typeof fastRecordBatchDecoder>[1], req('kafkajs/src/protocol/decoder'));
    if (process.env.PORTRAIT_KAFKAJS_FETCH_PATCH !== '0') batchDecoderEntry.exports = fastBatches;

    // 5. Request framing (protocol/request.js), captured by network/connection when it loads.
    const requestPath = req.resolve('kafkajs/src/protocol/request');
    if (cache[req.resolve('kafkajs/src/network/connection')]) return 'too-late';
    req(requestPath);
    const requestEntry = cache[requestPath];
    if (!requestEntry) return 'unavailable';
    const framed = frameRequest(UnsafeAllocEncoder);
    requestEntry.exports = framed;

    // 7. Responses read without a Buffer per socket read (frame-reader.ts): a prototype method,
    // so it applies whenever it is installed; the socket factory that reads into one buffer is
    // handed out (frameSockets) only once it is.
    const Connection = req('kafkajs/src/network/connection') as { prototype: { processData: unknown } };
    if (process.env.PORTRAIT_KAFKAJS_FETCH_PATCH !== '0') {
      Connection.prototype.processData = readFrames;
      const kafkajsSockets = (req('kafkajs/src/network/socketFactory') as () => Parameters<typeof frameSocketFactory>[0])();
      frameSockets = frameSocketFactory(kafkajsSockets);
    }

    return req(encoderPath) === UnsafeAllocEncoder &&
      req(requestPath) === framed &&
      req(groupingPath) === groupMessagesPerPartition &&
      (req(produceV3Path) === fastProduce || process.env.PORTRAIT_KAFKAJS_PRODUCE_PATCH === '0') &&
      (req(recordDecoderPath) === fastRecords || process.env.PORTRAIT_KAFKAJS_FETCH_PATCH === '0') &&
      (req(batchDecoderPath) === fastBatches || process.env.PORTRAIT_KAFKAJS_FETCH_PATCH === '0')
      ? 'patched'
      : 'unavailable';
  } catch {
    return 'unavailable';
  }
}

/** Bytes left free at the start of an encoded request body for the size and header (see frameRequest). */
interface Headroom {
  headroom: number;
}

type Payload = { buf: Buffer; offset: number } & Partial<Headroom>;

interface FramedRequestArgs {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<Payload> | Payload } & Partial<Headroom>;
}

/**
 * kafkajs' protocol/request.js without copying the payload twice: it copies each request's
 * encoded payload behind the header into one encoder, then that behind the size into another.
 * For produce requests that tripled the bytes allocated outside V8's heap, which V8 answers with
 * full garbage collections (bench:aggregate). Now produce bodies are encoded with room for the
 * size and header in front (no copy), other requests are copied once. Same bytes: int32 size,
 * int16 api key, int16 api version, int32 correlation id, the client id as a nullable int16-length
 * string, payload.
 */
function frameRequest(Encoder: new (initialSize?: number) => { buf: Buffer; offset: number }) {
  return async function createRequest({ correlationId, clientId, request }: FramedRequestArgs) {
    const { apiKey, apiVersion } = request;
    const idBytes = clientId == null ? -1 : Buffer.byteLength(clientId, 'utf8');
    const header = 4 + 2 + 2 + 4 + 2 + Math.max(0, idBytes);
    // Produce requests (3.) leave this much room in front of their body: no copy at all then.
    request.headroom = header;
    const payload = await request.encode();
    const inPlace = payload.headroom === header;
    const bodyBytes = inPlace ? payload.offset - header : payload.offset;
    const buf = inPlace ? payload.buf : Buffer.allocUnsafe(header + bodyBytes);
    let at = buf.writeInt32BE(header - 4 + bodyBytes, 0);
    at = buf.writeInt16BE(apiKey, at);
    at = buf.writeInt16BE(apiVersion, at);
    at = buf.writeInt32BE(correlationId, at);
    at = buf.writeInt16BE(idBytes, at);
    if (idBytes > 0) at += buf.write(clientId!, at, idBytes, 'utf8');
    if (!inPlace) payload.buf.copy(buf, at, 0, payload.offset);
    const out = new Encoder(0);
    out.buf = buf;
    out.offset = header + bodyBytes;
    return out;
  };
}

interface GroupingArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

/** kafkajs' groupMessagesPerPartition, linear: { [partition]: messages in input order }. */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupingArgs): Record<number, unknown[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

/** What happened to kafkajs in this process (logged by the services at start). */
/** The socket factory for kafkajs clients (KafkaBus): see frame-reader.ts; undefined = kafkajs' own. */
let frameSockets: ReturnType<typeof frameSocketFactory> | undefined;

export const kafkajsPatches: PatchState = install();

/** The socket factory to give kafkajs (`new Kafka({ socketFactory })`): ours once its reader is installed. */
export function kafkaSocketFactory(): ReturnType<typeof frameSocketFactory> | undefined {
  return kafkajsPatches === 'patched' ? frameSockets : undefined;
}
