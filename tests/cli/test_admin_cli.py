"""The administration commands, run the way an operator runs them (through the Typer app, with --db)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from xinfang.cases.models import Petition
from xinfang.cli import build_app
from xinfang.config import Settings
from xinfang.org.models import User
from xinfang.runtime import Runtime

runner = CliRunner()


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(build_app(), list(args), input=stdin)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_db_upgrade_creates_the_schema(fresh_db: str) -> None:
    code, out = _invoke("db", "upgrade", "--db", fresh_db)
    assert code == 0 and "revision 0001" in out


def test_user_add_reads_the_password_from_stdin(fresh_db: str) -> None:
    _invoke("db", "upgrade", "--db", fresh_db)
    code, out = _invoke("demo", "load", "--db", fresh_db, "--scale", "0.02")
    assert code == 0, out
    code, out = _invoke(
        "user",
        "add",
        "wang",
        "--role",
        "handler",
        "--department",
        "rsj",
        "--password-stdin",
        "--db",
        fresh_db,
        stdin="long-enough-1\n",
    )
    assert code == 0, out
    rt = Runtime(settings=Settings(database_url=fresh_db))
    with rt.session() as s:
        user = s.execute(select(User).where(User.username == "wang")).scalar_one()
        assert user.role == "handler" and user.org_unit is not None and user.org_unit.code == "rsj"
        assert "long-enough-1" not in user.password_hash
    rt.dispose()


def test_user_add_refuses_a_weak_password_and_an_unknown_unit(fresh_db: str) -> None:
    _invoke("demo", "load", "--db", fresh_db, "--scale", "0.02")
    code, out = _invoke(
        "user", "add", "li", "--role", "registrar", "--password-stdin", "--db", fresh_db, stdin="short\n"
    )
    assert code == 2 and "密码" in out
    code, out = _invoke(
        "user",
        "add",
        "li",
        "--role",
        "handler",
        "--department",
        "nope",
        "--password-stdin",
        "--db",
        fresh_db,
        stdin="long-enough-1\n",
    )
    assert code == 3 and "nope" in out


def test_demo_load_is_idempotent(fresh_db: str) -> None:
    assert _invoke("demo", "load", "--db", fresh_db, "--scale", "0.05")[0] == 0
    rt = Runtime(settings=Settings(database_url=fresh_db))
    with rt.session() as s:
        first = s.execute(select(func.count()).select_from(Petition)).scalar_one()
    assert _invoke("demo", "load", "--db", fresh_db, "--scale", "0.05")[0] == 0
    with rt.session() as s:
        again = s.execute(select(func.count()).select_from(Petition)).scalar_one()
        demo_users = s.execute(select(func.count()).select_from(User)).scalar_one()
    rt.dispose()
    assert first > 20 and again == first and demo_users == 8


def test_calendar_due_follows_the_regulations_examples() -> None:
    assert (
        _invoke("calendar", "due", "--from", "2025-09-30", "--days", "5", "--working")[1].strip()
        == "2025-10-14"
    )
    assert _invoke("calendar", "due", "--from", "2025-09-16", "--days", "15")[1].strip() == "2025-10-09"
    # Spring Festival 2026: 15 days from 2026-02-01 end on 02-16, a holiday; the next working day is 02-24.
    assert (
        _invoke("calendar", "due", "--from", "2026-02-01", "--days", "15")[1].splitlines()[0] == "2026-02-24"
    )
    code, out = _invoke("calendar", "due", "--from", "2026-13-01", "--days", "5")
    assert code == 2 and "YYYY-MM-DD" in out
