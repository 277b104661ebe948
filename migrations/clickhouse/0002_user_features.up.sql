-- Latest feature snapshot per user as emitted on user.features.v1 (the full UserFeatures
-- message as JSON plus the headline numbers as columns for analytics). Read with FINAL.
CREATE TABLE IF NOT EXISTS user_features (
  user_key String,
  as_of DateTime,
  as_of_ms UInt64,
  emitted_at DateTime,
  event_count UInt64,
  views_30d UInt32,
  cart_adds_30d UInt32,
  purchases_30d UInt32,
  spend_30d Float64,
  features_json String
) ENGINE = ReplacingMergeTree(as_of_ms)
ORDER BY user_key
