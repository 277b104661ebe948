-- Latest profile per user (versioned: the highest version wins under FINAL) with the whole
-- ProfileUpdated as JSON for the lookup API's warm-up, and columns for analytics.
CREATE TABLE IF NOT EXISTS user_profiles (
  user_id String,
  version UInt64,
  as_of DateTime,
  computed_at DateTime,
  model_version String,
  segments Array(String),
  risk_score Float64,
  profile_json String
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id
