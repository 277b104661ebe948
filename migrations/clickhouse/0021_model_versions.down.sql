DROP TABLE IF EXISTS model_versions
