/**
 * Two allocation hot spots of kafkajs 2.2.4's producer, replaced by equivalent code (found with a
 * sampling allocation profile of bench:aggregate; together ~40 % of the aggregator's allocations):
 *
 * 1. `groupMessagesPerPartition` builds each partition's list with `[...current, message]`: a copy
 *    of the list per message, quadratic in the messages of one send (35 % of all allocations).
 *    Replaced by a linear grouping with the same result (same keys, same order).
 * 2. The record Encoder (below).
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
 * otherwise kafkajs stays as it is. `PORTRAIT_KAFKAJS_PATCHES=0` turns both off.
 */
import { createRequire } from 'node:module';

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
    return req(encoderPath) === UnsafeAllocEncoder && req(groupingPath) === groupMessagesPerPartition ? 'patched' : 'unavailable';
  } catch {
    return 'unavailable';
  }
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
export const kafkajsPatches: PatchState = install();
