DROP TABLE IF EXISTS model_metrics
