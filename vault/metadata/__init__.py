"""The metadata database: models, engine and migrations (SQLite or PostgreSQL)."""
