DROP TABLE IF EXISTS profile_publications
