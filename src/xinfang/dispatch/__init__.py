"""Intelligent dispatch, database side: stored rules versions, review queue, corrections, keywords, repeats."""
