-- Every validated event, once. Replays and redeliveries insert the same row again; the
-- ReplacingMergeTree key (user_key, ts, event_id) makes them one row for queries that read with
-- FINAL (never rely on merges having happened). Partitioned by month of event time so retention
-- is a DROP PARTITION; ordered by user then time for per-user reads (features, point-in-time).
CREATE TABLE IF NOT EXISTS events (
  event_id String,
  user_key String,
  user_id String,
  anonymous_id String,
  session_id String,
  event_type LowCardinality(String),
  ts DateTime,
  ts_ms UInt16,
  item_id String,
  category String,
  brand String,
  price Nullable(Float64),
  currency LowCardinality(String),
  quantity UInt32,
  rating Nullable(UInt8),
  query String,
  target_user_id String,
  device LowCardinality(String),
  os LowCardinality(String),
  city String,
  region String,
  country LowCardinality(String),
  ip String,
  user_agent String,
  referrer String,
  prop_keys Array(String),
  prop_values Array(String),
  source LowCardinality(String),
  backfill UInt8,
  late UInt8,
  ingested_at DateTime,
  ingested_ms UInt16,
  kafka_partition UInt16,
  kafka_offset UInt64,
  stored_at DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree(stored_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (user_key, ts, event_id)
