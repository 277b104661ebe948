import { z } from 'zod';
import { baseConfigSchema, envBool, envInt, envList, envNumber } from './config';

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
  /** Events with `ts` further in the future than this are rejected (clock skew allowance). */
  INGEST_MAX_FUTURE_SKEW_MS: envInt(5 * 60_000, 0),
  /** Events older than this (relative to arrival) are accepted but flagged `backfill = true`. */
  INGEST_BACKFILL_AFTER_MS: envInt(7 * 24 * 3_600_000, 0),
  /** Currency assumed for a `price` sent without `currency` (ISO-4217). */
  INGEST_DEFAULT_CURRENCY: z.string().regex(/^[A-Za-z]{3}$/, 'an ISO-4217 code').transform((s) => s.toUpperCase()).default('USD'),
  /** Unknown top-level fields: kept in `properties` (stringified, bounded) or dropped. */
  INGEST_UNKNOWN_FIELDS: z.enum(['keep', 'drop']).default('keep'),
  /** Longest accepted id (event_id, user_id, item_id, ...), in characters. */
  INGEST_MAX_ID_LENGTH: envInt(256, 8, 65536),
  /** Longest accepted free-text value (query, user_agent, referrer, property values, ...). */
  INGEST_MAX_STRING_LENGTH: envInt(2048, 16, 1 << 20),
  /** Most entries in `properties` (explicit plus kept unknown fields). */
  INGEST_MAX_PROPERTIES: envInt(64, 0, 10000),
  /** Highest accepted unit price. */
  INGEST_MAX_PRICE: envNumber(1e9, 0),
  /** Highest accepted quantity. */
  INGEST_MAX_QUANTITY: envInt(100000, 1),
  /** Dedup: an event_id is remembered at least this long ... */
  INGEST_DEDUP_HORIZON_MS: envInt(24 * 3_600_000, 0),
  /** ... unless more than this many newer ids arrived (memory bound, fixed at start: about 13 bytes per id). 0 disables dedup. */
  INGEST_DEDUP_MAX_IDS: envInt(2_000_000, 0),
  /** Fields pseudonymised with HMAC-SHA256 (top-level names or `properties.<key>`). */
  INGEST_PSEUDONYMIZE_FIELDS: envList,
  /** Fields dropped before anything is stored or forwarded (top-level names or `properties.<key>`). */
  INGEST_DROP_FIELDS: envList,
  /** HMAC key for pseudonymised fields; required when INGEST_PSEUDONYMIZE_FIELDS is set. Never logged. */
  PORTRAIT_HMAC_KEY: z.string().min(16, 'at least 16 characters').optional(),
  /** Producer budget: events accepted over HTTP but not yet acknowledged by Kafka; beyond it, 429. */
  INGEST_MAX_INFLIGHT_EVENTS: envInt(200_000, 100),
  /** Concurrent requests' events are coalesced into one Kafka request for up to this long. */
  INGEST_LINGER_MS: envInt(2, 0, 1000),
  /** Most events in one coalesced Kafka request. */
  INGEST_PRODUCE_BATCH_EVENTS: envInt(20_000, 1),
  /** Kafka sends in flight at once for HTTP; meanwhile requests' events pile up and go out together. */
  INGEST_MAX_CONCURRENT_SENDS: envInt(2, 1, 64),
  /** A Kafka send not acknowledged within this time answers 503. */
  INGEST_PRODUCE_TIMEOUT_MS: envInt(10_000, 100),
  /** Consume clickstream.raw.v1 (group ingestor-raw). */
  INGEST_RAW_CONSUMER: envBool(true),
  /** Partitions of the raw topic processed in parallel. */
  INGEST_RAW_CONCURRENCY: envInt(6, 1, 64),
  /** Raw records already in canonical form skip decode/normalise/encode (same output bytes); 0 turns it off. */
  INGEST_RAW_FAST_PATH: envBool(true),
}).refine((c) => c.INGEST_PSEUDONYMIZE_FIELDS.length === 0 || c.PORTRAIT_HMAC_KEY !== undefined, {
  message: 'PORTRAIT_HMAC_KEY is required when INGEST_PSEUDONYMIZE_FIELDS is set',
  path: ['PORTRAIT_HMAC_KEY'],
});

