"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from xinfang.runtime import Runtime
from xinfang.store.migrate import current_revision, upgrade
from xinfang.store.schema import metadata


def test_the_database_is_at_head_and_matches_the_models(runtime: Runtime) -> None:
    upgrade(runtime.engine)  # a second upgrade is a no-op
    assert current_revision(runtime.engine) is not None
    with runtime.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_sqlite_runs_in_wal_mode_with_full_sync(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        return
    with runtime.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
