"""The app's PostgreSQL connections compile no query with JIT (store.db._postgres_session_settings)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from xinfang.runtime import Runtime


def test_app_connections_have_jit_off(runtime: Runtime, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"
        assert conn.execute(text("SELECT 1")).scalar() == 1  # the connection is usable after the setting
