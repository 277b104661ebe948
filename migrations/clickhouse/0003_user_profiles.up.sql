-- Latest profile per user (versioned: the highest version wins under FINAL) with the whole
-- ProfileUpdated as JSON for the lookup API's warm-up and misses, and flat columns for analytics
-- (docs/analytics.md "Profiles and segments"). Attributes as parallel arrays (no Map on 18.16).
CREATE TABLE IF NOT EXISTS user_profiles (
  user_id String,
  version UInt64,
  as_of DateTime,
  computed_at DateTime,
  computed_at_ms UInt64,
  ingested_at_ms UInt64,
  model_version String,
  segments Array(String),
  risk_score Float64,
  risk_band String,
  views_30d UInt32,
  purchases_30d UInt32,
  spend_30d Float64,
  purchase_propensity Float64,
  price_sensitivity String,
  top_categories Array(String),
  attribute_names Array(String),
  attribute_values Array(String),
  attribute_sources Array(String),
  profile_json String
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id
