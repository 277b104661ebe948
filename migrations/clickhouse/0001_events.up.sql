-- Every validated event, once as observed by queries. Dedup strategy: replays, redeliveries and
-- retried inserts write the same row again; the ReplacingMergeTree key (user_key, ts, event_id)
-- collapses them, so queries that must count exactly read with FINAL (or GROUP BY the key) and never
-- rely on merges having happened. Chosen over insert de-duplication by (topic, partition, offset)
-- because a re-import of a dataset (new offsets, same deterministic event_id) must also count once.
-- The version is `ver` = 1 - late: when an event is seen both in time and, on a replay, as "too late"
-- (its window state moved on), the in-time copy wins, so restore and point-in-time (late = 0) agree.
-- Partitioned by month of event time (retention = DROP PARTITION; day-range queries prune parts);
-- ordered by user then time for the per-user reads (restore, point-in-time, per-user analytics).
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
  ver UInt8,
  ingested_at DateTime,
  ingested_ms UInt16,
  kafka_partition UInt16,
  kafka_offset UInt64,
  stored_at DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(ts)
ORDER BY (user_key, ts, event_id)
