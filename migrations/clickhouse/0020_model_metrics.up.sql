-- Prequential (test-then-train) sliding-window metrics of the trainer, one row per head per
-- emission. role = 'live' (the published version, shadow-scored on fresh samples) or 'learner'
-- (the model being trained). per_class_recall as parallel arrays (no Map on 18.16).
CREATE TABLE IF NOT EXISTS model_metrics (
  emitted_at DateTime,
  emitted_at_ms UInt64,
  model_version String,
  role String,
  samples_seen UInt64,
  window_size UInt32,
  drift UInt8,
  head String,
  kind String,
  n UInt64,
  accuracy Float64,
  macro_f1 Float64,
  log_loss Float64,
  auc Nullable(Float64),
  majority_accuracy Float64,
  majority_macro_f1 Float64,
  recall_classes Array(String),
  recall_values Array(Float64)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(emitted_at)
ORDER BY (model_version, emitted_at, head)
