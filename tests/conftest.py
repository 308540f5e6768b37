"""Shared fixtures: a database per test on each backend, a runtime with a fixed clock, seeded organisation and users.

Backends: SQLite always; PostgreSQL when XINFANG_TEST_DATABASE_URL names one that answers (CI sets it). Each
PostgreSQL test run works in its own schema, so parallel runs and leftovers cannot interfere.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from xinfang.cases.enums import Role
from xinfang.clock import FixedClock
from xinfang.config import Settings
from xinfang.org import geography
from xinfang.org.loader import org_specs
from xinfang.org.models import OrgUnit, User
from xinfang.org.service import upsert_org_units
from xinfang.runtime import Runtime
from xinfang.security import passwords
from xinfang.store.migrate import upgrade
from xinfang.store.schema import metadata

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_KEY = "test-only-key-0123456789abcdef"
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 09:30 in China

# username, password, role, unit
USERS = (
    ("admin", "test-admin-1", Role.ADMIN, "xfj"),
    ("clerk", "test-clerk-1", Role.REGISTRAR, "xfj"),
    ("handler_rsj", "test-handler-1", Role.HANDLER, "rsj"),
    ("handler_zjj", "test-handler-2", Role.HANDLER, "zjj"),
    ("township_wa", "test-township-1", Role.HANDLER, "350428101"),
    ("reviewer", "test-reviewer-1", Role.HANDLER, "xfj"),  # handles 复查/复核 at the bureau
    ("supervisor", "test-super-1", Role.SUPERVISOR, "xfj"),
    ("leader", "test-leader-1", Role.LEADER, "xfj"),
)
PASSWORDS = {u: p for u, p, _r, _c in USERS}

# Tests reuse one PostgreSQL URL for databases of different content (truncated between tests, outside the ORM):
# the org stamp is read every time. tests/db/test_geography_stamp.py covers the trusted interval itself.
geography.STAMP_TTL_SECONDS = 0.0


def _pg_url() -> str | None:
    url = os.environ.get("XINFANG_TEST_DATABASE_URL")
    if not url:
        return None
    return Settings(database_url=url).database_url


def pytest_report_header(config: pytest.Config) -> str:
    url = _pg_url()
    if url:
        return f"PostgreSQL lane: ON ({url.split('@')[-1]})"
    return "PostgreSQL lane: SKIPPED (set XINFANG_TEST_DATABASE_URL to run it; .ci/run does)"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    from xinfang.store.db import make_engine

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the main file
    assert (
        not path.with_name(path.name + "-wal").exists()
        or path.with_name(path.name + "-wal").stat().st_size == 0
    )
    return path


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str | None]:
    url = _pg_url()
    if not url:
        yield None
        return
    schema = f"xf_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - environment problem, reported clearly
        pytest.exit(f"XINFANG_TEST_DATABASE_URL is set but PostgreSQL does not answer: {exc}", returncode=3)
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options=-csearch_path%3D{schema}"
    from xinfang.store.db import make_engine

    engine = make_engine(schema_url)
    upgrade(engine)
    engine.dispose()
    yield schema_url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_base_url: str | None
) -> str:
    if request.param == "sqlite":
        target = tmp_path / "xinfang.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    if pg_base_url is None:
        pytest.skip("PostgreSQL lane skipped: XINFANG_TEST_DATABASE_URL is not set")
    _truncate_pg(pg_base_url)
    return pg_base_url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "database_url": db_url,
        "data_key": TEST_KEY,
        "attachments_dir": tmp_path / "attachments",
        "dispatch_enabled": False,
        "token_ttl_minutes": 60
        * 24
        * 400,  # tests move the clock by months; sessions expiry is tested separately
    }
    return Settings(**(base | overrides))  # type: ignore[arg-type]


@pytest.fixture
def runtime(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Runtime]:
    rt = Runtime(settings=make_settings(db_url, tmp_path), clock=clock)
    yield rt
    rt.dispose()


@cache
def _hash(password: str) -> str:
    return passwords.hash_password(password)


def seed_org_and_users(rt: Runtime) -> None:
    with rt.session() as session:
        upsert_org_units(session, org_specs())
        units = {u.code: u for u in session.query(OrgUnit)}
        for username, password, role, unit in USERS:
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=_hash(password),
                    role=role.value,
                    org_unit=units[unit],
                    created_at=T0,
                    failed_logins=0,
                )
            )


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    seed_org_and_users(runtime)
    return runtime


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"shared data not found at {SHARED_DATA}")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def run_jobs(seeded: Runtime) -> Callable[[], int]:
    """Run the background jobs due now, as `xinfang worker` would (enrichment after intake, deliveries, OCR)."""
    from xinfang.cli.jobs import make_worker

    def run() -> int:
        return make_worker(seeded).run_until_idle()

    return run
