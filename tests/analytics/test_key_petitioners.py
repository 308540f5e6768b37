"""Key petitioners: who qualifies, who may see them, masking, and the audit of every view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import fake_id_number
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry

Auth = Callable[[str], dict[str, str]]
WAGES = "老板拖欠工资三个月,多次讨要无果,请求帮助追回欠薪。"
ROAD = "村道塌陷,雨天车辆无法通行,请求修复。"
THREAT = "再不解决工资问题我们就去北京上访。"


def _history(seeded: Runtime, reg: Any) -> dict[str, str]:
    ids = {k: fake_id_number(seed=s) for k, s in (("repeat", 1), ("skip", 2), ("group", 3), ("plain", 4))}
    with seeded.session() as s:
        for i in range(3):
            reg(
                s,
                title="欠薪",
                body=WAGES + "第" + str(i) + "次",
                id_number=ids["repeat"],
                days_ago=30 - i * 5,
            )
        reg(s, title="上级交办", body=ROAD, id_number=ids["skip"], channel="assigned", days_ago=10)
        reg(
            s,
            title="集体访",
            body=WAGES,
            id_number=ids["group"],
            headcount=12,
            representative=True,
            days_ago=5,
        )
        reg(s, title="一次", body=ROAD, id_number=ids["plain"], days_ago=3)
    return ids


@pytest.mark.parametrize("user", ["clerk", "handler_rsj", "township_wa"])
def test_other_roles_are_refused(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth, user: str
) -> None:
    _history(seeded, reg)
    r = client.get("/api/analytics/key-petitioners", headers=auth(user))
    assert r.status_code == 403


def test_supervisors_see_masked_key_petitioners_and_the_view_is_audited(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    ids = _history(seeded, reg)
    r = client.get("/api/analytics/key-petitioners?from=2025-06-01&to=2026-03-02", headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    kinds = sorted(tuple(p["kinds"]) for p in items)
    assert kinds == [("group_organiser",), ("repeat",), ("skip_level",)]
    repeat = next(p for p in items if p["kinds"] == ["repeat"])
    assert repeat["petitions"] == 3 and len(repeat["history"]) == 3
    assert repeat["name"] == "张**" and "*" in repeat["id_number"]
    text = r.text
    assert not any(v in text for v in ids.values())  # no full ID number anywhere
    with seeded.session() as s:
        entries = (
            s.execute(select(AuditEntry).where(AuditEntry.action == "analytics.key_petitioners.view"))
            .scalars()
            .all()
        )
    assert len(entries) == 1 and entries[0].details["people"] == 3
    for user in ("leader", "admin"):
        assert client.get("/api/analytics/key-petitioners", headers=auth(user)).status_code == 200
    with seeded.session() as s:
        n = len(
            s.execute(select(AuditEntry).where(AuditEntry.action == "analytics.key_petitioners.view"))
            .scalars()
            .all()
        )
    assert n == 3


def test_the_xlsx_export_is_masked_too(seeded: Runtime, reg: Any, client: TestClient, auth: Auth) -> None:
    ids = _history(seeded, reg)
    r = client.get("/api/analytics/key-petitioners?format=xlsx", headers=auth("leader"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.content)).active
    cells = " ".join(str(c.value) for row in ws.iter_rows() for c in row)
    assert "身份证号" in cells and not any(v in cells for v in ids.values())
