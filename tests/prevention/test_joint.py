"""Joint handling: the lead's reply waits for every co-handler's part; co-handlers see the petition; figures count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.prevention.conftest import REPLY, Auth, accepted, act

New = Callable[..., dict[str, Any]]


def _assign(client: TestClient, auth: Auth, pid: int, who: str = "clerk", unit: str = "zjj") -> Any:
    return client.post(
        f"/api/petitions/{pid}/joint-tasks",
        json={
            "tasks": [{"unit": unit, "task": "核实工地项目备案及农民工工资专户情况", "due_on": "2026-03-12"}]
        },
        headers=auth(who),
    )


def test_the_reply_is_refused_while_a_co_handler_part_is_missing(
    client: TestClient, auth: Auth, new_petition: New
) -> None:
    pid = new_petition()["id"]
    accepted(client, auth, pid)
    r = _assign(client, auth, pid, who="handler_rsj")  # the lead department brings in a co-handler
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["lead"]["code"] == "rsj" and not view["parts_complete"]
    refused = act(client, auth, "handler_rsj", pid, "reply", **REPLY)
    assert refused.status_code == 409
    assert refused.json()["detail"]["code"] == "joint.parts_missing"
    assert client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()["status"] == "accepted"

    task_id = view["co_handlers"][0]["id"]
    assert (
        client.post(
            f"/api/joint-tasks/{task_id}/reply", json={"reply": "x"}, headers=auth("handler_rsj")
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/joint-tasks/{task_id}/reply", json={"reply": "已核实,专户欠缴。"}, headers=auth("handler_zjj")
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    done = act(client, auth, "handler_rsj", pid, "reply", **REPLY)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "replied"


def test_co_handlers_see_the_petition_and_others_do_not(
    client: TestClient, auth: Auth, new_petition: New
) -> None:
    pid = new_petition()["id"]
    accepted(client, auth, pid)
    assert client.get(f"/api/petitions/{pid}", headers=auth("handler_zjj")).status_code == 404
    ids = lambda: [p["id"] for p in client.get("/api/petitions", headers=auth("handler_zjj")).json()["items"]]  # noqa: E731
    assert pid not in ids()
    assert _assign(client, auth, pid).status_code == 201
    assert client.get(f"/api/petitions/{pid}", headers=auth("handler_zjj")).status_code == 200
    assert pid in ids()
    assert client.get(f"/api/petitions/{pid}", headers=auth("township_wa")).status_code == 404
    inbox = client.get("/api/joint-tasks", headers=auth("handler_zjj")).json()
    assert [t["petition_id"] for t in inbox["items"]] == [pid]


def test_only_the_bureau_or_the_lead_assigns_co_handlers(
    client: TestClient, auth: Auth, new_petition: New
) -> None:
    pid = new_petition()["id"]
    assert _assign(client, auth, pid).json()["detail"]["code"] == "joint.no_lead"
    accepted(client, auth, pid)
    assert _assign(client, auth, pid, who="handler_zjj").status_code == 404  # cannot even see it
    assert _assign(client, auth, pid, unit="rsj").json()["detail"]["code"] == "joint.lead_as_co"


def test_a_joint_meeting_is_recorded_on_the_case(client: TestClient, auth: Auth, new_petition: New) -> None:
    pid = new_petition()["id"]
    accepted(client, auth, pid)
    r = client.post(
        "/api/joint-meetings",
        json={
            "petition_id": pid,
            "held_on": "2026-03-02",
            "topic": "欠薪问题联席会议",
            "attendees": ["xfj", "rsj", "zjj"],
            "decisions": "人社局牵头,住建局三日内核实专户。",
        },
        headers=auth("clerk"),
    )
    assert r.status_code == 201, r.text
    view = client.get(f"/api/petitions/{pid}/joint", headers=auth("clerk")).json()
    assert view["meetings"][0]["attendees"] == ["xfj", "rsj", "zjj"]


def test_accountability_counts_co_handling(
    client: TestClient, auth: Auth, new_petition: New, clock: Any
) -> None:
    pid = new_petition()["id"]
    accepted(client, auth, pid)
    _assign(client, auth, pid)
    clock.advance(days=20)  # past the co-handling deadline, no reply
    r = client.get("/api/prevention/accountability?from=2026-03-01&to=2026-03-31", headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    row = next(x for x in r.json()["rows"] if x["key"] == "zjj")
    assert row["co_tasks"] == 1 and row["co_overdue"] == 1 and row["co_on_time_rate"] == 0.0
    assert client.get("/api/prevention/accountability", headers=auth("handler_rsj")).status_code == 403
