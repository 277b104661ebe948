/**
 * A fixed-size, direct-mapped cache of short ASCII strings by their UTF-8 bytes: `get` returns the
 * string `buf.toString('utf8', start, end)` would decode — the cached one when the slot of the
 * bytes' hash holds the same characters, else a freshly decoded one that takes the slot.
 *
 * Only strings with as many characters as bytes are cached. Such a string can only have come
 * from ASCII bytes or from invalid bytes decoded to U+FFFD, which never equals a byte, so a hit
 * (every character equal to its byte) means the bytes are that very ASCII string. Misses cost a
 * hash more than decoding; repeated labels (event types, categories, brands, items) are neither
 * decoded again nor kept once per event by the states that hold them.
 */
export class StringInterner {
  private readonly table: string[];
  private readonly mask: number;
  hits = 0;
  misses = 0;

  /** `bits`: log2 of the slots (12 → 4,096 strings at most). */
  constructor(bits: number) {
    this.table = new Array<string>(1 << bits).fill('');
    this.mask = (1 << bits) - 1;
  }

  get(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n > MAX_BYTES) return buf.toString('utf8', start, end);
    let h = 0x811c9dc5 ^ n;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const cached = this.table[slot];
    if (cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) {
        this.hits++;
        return cached;
      }
    }
    this.misses++;
    const s = buf.toString('utf8', start, end);
    if (s.length === n) this.table[slot] = s;
    return s;
  }
}

/** Longer strings are decoded every time (labels and ids are short). */
const MAX_BYTES = 64;
