-- Every candidate model version the trainer made, published or held back by the gate.
CREATE TABLE IF NOT EXISTS model_versions (
  model_version String,
  created_at DateTime,
  created_at_ms UInt64,
  parent_version String,
  backend String,
  trained_samples UInt64,
  published UInt8,
  gate String,
  heads_json String,
  metrics_json String
) ENGINE = ReplacingMergeTree(created_at_ms)
ORDER BY model_version
