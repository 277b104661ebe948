import { Codecs } from '@app/contracts';
import { generateEvents, GeneratorOptions, toRawClickEvent } from '@app/datasets';

export { toRawClickEvent };

/**
 * The benchmark workload: the built-in generator's shoppers (seeded, so every run and every
 * benchmark part sees the same stream), turned into the raw `ClickEvent` a producer publishes to
 * `clickstream.raw.v1`. Shared by the limits (message size), the pipeline and the peer run.
 */
export const BENCH_DATASET = 'generator';

export function workloadOptions(seed: number, users: number, days = 3): GeneratorOptions {
  // Event time ends "now", so the windows and the 7-day backfill flag behave as in live traffic.
  const startMs = Math.floor((Date.now() - days * 86_400_000) / 3_600_000) * 3_600_000;
  return { seed, users, days, startMs };
}

/** Mean and median Avro size (single-object encoding) of the first `n` generated events. */
export function measureEventSize(seed = 1, n = 2000): { mean_bytes: number; median_bytes: number; sample: number } {
  const sizes: number[] = [];
  for (const e of generateEvents(workloadOptions(seed, 200, 2))) {
    sizes.push(Codecs.ClickEvent.encode(toRawClickEvent(e)).length);
    if (sizes.length >= n) break;
  }
  sizes.sort((a, b) => a - b);
  const mean = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
  return { mean_bytes: Math.round(mean), median_bytes: sizes[Math.floor(sizes.length / 2)] ?? 0, sample: sizes.length };
}
