import { z } from 'zod';
import { baseConfigSchema, envInt, envList, envNumber } from './config';

/** Default HTTP ports (CONTRACTS.md): ingestor 3001, aggregator 3002, trainer 3003, publisher 3004. */
export const DEFAULT_PORTS = {
  ingestor: 3001,
  'feature-aggregator': 3002,
  trainer: 3003,
  'profile-publisher': 3004,
} as const;

export const ingestorConfigSchema = baseConfigSchema.extend({
  INGESTOR_PORT: envInt(DEFAULT_PORTS.ingestor, 0, 65535),
  PORTRAIT_INGEST_KEYS: envList,
  INGEST_MAX_BODY_BYTES: envInt(5 * 1024 * 1024, 1024),
  INGEST_MAX_EVENTS: envInt(10000, 1),
});

export const aggregatorConfigSchema = baseConfigSchema.extend({
  AGGREGATOR_PORT: envInt(DEFAULT_PORTS['feature-aggregator'], 0, 65535),
});

export const trainerConfigSchema = baseConfigSchema.extend({
  TRAINER_PORT: envInt(DEFAULT_PORTS.trainer, 0, 65535),
  TRAINER_BACKEND: z.enum(['gpu', 'node', 'wasm', 'cpu']).optional(),
  TRAINER_BATCH_SIZE: envInt(256, 1, 65536),
  /** Train on a partial mini-batch when no new sample arrived for this long. */
  TRAINER_MAX_WAIT_MS: envInt(2000, 10),
});

export const publisherConfigSchema = baseConfigSchema.extend({
  PUBLISHER_PORT: envInt(DEFAULT_PORTS['profile-publisher'], 0, 65535),
  PORTRAIT_READ_KEYS: envList,
  PUBLISHER_BACKEND: z.enum(['gpu', 'node', 'wasm', 'cpu']).optional(),
  /** Segment rules (JSON); reloaded on change without restart. */
  PUBLISHER_SEGMENTS_FILE: z.string().min(1).default('config/segments.json'),
  /** Poll interval of the segment file, the fallback where fs.watch misses changes. */
  PUBLISHER_SEGMENTS_POLL_MS: envInt(2000, 50),
  /** Profiles kept in memory for the lookup API; misses fall back to ClickHouse. */
  PUBLISHER_CACHE_SIZE: envInt(200_000, 1),
  /** Profiles loaded into the cache at start (most recently computed first). */
  PUBLISHER_WARM_PROFILES: envInt(100_000, 0),
  /** Publish-on-change thresholds: relative change of a count (|new-old| / max(old,1)). */
  PUBLISHER_MIN_COUNT_CHANGE: envNumber(0.1, 0),
  /** Absolute change of a 0-1 score (risk, propensity, confidence, loyalty ...). */
  PUBLISHER_MIN_SCORE_DELTA: envNumber(0.05, 0),
  /** Publish anyway when the last published profile reflects events older than this (event time). */
  PUBLISHER_MAX_STALENESS_MS: envInt(60 * 60 * 1000, 0),
});

export type IngestorConfig = z.infer<typeof ingestorConfigSchema>;
export type AggregatorConfig = z.infer<typeof aggregatorConfigSchema>;
export type TrainerConfig = z.infer<typeof trainerConfigSchema>;
export type PublisherConfig = z.infer<typeof publisherConfigSchema>;
