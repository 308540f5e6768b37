"""Text understanding: pure functions over Chinese petition text (no database, no web)."""
