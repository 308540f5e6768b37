"""The ledger: scoped entries, mediation steps, outcomes, bulk import (all or nothing), reminders and escalation."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from tests.prevention.conftest import OTHER_TOWNSHIP_VILLAGE, Auth
from xinfang.cases.models import Notification
from xinfang.prevention.ledger import remind
from xinfang.runtime import Runtime

New = Callable[..., dict[str, Any]]
HEADERS = [
    "序号",
    "乡镇",
    "村(社区)",
    "纠纷名称",
    "基本情况",
    "纠纷类型",
    "当事人",
    "风险等级",
    "包案责任人",
    "排查日期",
    "化解期限",
    "化解情况",
]


def _sheet(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    [
        1,
        "万安镇",
        "丰岗村",
        "山林权属争议",
        "两组村民对后山林地权属有争议",
        "土地山林",
        "刘一、刘二",
        "中",
        "陈书记",
        "2026-02-01",
        "2026-03-01",
        "化解中",
    ],
    [
        2,
        "万安镇",
        "西垅村",
        "婚姻家庭矛盾",
        "夫妻因赡养老人问题多次争吵",
        "婚姻家庭",
        "吴甲",
        "低",
        "林主任",
        "2026/2/3",
        "2026年3月3日",
        "已化解",
    ],
]


def _import(
    client: TestClient, auth: Auth, data: bytes, user: str = "township_wa", name: str = "台账.xlsx"
) -> Any:
    return client.post("/api/prevention/ledger/import", files={"file": (name, data)}, headers=auth(user))


def test_a_good_sheet_is_imported_and_a_second_import_adds_nothing(client: TestClient, auth: Auth) -> None:
    r = _import(client, auth, _sheet(GOOD))
    assert r.status_code == 200, r.text
    assert r.json()["rows_added"] == 2
    items = client.get("/api/prevention/ledger", headers=auth("township_wa")).json()["items"]
    assert {(i["title"], i["division_code"], i["status"]) for i in items} == {
        ("山林权属争议", "350428101201", "open"),
        ("婚姻家庭矛盾", "350428101202", "resolved"),
    }
    again = _import(client, auth, _sheet(GOOD)).json()
    assert again["rows_added"] == 0 and again["rows_existing"] == 2


def test_a_bad_row_imports_nothing_and_is_named(client: TestClient, auth: Auth) -> None:
    bad = [
        *GOOD,
        [
            3,
            "万安镇",
            "丰岗村",
            "宅基地纠纷",
            "情况",
            "其他",
            "",
            "高",
            "陈书记",
            "不是日期",
            "2026-03-01",
            "",
        ],
    ]
    r = _import(client, auth, _sheet(bad))
    assert r.status_code == 422
    errors = r.json()["detail"]["params"]["report"]["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(4, "parties"), (4, "screened_on")}
    assert all(e["message"].startswith("第4行") for e in errors)
    assert client.get("/api/prevention/ledger", headers=auth("clerk")).json()["total"] == 0


def test_a_township_imports_only_its_own_rows_csv_too(client: TestClient, auth: Auth) -> None:
    csv = "乡镇,纠纷名称,当事人,责任人,排查日期,化解期限\n古镛镇,邻里纠纷,郑某,黄某,2026-02-01,2026-03-01\n"
    r = _import(client, auth, csv.encode("gb18030"), name="台账.csv")
    assert (
        r.status_code == 422
        and r.json()["detail"]["params"]["report"]["errors"][0]["code"] == "other_township"
    )
    assert _import(client, auth, csv.encode("utf-8"), user="clerk", name="台账.csv").status_code == 200


def test_entries_are_scoped(client: TestClient, auth: Auth, add_entry: New) -> None:
    mine = add_entry()
    other = add_entry(user="clerk", division_code=OTHER_TOWNSHIP_VILLAGE, title="别的乡镇")
    assert client.get(f"/api/prevention/ledger/{other['id']}", headers=auth("township_wa")).status_code == 404
    assert [
        e["id"] for e in client.get("/api/prevention/ledger", headers=auth("township_wa")).json()["items"]
    ] == [mine["id"]]
    assert (
        client.post(
            "/api/prevention/ledger", json={**_payload_of(other)}, headers=auth("township_wa")
        ).status_code
        == 403
    )
    assert client.get("/api/prevention/ledger", headers=auth("handler_rsj")).json()["total"] == 0


def _payload_of(view: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "title",
        "summary",
        "kind",
        "risk_level",
        "parties",
        "division_code",
        "responsible_person",
        "screened_on",
        "due_on",
    )
    return {k: view[k] for k in keys}


def test_parties_are_names_only(client: TestClient, auth: Auth, add_entry: New) -> None:
    from tests.prevention.conftest import entry_payload

    r = client.post(
        "/api/prevention/ledger",
        json=entry_payload(parties=["李大山350428199001011234"]),
        headers=auth("township_wa"),
    )
    assert r.status_code == 422


def test_steps_and_outcome(client: TestClient, auth: Auth, add_entry: New) -> None:
    entry = add_entry()
    r = client.post(
        f"/api/prevention/ledger/{entry['id']}/steps",
        json={"step_on": "2026-02-15", "note": "组织双方现场勘界"},
        headers=auth("township_wa"),
    )
    assert r.status_code == 201 and r.json()["steps"][0]["note"] == "组织双方现场勘界"
    r = client.post(
        f"/api/prevention/ledger/{entry['id']}/outcome",
        json={"status": "resolved", "outcome": "签订调解协议"},
        headers=auth("township_wa"),
    )
    assert (
        r.status_code == 200
        and r.json()["status_label"] == "已化解"
        and r.json()["closed_on"] == "2026-03-02"
    )


def test_overdue_entries_are_reminded_then_escalated_once(
    seeded: Runtime, client: TestClient, auth: Auth, add_entry: New
) -> None:
    late = add_entry(due_on="2026-02-20")  # 10 days overdue at 2026-03-02
    add_entry(
        title="刚到期", due_on="2026-02-28", parties=["某甲"]
    )  # 2 days overdue: reminded, not escalated
    add_entry(title="未到期", due_on="2026-04-30", parties=["某乙"])
    with seeded.session() as session:
        counts = remind(session, now=seeded.clock.now())
    assert counts["overdue"] == 2 and counts["escalated"] == 1 and counts["due_soon"] == 0
    with seeded.session() as session:
        assert remind(session, now=seeded.clock.now())["overdue"] == 0
        kinds = sorted(n.kind for n in session.execute(select(Notification)).scalars())
    assert kinds == ["ledger_escalated", "ledger_overdue", "ledger_overdue"]
    view = client.get(f"/api/prevention/ledger/{late['id']}", headers=auth("clerk")).json()
    assert view["escalated"] and view["overdue_days"] == 10
