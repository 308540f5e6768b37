"""A small seeded world for the sweeps over every route (authorisation matrix, OpenAPI fuzzing, hostile input).

Two petitions in two departments and two townships, so that "own" and "other" mean something for every role:

- `rsj`: registered at the bureau about a village of 万安镇, forwarded to 人社局 and accepted there (so it has a
  受理告知书 document), with a text attachment;
- `zjj`: about a village of 古镛镇, forwarded to 住建局 and accepted there;

plus a dispute-ledger entry of 万安镇 (by the township user) and a risk-assessment project (by the bureau).

Works with any client that has `post`/`get` with `json=`, `data=`, `files=` and `headers=` (Starlette's TestClient
or an httpx.Client on a live server).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import T0, _pg_url, make_settings, seed_org_and_users
from tests.factories import petition_payload
from xinfang.clock import FixedClock
from xinfang.runtime import Runtime
from xinfang.store.db import make_engine
from xinfang.store.migrate import upgrade

Auth = Callable[[str], dict[str, str]]
RSJ_VILLAGE = "350428101201"  # 万安镇丰岗村: the township_wa user's township
ZJJ_VILLAGE = "350428100201"  # 古镛镇银溪村


@dataclass(frozen=True)
class World:
    pid_rsj: int
    pid_zjj: int
    petitioner_rsj: int
    attachment_rsj: int
    document_rsj: int
    ledger_entry: int
    risk_project: int

    def petition(self, which: str) -> int:
        return {"rsj": self.pid_rsj, "zjj": self.pid_zjj}[which]


def _ok(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def _registered(client: Any, auth: Auth, village: str, department: str, handler: str) -> dict[str, Any]:
    p = _ok(
        client.post(
            "/api/petitions",
            json=petition_payload(location={"division_code": village}),
            headers=auth("clerk"),
        ),
        201,
    )
    pid = p["id"]
    _ok(
        client.post(
            f"/api/petitions/{pid}/actions/forward", json={"department": department}, headers=auth("clerk")
        )
    )
    return _ok(client.post(f"/api/petitions/{pid}/actions/accept", json={}, headers=auth(handler)))


def seed_world(client: Any, auth: Auth) -> World:
    rsj = _registered(client, auth, RSJ_VILLAGE, "rsj", "handler_rsj")
    zjj = _registered(client, auth, ZJJ_VILLAGE, "zjj", "handler_zjj")
    attachment = _ok(
        client.post(
            f"/api/petitions/{rsj['id']}/attachments",
            files={"file": ("说明.txt", "补充说明".encode(), "text/plain")},
            headers=auth("clerk"),
        ),
        201,
    )
    entry = _ok(
        client.post(
            "/api/prevention/ledger",
            json={
                "title": "承包地边界界桩纠纷",
                "summary": "村民因承包地边界界桩被移动发生争执,要求恢复原界桩。",
                "kind": "土地山林",
                "risk_level": "中",
                "parties": ["李大山", "王小河"],
                "division_code": RSJ_VILLAGE,
                "responsible_person": "陈调解",
                "screened_on": "2026-02-10",
                "due_on": "2026-02-25",
            },
            headers=auth("township_wa"),
        ),
        201,
    )
    project = _ok(
        client.post(
            "/api/prevention/risk-projects",
            json={
                "name": "万安镇丰岗小学撤并",
                "kind": "学校撤并",
                "risk_level": "低",
                "risk_points": "学生上学路程增加",
                "measures": "开通校车",
                "responsible_unit": "jyj",
                "conclusion": "准予实施",
                "assessed_on": "2026-01-10",
                "start_on": "2026-02-01",
                "places": ["350428101"],
                "keywords": ["撤并", "校车"],
            },
            headers=auth("clerk"),
        ),
        201,
    )
    return World(
        pid_rsj=rsj["id"],
        pid_zjj=zjj["id"],
        petitioner_rsj=rsj["petitioners"][0]["id"],
        attachment_rsj=attachment["id"],
        document_rsj=rsj["documents"][0]["id"],
        ledger_entry=entry["id"],
        risk_project=project["id"],
    )


@contextmanager
def world_database(backend: str, workdir: Path, sqlite_template: Path) -> Iterator[str]:
    """A database of its own for a module-scoped world: a copy of the migrated SQLite template, or a fresh schema
    on the test PostgreSQL (not the shared one that the function-scoped `db_url` truncates before every test)."""
    if backend == "sqlite":
        target = workdir / "world.db"
        shutil.copy(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    url = _pg_url()
    if url is None:
        pytest.skip("PostgreSQL lane skipped: XINFANG_TEST_DATABASE_URL is not set")
    schema = f"xf_world_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    schema_url = f"{url}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(schema_url)
    upgrade(engine)
    engine.dispose()
    try:
        yield schema_url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def world_runtime(backend: str, workdir: Path, sqlite_template: Path) -> Iterator[Runtime]:
    """A runtime (fixed clock at T0) on a world database, with the test organisation and users seeded."""
    with world_database(backend, workdir, sqlite_template) as url:
        rt = Runtime(settings=make_settings(url, workdir), clock=FixedClock(T0))
        try:
            seed_org_and_users(rt)
            yield rt
        finally:
            rt.dispose()
