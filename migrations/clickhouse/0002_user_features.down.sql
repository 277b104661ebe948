DROP TABLE IF EXISTS user_features