export const aggregatorConfigSchema = baseConfigSchema.extend({
  AGGREGATOR_PORT: envInt(DEFAULT_PORTS['feature-aggregator'], 0, 65535),
  /** Events up to this much older than the user's newest event still enter the windows (< 30 d). */
  AGGREGATOR_ALLOWED_LATENESS_MS: envInt(24 * 3600 * 1000, 0, 29 * 24 * 3600 * 1000),
  /** Half-life of the decayed category/brand interest scores. */
  AGGREGATOR_SCORE_HALF_LIFE_MS: envInt(7 * 24 * 3600 * 1000, 60_000),
  /** Length of the category/brand score and category price lists. */
  AGGREGATOR_TOP_N: envInt(10, 1, 100),
  /** Hot per-user states kept in memory; least recently used ones are evicted beyond this. */
  AGGREGATOR_MAX_USERS: envInt(1_000_000, 1),
  /** UserFeatures of a user are coalesced within this interval (and emitted before the commit). */
  AGGREGATOR_EMIT_INTERVAL_MS: envInt(50, 1, 10_000),
  /** Buffered events writer: flush on this many rows or after this delay. */
  AGGREGATOR_WRITER_MAX_ROWS: envInt(50_000, 1),
  AGGREGATOR_WRITER_MAX_DELAY_MS: envInt(100, 1, 10_000),
  /**
   * Partitions processed in parallel by one process. At least the partitions one process owns
   * (6 per topic): kafkajs fetches again only after every batch of a fetch is handled, so with
   * fewer, a fetch takes two rounds of (write + emit) and latency doubles (bench:aggregate at
   * 2,000 events/s: p50/p99 430/986 ms with 3, 221/415 ms with 6). Their rows share one insert.
   */
  AGGREGATOR_PARTITION_CONCURRENCY: envInt(6, 1, 64),
  /**
   * Bytes fetched per partition per fetch (a fetch holds 64 MiB at most). It matters when the
   * aggregator is behind: each fetch round ends with a wait for the round's last writes, acks and
   * commits, and the next fetch starts only then. bench:aggregate (300k events backlog): 4 MiB
   * ~22k events/s, 16 MiB ~28k. Batches are handled in chunks of 32,768 events (about a second),
   * so a large one does not hold the event loop for several seconds.
   */
  AGGREGATOR_FETCH_MAX_BYTES_PER_PARTITION: envInt(16 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
  /**
   * Batches per partition handed over whose writes and UserFeatures are not yet durable: the next
   * batches are fetched and processed meanwhile, and each is committed once its effects and the
   * earlier ones' are durable. 0: every batch waits for its own effects before the next is fetched.
   */
  AGGREGATOR_PENDING_BATCHES: envInt(2, 0, 16),
  /** Also store each emitted UserFeatures (as JSON) in the user_features table; costs ~30% throughput. */
  AGGREGATOR_STORE_SNAPSHOTS: envBool(false),
});

export const trainerConfigSchema = baseConfigSchema.extend({
  TRAINER_PORT: envInt(DEFAULT_PORTS.trainer, 0, 65535),
  TRAINER_BACKEND: z.enum(['gpu', 'node', 'wasm', 'cpu']).optional(),
  TRAINER_BATCH_SIZE: envInt(256, 1, 65536),
  /** Train on a partial mini-batch when no new sample arrived for this long. */
  TRAINER_MAX_WAIT_MS: envInt(2000, 10),
  /** Attribute heads (comma-separated); empty = one head per attribute name seen in user.attributes.v1. */
  TRAINER_ATTRIBUTES: envList,
  /** Where model versions are saved (model.json, weights.bin, optimizer, meta.json per version). */
  TRAINER_MODEL_DIR: z.string().default('.cache/models'),
  TRAINER_LEARNING_RATE: envNumber(1e-3, 1e-6, 1),
  /** Output slots per attribute head (classes beyond this are masked as unknown). */
  TRAINER_MAX_CLASSES: envInt(16, 2, 256),
  /** Outputs of the next-24 h category head. */
  TRAINER_TOP_K_CATEGORIES: envInt(32, 1, 1024),
  /** Label window: purchases / categories within (as_of, as_of + horizon]. 0 = label at once (tests). */
  TRAINER_LABEL_HORIZON_MS: envInt(24 * 3_600_000, 0),
  /** At most one new sample per user per this much event time. */
  TRAINER_SAMPLE_SPACING_MS: envInt(15 * 60_000, 0),
  /** The event-time watermark trails the newest as_of by this much. */
  TRAINER_WATERMARK_LAG_MS: envInt(10 * 60_000, 0),
  TRAINER_MAX_PENDING: envInt(200_000, 1),
  TRAINER_MAX_USERS: envInt(500_000, 1),
  TRAINER_MAX_ATTRIBUTE_USERS: envInt(2_000_000, 1),
  TRAINER_RESERVOIR_SIZE: envInt(20_000, 0),
  /** Replayed reservoir samples per fresh sample in a mini-batch. */
  TRAINER_REPLAY_RATIO: envNumber(0.5, 0, 4),
  /** A candidate version every N mini-batches or T ms, whichever comes first. */
  TRAINER_VERSION_EVERY_BATCHES: envInt(20, 1),
  TRAINER_VERSION_EVERY_MS: envInt(60_000, 100),
  /** The candidate's paired prequential log loss may exceed the live version's by this fraction. */
  TRAINER_GATE_TOLERANCE: envNumber(0.05, 0, 10),
  /** Paired samples needed before a candidate can replace a live version. */
  TRAINER_GATE_MIN_SAMPLES: envInt(200, 0),
  TRAINER_EVAL_WINDOW: envInt(2000, 10),
  TRAINER_METRICS_EVERY_MS: envInt(10_000, 100),
  /** OS niceness of the trainer process (0 = normal priority, up to 19): the other services win the CPU on a shared host. */
  TRAINER_NICENESS: envInt(10, 0, 19),
  /** Page-Hinkley threshold λ on the prequential loss (higher = fewer drift alarms). */
  TRAINER_DRIFT_LAMBDA: envNumber(50, 0.1),
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
  /** user.features.v1 partitions handled in parallel (see AGGREGATOR_PARTITION_CONCURRENCY for why ≥ the partitions owned). */
  PUBLISHER_PARTITION_CONCURRENCY: envInt(6, 1, 64),
  /** Latest features kept per user (encoded, ~0.3 KB each) to re-score profiles when a new model version loads; 0 = off. */
  PUBLISHER_RESCORE_USERS: envInt(200_000, 0),
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
