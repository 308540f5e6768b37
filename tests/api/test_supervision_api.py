"""Accountability figures on a seeded history, the backlog register, buck-passing, reminders and XLSX export."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.factories import petition_payload
from xinfang.cases.reminders import remind
from xinfang.clock import FixedClock
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
REPLY = {
    "outcome": "解释说明",
    "facts": "经查属实。",
    "opinion": "已向信访人解释政策。",
    "legal_basis": "相关政策规定",
}


def _act(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> dict[str, Any]:
    r = client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _history(client: TestClient, auth: Auth, clock: FixedClock) -> list[int]:
    """P1 handled on time and satisfied; P2 accepted and replied late, dissatisfied; P3 bounced zjj→rsj→zjj."""
    ids = [
        client.post("/api/petitions", json=petition_payload(title=f"事项{i}"), headers=auth("clerk")).json()[
            "id"
        ]
        for i in range(3)
    ]
    p1, p2, p3 = ids
    for pid in (p1, p2):
        _act(client, auth, "clerk", pid, "forward", department="rsj")
    _act(client, auth, "clerk", p3, "forward", department="zjj")
    clock.advance(days=1)
    _act(client, auth, "handler_rsj", p1, "accept")
    _act(client, auth, "handler_zjj", p3, "object", reason="不属本单位职责")
    _act(client, auth, "clerk", p3, "forward", department="rsj")
    _act(client, auth, "handler_rsj", p3, "object", reason="应由住建局办理")
    _act(client, auth, "clerk", p3, "forward", department="zjj")
    clock.advance(days=19)  # day 20: P2's 15-day acceptance period has passed
    _act(client, auth, "handler_rsj", p2, "accept")
    _act(client, auth, "handler_rsj", p1, "reply", **REPLY)
    _act(client, auth, "clerk", p1, "evaluate", evaluation="满意")
    clock.advance(days=80)  # day 100: P2's 60-day handling period has passed
    _act(client, auth, "handler_rsj", p2, "reply", **REPLY)
    _act(client, auth, "clerk", p2, "evaluate", evaluation="不满意")
    return ids


def test_the_figures_of_a_department(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    _history(client, auth, clock)
    r = client.get(
        "/api/accountability", params={"from": "2026-03-01", "to": "2026-06-30"}, headers=auth("leader")
    )
    assert r.status_code == 200
    rsj = next(row for row in r.json()["rows"] if row["key"] == "rsj")
    assert rsj["petitions"] == 2
    assert (rsj["accept_due"], rsj["accept_on_time"]) == (3, 2)  # P1 on time, P3 objected in time, P2 late
    assert (rsj["handle_due"], rsj["handle_on_time"]) == (2, 1)
    assert rsj["timely_acceptance_rate"] == round(2 / 3, 4) and rsj["on_time_conclusion_rate"] == 0.5
    assert rsj["satisfaction_rate"] == 0.5 and rsj["overdue"] == 2
    assert rsj["objections"] == 1 and rsj["transfers"] == 3 and rsj["transfers_per_case"] == 1.5
    zjj = next(row for row in r.json()["rows"] if row["key"] == "zjj")
    assert zjj["objections"] == 1 and zjj["transfers"] == 2


def test_the_figures_export_to_xlsx(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    _history(client, auth, clock)
    r = client.get(
        "/api/accountability",
        params={"from": "2026-03-01", "to": "2026-06-30", "format": "xlsx"},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位/乡镇", "信访件数", "及时受理率")
    assert any(row[0] == "县人力资源和社会保障局" and row[2] == "66.7%" for row in rows[1:])


def test_only_oversight_roles_see_the_figures(client: TestClient, auth: Auth) -> None:
    for who in ("clerk", "handler_rsj"):
        assert client.get("/api/accountability", headers=auth(who)).status_code == 403
        assert client.get("/api/backlog", headers=auth(who)).status_code == 403


def test_buck_passing_is_detected(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    *_, p3 = _history(client, auth, clock)
    flagged = client.get("/api/buck-passing", headers=auth("supervisor")).json()
    assert [f["petition_id"] for f in flagged] == [p3]
    assert "在同两个单位之间来回退转" in flagged[0]["reasons"] and flagged[0]["route"] == [
        "zjj",
        "rsj",
        "zjj",
    ]


def test_the_backlog_lists_old_unresolved_petitions(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    p1, p2, p3 = _history(client, auth, clock)
    items = client.get("/api/backlog", headers=auth("leader")).json()["items"]
    assert {i["id"] for i in items} == {p1, p2, p3}  # 100 days old, none concluded
    _act(client, auth, "clerk", p1, "conclude")
    items = client.get("/api/backlog", headers=auth("leader")).json()["items"]
    assert {i["id"] for i in items} == {p2, p3}


def test_reminders_are_sent_once_per_clock_and_state(
    client: TestClient, auth: Auth, clock: FixedClock, seeded: Runtime
) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    _act(client, auth, "clerk", pid, "forward", department="rsj")
    clock.advance(days=13)  # 13 of 15 days used: due soon
    with seeded.session() as s:
        # the acceptance notice is due soon; the 5-working-day objection right has already lapsed (not overdue work)
        assert remind(s, now=clock.now()) == {"due_soon": 1, "overdue": 0}
    with seeded.session() as s:
        assert remind(s, now=clock.now()) == {"due_soon": 0, "overdue": 0}
    clock.advance(days=5)
    with seeded.session() as s:
        assert (
            remind(s, now=clock.now())["overdue"] == 1
        )  # the acceptance notice; a lapsed objection right is not
    notes = client.get("/api/notifications", headers=auth("handler_rsj")).json()
    assert sum(n["kind"] == "clock_overdue" for n in notes) == 1
    assert client.get("/api/notifications", headers=auth("handler_zjj")).json() == []
