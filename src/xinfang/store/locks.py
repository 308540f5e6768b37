"""Named locks held for the rest of the caller's transaction: one writer at a time for a whole-table task.

Why: several app instances and workers share one database, and some tasks read a table, decide, then write (the
warning scan looks for the open alert of a situation before opening one). Two runs at once would both find
nothing and both open one. Holding a named lock from the start of the transaction makes the second run wait for the
first to commit and then see its rows (READ COMMITTED reads each statement afresh).

PostgreSQL: `pg_advisory_xact_lock`, part of core PostgreSQL since 8.2 (no extension) and offered by its domestic
derivatives; released at commit or rollback, so a crashed process cannot leave it behind. SQLite: nothing to do, as
transactions here begin IMMEDIATE and so already hold the database's single write lock.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from xinfang.store.db import is_postgres

# Advisory locks are per database, not per schema: the key includes the schema so that deployments (or test runs)
# sharing a database in separate schemas never wait for each other. md5 and the bit casts are core SQL functions.
_HOLD = text(
    "SELECT pg_advisory_xact_lock(('x' || substr(md5(current_schema() || ':' || :name), 1, 16))::bit(64)::bigint)"
)


def hold(session: Session, name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called `name` (in the session's schema)."""
    if is_postgres(session):
        session.execute(_HOLD, {"name": name})
