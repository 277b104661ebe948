/**
 * CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines for schema
 * fingerprints ("Schema Fingerprints" in the spec) and that single-object encoding puts in its
 * header. avsc's `Type#fingerprint` only offers crypto hashes, so we carry the spec's algorithm.
 *
 * The spec's reference code works on signed Java longs; BigInt keeps that exact without the
 * 32-bit halves juggling. Fingerprints are computed once per schema, so speed does not matter.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK_64 = 0xffffffffffffffffn;

const TABLE: readonly bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      // (fp >>> 1) ^ (EMPTY & -(fp & 1)): the spec's branch-free form of "xor EMPTY when odd".
      fp = (fp >> 1n) ^ ((fp & 1n) === 1n ? EMPTY : 0n);
    }
    table.push(fp);
  }
  return table;
})();

/** CRC-64-AVRO of `data` (for a schema: the UTF-8 bytes of its Parsing Canonical Form), unsigned. */
export function rabinFingerprint64(data: Uint8Array | string): bigint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fp = EMPTY;
  for (let i = 0; i < bytes.length; i++) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(bytes[i])) & 0xffn)];
  }
  return fp & MASK_64;
}

/**
 * The fingerprint as the 8 bytes single-object encoding writes after `C3 01`: little-endian, as
 * the spec says ("the 8-byte little-endian CRC-64-AVRO fingerprint of the object's schema").
 */
export function fingerprintBytesLE(fp: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(fp & MASK_64, 0);
  return buf;
}

/** Fingerprint as 16 lowercase hex digits, most significant first (the usual printed form). */
export function fingerprintHex(fp: bigint): string {
  return (fp & MASK_64).toString(16).padStart(16, '0');
}
