"""Database engine, sessions and migrations (SQLite by default, PostgreSQL for larger deployments)."""
