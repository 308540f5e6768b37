"""回复督办: the supervised unit answers a 督办 once; the answer is recorded (event, audit), the supervisor is told,
and the 督办 leaves the 督办 boxes. Only the supervised unit's staff may answer. SQLite and PostgreSQL (db_url)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import petition_payload
from xinfang.clock import FixedClock, local_date
from xinfang.inbox import service as inbox
from xinfang.org.models import User
from xinfang.runtime import Runtime
from xinfang.security.actors import actor_for
from xinfang.security.models import AuditEntry

Auth = Callable[[str], dict[str, str]]


def _act(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> dict[str, Any]:
    r = client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _supervised(
    client: TestClient, auth: Auth, *, forward_to: str | None = "rsj", level: str = "黄牌"
) -> int:
    payload = petition_payload(location={"division_code": "350428101"})  # in 万安镇: its township sees it
    pid = int(client.post("/api/petitions", json=payload, headers=auth("clerk")).json()["id"])
    if forward_to:
        _act(client, auth, "clerk", pid, "forward", department=forward_to)
        _act(client, auth, "handler_rsj", pid, "accept")
    _act(client, auth, "supervisor", pid, "supervise", instruction="请报告工资支付落实情况。", level=level)
    return pid


def _supervision_id(client: TestClient, auth: Auth, pid: int) -> int:
    rows = client.get(f"/api/petitions/{pid}/supervisions", headers=auth("supervisor")).json()
    assert len(rows) == 1 and rows[0]["answered"] is False and rows[0]["unit"]
    return int(rows[0]["id"])


def _supervised_box(rt: Runtime, username: str) -> int:
    with rt.session() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        counts = inbox.box_counts(
            session, actor=actor_for(user), boxes=(inbox.Box.SUPERVISED,), today=local_date(rt.clock.now())
        )
    return counts[inbox.Box.SUPERVISED]


def _answer(client: TestClient, auth: Auth, who: str, sid: int, **body: Any) -> Any:
    return client.post(
        f"/api/supervisions/{sid}/response",
        json={"response": "已督促施工方支付。", **body},
        headers=auth(who),
    )


def test_the_supervised_unit_answers_and_the_supervision_clears(
    client: TestClient, auth: Auth, seeded: Runtime, clock: FixedClock
) -> None:
    pid = _supervised(client, auth)
    sid = _supervision_id(client, auth, pid)
    assert _supervised_box(seeded, "handler_rsj") == 1 and _supervised_box(seeded, "supervisor") == 1
    clock.advance(days=2)

    r = _answer(
        client, auth, "handler_rsj", sid, response="已约谈施工方,工资将于本周内支付。", attach_progress=True
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["answered"] is True and answer["responded_by"] == "handler_rsj"
    assert answer["response"] == "已约谈施工方,工资将于本周内支付。" and answer["answered_late"] is False
    assert answer["progress"].startswith("当前状态:办理中") and "办结并出具处理意见书" in answer["progress"]
    assert answer["responded_at"] is not None

    # the 督办 boxes hold only unanswered ones
    assert _supervised_box(seeded, "handler_rsj") == 0 and _supervised_box(seeded, "supervisor") == 0
    # the case history and the audit log record it
    events = client.get(f"/api/petitions/{pid}", headers=auth("supervisor")).json()["events"]
    assert any(e["kind"] == "supervision_response" and "已约谈施工方" in e["summary"] for e in events)
    with seeded.session() as session:
        audited = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "supervision.respond"))
            .scalars()
            .all()
        )
    assert [(a.object_type, a.object_id, a.details["petition_id"]) for a in audited] == [
        ("supervision", str(sid), pid)
    ]
    # the supervisor who issued it is told, with a link to the petition
    told = client.get("/api/notifications", headers=auth("supervisor")).json()
    answered = [n for n in told if n["kind"] == "supervision_answered"]
    assert (
        len(answered) == 1
        and answered[0]["link"] == f"/petitions/{pid}"
        and "黄牌督办已回复" in answered[0]["message"]
    )
    assert not [
        n
        for n in client.get("/api/notifications", headers=auth("leader")).json()
        if n["kind"] == "supervision_answered"
    ]

    # once only
    again = _answer(client, auth, "handler_rsj", sid)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "supervision.already_answered"
    listed = client.get(f"/api/petitions/{pid}/supervisions", headers=auth("handler_rsj")).json()
    assert listed[0]["response"] == "已约谈施工方,工资将于本周内支付。"


def test_only_the_supervised_units_staff_answer(client: TestClient, auth: Auth) -> None:
    pid = _supervised(client, auth)
    sid = _supervision_id(client, auth, pid)
    refused = {
        "handler_zjj": (404, "supervision.not_found"),  # may not even see the petition
        "township_wa": (403, "supervision.wrong_unit"),  # sees it (its township) but was not supervised
        "clerk": (403, "supervision.wrong_unit"),
        "reviewer": (404, "supervision.not_found"),
        "supervisor": (403, "permission.denied"),
        "leader": (403, "permission.denied"),
        "admin": (403, "permission.denied"),
    }
    for who, (status, code) in refused.items():
        r = _answer(client, auth, who, sid)
        assert (r.status_code, r.json()["detail"]["code"]) == (status, code), who
    blank = client.post(
        f"/api/supervisions/{sid}/response", json={"response": "  "}, headers=auth("handler_rsj")
    )
    assert blank.status_code == 422
    assert (
        client.get(f"/api/petitions/{pid}/supervisions", headers=auth("supervisor")).json()[0]["answered"]
        is False
    )
    missing = _answer(client, auth, "handler_rsj", 999999)
    assert missing.status_code == 404
    assert client.get(f"/api/petitions/{pid}/supervisions", headers=auth("handler_zjj")).status_code == 404


def test_a_petition_awaiting_dispatch_is_answered_by_the_bureau(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    pid = _supervised(client, auth, forward_to=None, level="普通")
    sid = _supervision_id(client, auth, pid)
    assert _answer(client, auth, "handler_rsj", sid).status_code == 404
    clock.advance(days=30)  # past the 10-day 督办 period
    r = _answer(client, auth, "clerk", sid, response="已于今日转送县人社局。")
    assert r.status_code == 200, r.text
    assert r.json()["answered_late"] is True and r.json()["progress"] is None
    told = [
        n
        for n in client.get("/api/notifications", headers=auth("supervisor")).json()
        if n["kind"] == "supervision_answered"
    ]
    assert len(told) == 1 and "超过督办期限" in told[0]["message"]
