DROP TABLE IF EXISTS segment_history
