-- Segment membership history: one row per user entering or leaving a segment, at the event time
-- of the profile version that did it. Replacing on (segment, user_id, profile_version) so a batch
-- retried after a partial failure does not double-count (read with FINAL).
CREATE TABLE IF NOT EXISTS segment_history (
  segment String,
  user_id String,
  action Enum8('enter' = 1, 'leave' = 2),
  at DateTime,
  recorded_at DateTime,
  profile_version UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (segment, user_id, profile_version)
