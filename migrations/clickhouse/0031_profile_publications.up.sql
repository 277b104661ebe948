-- One row per published profile version (user_profiles keeps only the latest per user): the
-- basis of freshness percentiles (published minus ingested) and publication rates over time.
CREATE TABLE IF NOT EXISTS profile_publications (
  user_id String,
  version UInt64,
  as_of DateTime,
  computed_at DateTime,
  computed_at_ms UInt64,
  ingested_at_ms UInt64,
  changed_fields Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(computed_at)
ORDER BY (user_id, version)
