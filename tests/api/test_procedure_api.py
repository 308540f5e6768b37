"""The 信访工作条例 procedure over HTTP: every step, its clocks and notices, and the refusals."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import docx
from fastapi.testclient import TestClient

from tests.factories import petition_payload
from xinfang.clock import FixedClock

Auth = Callable[[str], dict[str, str]]
REPLY = {
    "outcome": "支持",
    "facts": "经查,该工地确实拖欠工资2.3万元。",
    "opinion": "责令用人单位于十日内支付。",
    "legal_basis": "《保障农民工工资支付条例》第三条",
}


def _new(client: TestClient, auth: Auth, **kw: Any) -> dict[str, Any]:
    r = client.post("/api/petitions", json=petition_payload(**kw), headers=auth("clerk"))
    assert r.status_code == 201, r.text
    return r.json()


def _act(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> Any:
    return client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))


def _ok(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> dict[str, Any]:
    r = _act(client, auth, who, pid, action, **payload)
    assert r.status_code == 200, r.text
    return r.json()


def _clock(p: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(c for c in p["deadlines"] if c["rule"] == rule)


def _docx_text(client: TestClient, auth: Auth, who: str, url: str) -> str:
    r = client.get(url, headers=auth(who))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    document = docx.Document(io.BytesIO(r.content))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_registration_opens_the_bureaus_15_day_clock(client: TestClient, auth: Auth) -> None:
    p = _new(client, auth)  # 2026-03-02 (Monday)
    assert p["status"] == "registered" and len(p["query_code"]) == 10
    forward = _clock(p, "forward")
    assert forward["due_on"] == "2026-03-17" and forward["state"] == "on_time"


def test_the_happy_path_from_forwarding_to_conclusion(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    pid = _new(client, auth)["id"]
    p = _ok(client, auth, "clerk", pid, "forward", department="rsj")
    assert p["status"] == "forwarded" and p["department"] == "rsj"
    assert {c["rule"] for c in p["deadlines"]} == {"accept_notice", "object"}
    assert _clock(p, "object")["due_on"] == "2026-03-09"  # 5 working days
    clock.advance(days=2)
    p = _ok(client, auth, "handler_rsj", pid, "accept")
    assert p["status"] == "accepted" and _clock(p, "handle")["due_on"] == "2026-05-06"  # 60 days from 03-04
    acceptance = next(d for d in p["documents"] if d["kind"] == "acceptance")
    text = _docx_text(client, auth, "handler_rsj", acceptance["url"])
    assert "受理告知书" in text and p["number"] in text and "张测试" in text
    p = _ok(client, auth, "handler_rsj", pid, "extend", approver="李局长", reason="需要调查取证", days=30)
    assert p["status"] == "extended" and _clock(p, "handle")["due_on"] == "2026-06-02"  # 90 days from 03-04
    assert any(d["kind"] == "extension" for d in p["documents"])
    p = _ok(client, auth, "handler_rsj", pid, "reply", **REPLY)
    assert p["status"] == "replied" and p["outcome"] == "支持"
    decision = next(d for d in p["documents"] if d["kind"] == "decision")
    text = _docx_text(client, auth, "clerk", decision["url"])
    assert "处理意见书" in text and "支持" in text and "保障农民工工资支付条例" in text and "30日" in text
    assert "复查" in text
    assert _clock(p, "review_request_window")["due_on"] == "2026-04-03"
    p = _ok(client, auth, "clerk", pid, "evaluate", evaluation="满意")
    assert p["evaluation"] == "满意"
    p = _ok(client, auth, "clerk", pid, "conclude")
    assert p["status"] == "concluded"
    kinds = [e["kind"] for e in p["events"]]
    assert kinds == ["registered", "forward", "accept", "extend", "reply", "evaluate", "conclude"]


def test_review_and_re_review_end_in_finality(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    pid = _new(client, auth)["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    _ok(client, auth, "handler_rsj", pid, "accept")
    _ok(client, auth, "handler_rsj", pid, "reply", **(REPLY | {"outcome": "不予支持"}))
    clock.advance(days=10)
    p = _ok(client, auth, "clerk", pid, "request_review", reason="对处理意见不服")
    assert p["status"] == "review_requested" and _clock(p, "review")["unit"] == "县信访局"
    assert (
        _act(client, auth, "handler_rsj", pid, "review_reply", **REPLY).status_code == 403
    )  # not the reviewer
    p = _ok(client, auth, "reviewer", pid, "review_reply", **REPLY)
    assert any(d["kind"] == "review_decision" for d in p["documents"])
    p = _ok(client, auth, "clerk", pid, "request_recheck", reason="仍不服")
    p = _ok(client, auth, "reviewer", pid, "recheck_reply", **REPLY, hearing_days=5)
    assert p["status"] == "recheck_replied"
    recheck = next(d for d in p["documents"] if d["kind"] == "recheck_decision")
    assert "复核意见书" in _docx_text(client, auth, "clerk", recheck["url"])
    assert _act(client, auth, "clerk", pid, "request_review", reason="再次").status_code == 409


def test_an_illegal_step_is_refused_and_changes_nothing(client: TestClient, auth: Auth) -> None:
    created = _new(client, auth)
    pid = created["id"]
    before = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    r = _act(client, auth, "clerk", pid, "reply", **REPLY)
    assert r.status_code in (403, 409)
    r = _act(client, auth, "clerk", pid, "conclude")
    assert r.status_code == 409 and r.json()["detail"]["code"]
    after = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    assert (after["status"], after["version"], len(after["events"]), after["deadlines"]) == (
        before["status"],
        before["version"],
        len(before["events"]),
        before["deadlines"],
    )


def test_roles_and_units_are_enforced(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    assert _act(client, auth, "leader", pid, "forward", department="rsj").status_code == 403
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    assert _act(client, auth, "handler_zjj", pid, "accept").status_code == 404  # cannot even see it
    assert _act(client, auth, "clerk", pid, "accept").status_code == 403  # the bureau does not accept for rsj
    assert _act(client, auth, "handler_rsj", pid, "fly").status_code == 422


def test_payloads_are_validated(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    assert _act(client, auth, "clerk", pid, "forward").status_code == 422
    assert _act(client, auth, "clerk", pid, "forward", department="nowhere").status_code == 422
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    _ok(client, auth, "handler_rsj", pid, "accept")
    assert (
        _act(
            client, auth, "handler_rsj", pid, "extend", approver="李局长", reason="复杂", days=31
        ).status_code
        == 422
    )
    assert _act(client, auth, "handler_rsj", pid, "reply", **(REPLY | {"outcome": "同意"})).status_code == 422
    no_basis = {k: v for k, v in REPLY.items() if k != "legal_basis"}
    assert _act(client, auth, "handler_rsj", pid, "reply", **no_basis).status_code == 422


def test_the_review_window_closes_after_30_days(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    pid = _new(client, auth)["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    _ok(client, auth, "handler_rsj", pid, "accept")
    _ok(client, auth, "handler_rsj", pid, "reply", **REPLY)
    clock.advance(days=40)
    r = _act(client, auth, "clerk", pid, "request_review", reason="不服")
    assert r.status_code == 409 and r.json()["detail"]["code"] == "workflow.review_window_closed"


def test_an_objection_returns_the_matter_to_the_bureau(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    p = _ok(client, auth, "handler_rsj", pid, "object", reason="不属于本单位职责,应由住建局办理")
    assert p["status"] == "pending_review" and p["department"] is None
    assert {c["rule"] for c in p["deadlines"]} == {"forward"}
    assert client.get(f"/api/petitions/{pid}", headers=auth("handler_rsj")).status_code == 404


def test_diversion_issues_the_guidance_notice(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    p = _ok(
        client, auth, "clerk", pid, "divert", legal_channel="仲裁", competent_body="县劳动人事争议仲裁委员会"
    )
    assert p["status"] == "diverted" and p["deadlines"] == []
    doc = next(d for d in p["documents"] if d["kind"] == "diversion")
    assert "县劳动人事争议仲裁委员会" in _docx_text(client, auth, "clerk", doc["url"])


def test_the_accused_unit_never_sees_the_informant(client: TestClient, auth: Auth) -> None:
    p = _new(
        client, auth, title="举报住建局某干部", accused_unit="zjj", location={"division_code": "350428101201"}
    )
    assert p["matter_kind"] == "检举控告"
    assert client.get(f"/api/petitions/{p['id']}", headers=auth("handler_zjj")).status_code == 404
    r = _act(client, auth, "clerk", p["id"], "forward", department="zjj")
    assert r.status_code == 422 and r.json()["detail"]["code"] == "workflow.forward_to_accused"
    township = _new(
        client, auth, title="举报镇干部", accused_unit="350428101", location={"division_code": "350428101201"}
    )
    assert client.get(f"/api/petitions/{township['id']}", headers=auth("township_wa")).status_code == 404
    listed = client.get("/api/petitions", headers=auth("township_wa")).json()["items"]
    assert township["id"] not in [i["id"] for i in listed]


def test_supervision_notifies_the_unit_and_red_cards_the_leaders(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    assert _act(client, auth, "clerk", pid, "supervise", instruction="抓紧办理").status_code == 403
    p = _ok(client, auth, "supervisor", pid, "supervise", instruction="逾期未办,限期报告", level="红牌")
    assert p["status"] == "forwarded"
    rsj_notes = client.get("/api/notifications", headers=auth("handler_rsj")).json()
    assert any(n["kind"] == "supervision_红牌" for n in rsj_notes)
    leader_notes = client.get("/api/notifications", headers=auth("leader")).json()
    assert any(n["petition_id"] == pid for n in leader_notes)
    _ok(client, auth, "leader", pid, "take_charge")
    assert client.get(f"/api/petitions/{pid}", headers=auth("leader")).json()["leader"] == "leader"


def test_available_actions_follow_the_user(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    clerk_view = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    assert {"forward", "assign", "refuse", "divert", "inform"} <= {a["action"] for a in clerk_view["actions"]}
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    handler_view = client.get(f"/api/petitions/{pid}", headers=auth("handler_rsj")).json()
    assert {a["action"] for a in handler_view["actions"]} == {"accept", "object", "refuse", "divert"}


def test_concurrent_steps_cannot_both_succeed(client: TestClient, auth: Auth) -> None:
    pid = _new(client, auth)["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    headers = auth("handler_rsj")
    codes: list[int] = []

    def accept() -> None:
        codes.append(
            client.post(f"/api/petitions/{pid}/actions/accept", json={}, headers=headers).status_code
        )

    threads = [threading.Thread(target=accept) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409, 409, 409]
    p = client.get(f"/api/petitions/{pid}", headers=headers).json()
    assert [e["kind"] for e in p["events"]].count("accept") == 1
    assert len([d for d in p["documents"] if d["kind"] == "acceptance"]) == 1


def test_overdue_clocks_are_listed(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    pid = _new(client, auth)["id"]
    clock.advance(days=20)
    rows = client.get("/api/clocks", params={"state": "overdue"}, headers=auth("supervisor")).json()
    assert [(r["petition_id"], r["rule"]) for r in rows] == [(pid, "forward")]
    assert date.fromisoformat(rows[0]["due_on"]) == date(2026, 3, 17)


def _final(client: TestClient, auth: Auth, id_number: str) -> dict[str, Any]:
    p = _new(
        client, auth, id_number=id_number, body="本人承包的林地被村委会收回,补偿款三万元至今未发放,要求补发。"
    )
    pid = p["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    _ok(client, auth, "handler_rsj", pid, "accept")
    _ok(client, auth, "handler_rsj", pid, "reply", **(REPLY | {"outcome": "不予支持"}))
    _ok(client, auth, "clerk", pid, "request_review", reason="不服")
    _ok(client, auth, "reviewer", pid, "review_reply", **(REPLY | {"outcome": "不予支持"}))
    _ok(client, auth, "clerk", pid, "request_recheck", reason="仍不服")
    return _ok(client, auth, "reviewer", pid, "recheck_reply", **(REPLY | {"outcome": "不予支持"}))


def test_the_same_matter_after_re_review_is_not_accepted_again(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    from tests.factories import fake_id_number

    idn = fake_id_number(seed=77)
    final = _final(client, auth, idn)
    clock.advance(days=60)
    again = _new(
        client, auth, id_number=idn, body="本人承包的林地被村委会收回,补偿款三万元至今未发放,要求补发!"
    )
    assert "repeat_of_final" in [e["kind"] for e in again["events"]]
    r = _act(client, auth, "clerk", again["id"], "forward", department="rsj")
    assert r.status_code == 409 and r.json()["detail"]["code"] == "petition.final_after_re_review"
    p = _ok(client, auth, "clerk", again["id"], "refuse", reason="同一事实和理由已经复核终结")
    doc = next(d for d in p["documents"] if d["kind"] == "final_refusal")
    text = _docx_text(client, auth, "clerk", doc["url"])
    assert "不再受理告知书" in text and p["number"] in text
    assert final["status"] == "recheck_replied"


def test_a_clerk_can_lift_the_final_repeat_flag(client: TestClient, auth: Auth, clock: FixedClock) -> None:
    from tests.factories import fake_id_number

    idn = fake_id_number(seed=78)
    _final(client, auth, idn)
    clock.advance(days=60)
    again = _new(
        client, auth, id_number=idn, body="本人承包的林地被村委会收回,补偿款三万元至今未发放,要求补发。"
    )
    r = client.post(
        f"/api/petitions/{again['id']}/repeat-of-final",
        json={"final_id": None, "reason": "提出了新的事实"},
        headers=auth("clerk"),
    )
    assert r.status_code == 200 and "forward" in {a["action"] for a in r.json()["actions"]}
    _ok(client, auth, "clerk", again["id"], "forward", department="rsj")


def test_a_human_forward_elsewhere_is_recorded_as_a_routing_correction(
    client: TestClient, auth: Auth, seeded: Any
) -> None:
    from sqlalchemy import select

    from xinfang.dispatch.models import RoutingCorrection

    pid = _new(client, auth)["id"]
    with seeded.session() as s:
        from xinfang.cases.models import Petition

        p = s.get(Petition, pid)
        p.analysis = {
            "departments": [{"code": "zjj", "name": "住建局", "confidence": 0.4}],
            "category": {"label": "城乡建设", "probabilities": {}},
        }
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    with seeded.session() as s:
        row = s.execute(select(RoutingCorrection)).scalar_one()
        assert (row.suggested_department, row.chosen_department) == ("zjj", "rsj")
