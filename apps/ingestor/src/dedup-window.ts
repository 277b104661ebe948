/**
 * Remembers recently forwarded event ids in bounded memory, so a re-sent event is counted as a
 * duplicate instead of being forwarded again.
 *
 * Design: each id is reduced to a 64-bit hash (two independent 32-bit string hashes) and stored
 * in one of G generations; each generation is an open-addressing table (linear probing) in a
 * Uint32Array, sized once for `maxIds / (G - 1)` ids at load factor 0.7. The current generation
 * takes inserts; when it is full or `horizonMs / (G - 1)` has passed, the oldest generation is
 * cleared and becomes the current one. So an id is remembered for at least
 * min(horizonMs, the time until (G - 1) · capacity newer ids arrived) and the memory is fixed:
 * G · capacity / 0.7 · 8 bytes, i.e. about 8 · G / ((G - 1) · 0.7) ≈ 13 bytes per id in the
 * horizon for G = 8 (reported by `bytesPerId`).
 *
 * Exactness: the only error is a 64-bit hash collision between a new id and one of n remembered
 * ids, which would count a distinct event as a duplicate. Its probability per event is
 * about n / 2^64 (5.4e-13 for n = 10 M); at 100 M events a day that is one lost event in
 * ~50,000 years. No false negatives within the horizon. State is per process.
 */
export interface DedupOptions {
  horizonMs: number;
  maxIds: number;
  /** Number of generations (≥ 2); more means a tighter horizon and more probes per lookup. */
  generations?: number;
}

const LOAD = 0.7;

class Generation {
  readonly slots: Uint32Array;
  readonly capacity: number;
  size = 0;
  startedAt = 0;

  constructor(readonly maxIds: number) {
    this.capacity = Math.max(16, Math.ceil(maxIds / LOAD));
    this.slots = new Uint32Array(this.capacity * 2);
  }

  private slotOf(h1: number, h2: number): number {
    // Open addressing on the pair; (0, 0) marks an empty slot, so hashes never take that value.
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) >>> 0;
    i %= this.capacity;
    for (;;) {
      const a = this.slots[2 * i];
      const b = this.slots[2 * i + 1];
      if ((a === 0 && b === 0) || (a === h1 && b === h2)) return i;
      i = i + 1 === this.capacity ? 0 : i + 1;
    }
  }

  has(h1: number, h2: number): boolean {
    const i = this.slotOf(h1, h2);
    return this.slots[2 * i] === h1 && this.slots[2 * i + 1] === h2;
  }

  /** False when already present. */
  add(h1: number, h2: number): boolean {
    const i = this.slotOf(h1, h2);
    if (this.slots[2 * i] === h1 && this.slots[2 * i + 1] === h2) return false;
    this.slots[2 * i] = h1;
    this.slots[2 * i + 1] = h2;
    this.size++;
    return true;
  }

  clear(now: number): void {
    this.slots.fill(0);
    this.size = 0;
    this.startedAt = now;
  }
}

/**
 * The last hash computed by `hashString` / `hashBytes`: the low half is returned, the high half
 * is left here (no array per call on the hot path). Read it right after the call.
 */
export const lastHash = { h2: 0 };

/** Finishes cyrb53's mixing, kept at full 2 × 32 bits; (0, 0) is reserved for empty slots. */
function finish(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h1 >>>= 0;
  h2 >>>= 0;
  if (h1 === 0 && h2 === 0) h2 = 1;
  lastHash.h2 = h2;
  return h1;
}

/** 64-bit hash of a string (UTF-16 code units): returns the low half, the high half in `lastHash.h2`. */
export function hashString(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/**
 * The same hash over bytes `buf[start, end)`: equal to `hashString` of the string those bytes
 * spell when they are ASCII (each byte is then one code unit), which is the only case callers use.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/** 64-bit hash of a string as two 32-bit halves (cyrb53's mixing, kept at full 2 × 32 bits). */
export function hash64(s: string): [number, number] {
  const h1 = hashString(s);
  return [h1, lastHash.h2];
}

/**
 * A set of 64-bit hashes that grows as needed: the ids of one intake batch (duplicates within a
 * batch), sized from the batch so it rarely grows.
 */
export class HashSet64 {
  private gen: Generation;

  constructor(expected = 16) {
    this.gen = new Generation(Math.max(16, expected));
  }

  /** False when already present. */
  add(h1: number, h2: number): boolean {
    if (this.gen.size >= this.gen.maxIds) this.grow();
    return this.gen.add(h1, h2);
  }

  has(h1: number, h2: number): boolean {
    return this.gen.has(h1, h2);
  }

  get size(): number {
    return this.gen.size;
  }

  private grow(): void {
    const old = this.gen;
    this.gen = new Generation(old.maxIds * 2);
    const s = old.slots;
    for (let i = 0; i < s.length; i += 2) if (s[i] !== 0 || s[i + 1] !== 0) this.gen.add(s[i], s[i + 1]);
  }
}

export class DedupWindow {
  private readonly gens: Generation[];
  private current = 0;
  private readonly genSpanMs: number;
  readonly enabled: boolean;

  constructor(
    private readonly opts: DedupOptions,
    now = Date.now(),
  ) {
    const g = Math.max(2, opts.generations ?? 8);
    this.enabled = opts.maxIds > 0 && opts.horizonMs > 0;
    const perGen = this.enabled ? Math.ceil(opts.maxIds / (g - 1)) : 0;
    this.gens = this.enabled ? Array.from({ length: g }, () => new Generation(perGen)) : [];
    for (const gen of this.gens) gen.startedAt = now;
    this.genSpanMs = opts.horizonMs / (g - 1);
  }

  /** True if `eventId` was added within the horizon. */
  has(eventId: string): boolean {
    const h1 = hashString(eventId);
    return this.hasHash(h1, lastHash.h2);
  }

  /** `has` for an id already hashed with `hashString` / `hashBytes`. */
  hasHash(h1: number, h2: number): boolean {
    if (!this.enabled) return false;
    for (const g of this.gens) if (g.size > 0 && g.has(h1, h2)) return true;
    return false;
  }

  /** Remembers `eventId` (call after the event was durably forwarded). */
  add(eventId: string, now = Date.now()): void {
    const h1 = hashString(eventId);
    this.addHash(h1, lastHash.h2, now);
  }

  /** `add` for an id already hashed with `hashString` / `hashBytes`. */
  addHash(h1: number, h2: number, now = Date.now()): void {
    if (!this.enabled) return;
    let cur = this.gens[this.current];
    if (cur.size >= cur.maxIds || now - cur.startedAt >= this.genSpanMs) {
      this.current = (this.current + 1) % this.gens.length;
      cur = this.gens[this.current]!;
      cur.clear(now);
    }
    cur.add(h1, h2);
  }

  /** Ids currently remembered (over all generations). */
  get size(): number {
    return this.gens.reduce((n, g) => n + g.size, 0);
  }

  /** Bytes held by the tables (fixed at construction). */
  get bytes(): number {
    return this.gens.reduce((n, g) => n + g.slots.byteLength, 0);
  }

  /** Bytes per id at the configured maximum number of ids. */
  get bytesPerId(): number {
    return this.opts.maxIds > 0 ? this.bytes / this.opts.maxIds : 0;
  }
}
