/**
 * The benchmarks' seeded random numbers in [0, 1): a 31-bit linear congruential generator, so a
 * seed gives the same population, users and requests on every machine (the lookup generators,
 * vegeta's target list and the node open loop, pick the same users for the same seed).
 */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}
