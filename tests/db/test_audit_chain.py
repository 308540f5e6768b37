"""The audit log is hash-chained: `xinfang audit verify` passes on an intact log and fails on a tampered one."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from tests.conftest import T0
from xinfang.cli import build_app
from xinfang.runtime import Runtime
from xinfang.security import audit
from xinfang.security.actors import SYSTEM

runner = CliRunner()


def _write_entries(rt: Runtime, n: int = 5) -> None:
    with rt.session() as s:
        for i in range(n):
            audit.record(
                s,
                actor=SYSTEM,
                action="test.action",
                at=T0,
                object_type="t",
                object_id=i,
                details={"i": i, "说明": "测试"},
            )


def _verify(rt: Runtime) -> tuple[int, str]:
    url = rt.engine.url.render_as_string(hide_password=False)
    rt.dispose()
    result = runner.invoke(build_app(), ["audit", "verify", "--db", url])
    return result.exit_code, result.output


def test_an_intact_log_verifies(runtime: Runtime) -> None:
    _write_entries(runtime)
    code, out = _verify(runtime)
    assert code == 0, out
    assert "5 entries verified" in out


def test_an_edited_entry_fails_verification(runtime: Runtime) -> None:
    _write_entries(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'innocent.action' WHERE seq = 3"))
    code, out = _verify(runtime)
    assert code == 1 and "seq=3" in out


def test_a_deleted_entry_fails_verification(runtime: Runtime) -> None:
    _write_entries(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    code, out = _verify(runtime)
    assert code == 1 and "seq=3" in out


def test_removing_the_newest_entries_fails_verification(runtime: Runtime) -> None:
    _write_entries(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 4"))
    code, out = _verify(runtime)
    assert code == 1 and "missing at the end" in out


def test_a_rewritten_chain_with_recomputed_hashes_still_fails_at_the_head(runtime: Runtime) -> None:
    """Recomputing hashes after an edit is caught by the head row (and in production by its off-site copy)."""
    _write_entries(runtime)
    with runtime.session() as s:
        from sqlalchemy import select

        from xinfang.security.models import AuditEntry

        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        entries[1].details = {"i": 1, "说明": "改过"}
        prev = audit.GENESIS
        for e in entries:
            e.prev_hash = prev
            e.hash = audit._digest(prev, audit._content(e))
            prev = e.hash
    code, _ = _verify(runtime)
    assert code == 1
