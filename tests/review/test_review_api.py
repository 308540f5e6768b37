"""The DB side through the API: cases walked through the procedure, reviewed, sampled and judged by a reviewer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import petition_payload
from xinfang.clock import FixedClock

Auth = Callable[[str], dict[str, str]]
REPLY = {
    "outcome": "支持",
    "facts": "经查,该工地确实拖欠工资2.3万元。",
    "opinion": "责令用人单位于十日内支付拖欠的工资。",
    "legal_basis": "《保障农民工工资支付条例》第三条",
}


def _ok(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> dict[str, Any]:
    r = client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _walk(client: TestClient, auth: Auth, clock: FixedClock, *, late: bool = False, **reply: Any) -> int:
    r = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    _ok(client, auth, "clerk", pid, "forward", department="rsj")
    _ok(client, auth, "handler_rsj", pid, "accept")
    if late:
        clock.advance(days=70)
    _ok(client, auth, "handler_rsj", pid, "reply", **(REPLY | reply))
    _ok(client, auth, "clerk", pid, "evaluate", evaluation="不满意" if late else "满意")
    _ok(client, auth, "clerk", pid, "conclude")
    return pid


def test_concluded_cases_are_reviewed_once_and_scored(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    good = _walk(client, auth, clock)
    late = _walk(client, auth, clock, late=True, opinion="经研究，你的请求不符合规定，不予办理。")
    assert client.post("/api/review/run", headers=auth("leader")).status_code == 403
    r = client.post("/api/review/run", headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["reviewed"] == 2
    assert client.post("/api/review/run", headers=auth("supervisor")).json()["reviewed"] == 0  # idempotent

    g = client.get(f"/api/review/cases/{good}", headers=auth("leader")).json()
    rules = {f["rule"]: f for f in g["findings"]}
    assert rules["procedure.deadlines"]["ok"] and rules["procedure.notices"]["ok"]
    assert rules["procedure.review_right"]["ok"] and rules["reply.legal_basis"]["ok"]
    assert rules["reply.consistent"]["ok"] and rules["outcome.evaluation"]["ok"]
    assert g["rules_version"] and g["unit"] == "rsj" and g["trigger"] == "auto"

    b = client.get(f"/api/review/cases/{late}", headers=auth("supervisor")).json()
    failed = set(b["failed"])
    assert {"procedure.deadlines", "reply.consistent", "outcome.evaluation"} <= failed
    assert b["score"] < g["score"]
    assert client.get(f"/api/review/cases/{late}", headers=auth("handler_rsj")).status_code == 403


def test_on_demand_review_of_an_open_case(client: TestClient, auth: Auth) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    r = client.post(f"/api/review/cases/{pid}", headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["trigger"] == "on_demand" and r.json()["score"] == 100  # nothing applicable failed yet
    assert client.get("/api/review/cases/999999", headers=auth("supervisor")).status_code == 404


def test_workbench_lowest_sample_verdicts_and_agreement(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    ids = [_walk(client, auth, clock), _walk(client, auth, clock, late=True), _walk(client, auth, clock)]
    client.post("/api/review/run", headers=auth("supervisor"))
    period = {"from": "2026-01-01", "to": "2026-12-31"}

    lowest = client.get("/api/review/lowest", params=period, headers=auth("leader")).json()["units"]
    assert [u["unit"] for u in lowest] == ["rsj"] and lowest[0]["reviewed"] == 3
    assert lowest[0]["cases"][0]["petition_id"] == ids[1]  # the late, dissatisfied one first

    body = period | {"size": 2, "random_share": 0.5, "seed": 7}
    assert client.post("/api/review/samples", json=body, headers=auth("leader")).status_code == 403
    s1 = client.post("/api/review/samples", json=body, headers=auth("supervisor"))
    assert s1.status_code == 201, s1.text
    s2 = client.post("/api/review/samples", json=body, headers=auth("supervisor")).json()
    items = s1.json()["items"]
    assert len(items) == 2 and {i["reason"] for i in items} == {"random", "risk"}
    assert [i["petition_id"] for i in items] == [
        i["petition_id"] for i in s2["items"]
    ]  # same seed, same draw

    reviews = {c: client.get(f"/api/review/cases/{c}", headers=auth("supervisor")).json() for c in ids}
    url = "/api/review/reviews/{}/verdicts"
    r = client.post(
        url.format(reviews[ids[0]]["id"]),
        json={"overall": "agree", "sample_id": s1.json()["id"]},
        headers=auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    assert all(v == "agree" for v in r.json()["findings"].values())
    r = client.post(
        url.format(reviews[ids[1]]["id"]),
        json={
            "overall": "disagree",
            "findings": {"reply.consistent": "disagree"},
            "note": "措辞不当但结论一致",
        },
        headers=auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    bad = client.post(
        url.format(reviews[ids[2]]["id"]),
        json={"overall": "agree", "findings": {"no.such": "agree"}},
        headers=auth("supervisor"),
    )
    assert bad.status_code == 422
    assert (
        client.post(
            url.format(reviews[ids[2]]["id"]), json={"overall": "agree"}, headers=auth("leader")
        ).status_code
        == 403
    )

    judged = client.get(f"/api/review/samples/{s1.json()['id']}", headers=auth("leader")).json()
    assert sum(i["judged"] for i in judged["items"]) == (ids[0] in [i["petition_id"] for i in items])

    agreement = client.get("/api/review/agreement", headers=auth("leader")).json()
    assert [m["month"] for m in agreement["months"]] == ["2026-05"]  # the clock moved 70 days
    total = agreement["total"]
    assert total["verdicts"] == 2 and total["overall_agreement"] == 0.5
    n_findings = len(reviews[ids[0]]["findings"]) + len(reviews[ids[1]]["findings"])
    assert total["findings"] == n_findings
    assert total["finding_agreement"] == round((n_findings - 1) / n_findings, 4)
    assert (
        reviews[ids[1]]["id"]
        and client.get(f"/api/review/cases/{ids[1]}", headers=auth("leader")).json()["verdicts"][0]["note"]
        == "措辞不当但结论一致"
    )


def test_quality_figures_join_the_accountability_rows(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    _walk(client, auth, clock)
    _walk(client, auth, clock, late=True)
    client.post("/api/review/run", headers=auth("supervisor"))
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    q = client.get("/api/review/quality", params=period | {"threshold": 100}, headers=auth("leader")).json()
    assert q["units"]["rsj"]["reviewed"] == 2 and q["units"]["rsj"]["quality_below_threshold_rate"] >= 0.5
    rows = client.get("/api/review/accountability", params=period, headers=auth("leader")).json()["rows"]
    rsj = next(r for r in rows if r["key"] == "rsj")
    assert rsj["reviewed"] == 2 and rsj["quality_mean_score"] is not None and "on_time_conclusion_rate" in rsj
    others = [r for r in rows if r["key"] != "rsj"]
    assert all(r["reviewed"] == 0 and r["quality_mean_score"] is None for r in others)
    assert client.get("/api/review/quality", headers=auth("handler_rsj")).status_code == 403
