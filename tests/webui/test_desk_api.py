"""The registration desk's API: analysis of a draft (nothing saved, repeats scoped), registering with a decision."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import fake_id_number, petition_payload

Auth = Callable[[str], dict[str, str]]
WAGES = (
    "本人在万安镇工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。联系电话13905981234。"
)


def _count(client: TestClient, auth: Auth) -> int:
    return int(client.get("/api/petitions", headers=auth("clerk")).json()["total"])


def test_the_analysis_suggests_and_prefills_without_saving(client: TestClient, auth: Auth) -> None:
    before = _count(client, auth)
    r = client.post("/api/analysis", json={"title": "拖欠工资", "body": WAGES}, headers=auth("clerk"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["analysis"]["category"]["label"] == "劳动和社会保障"
    assert data["analysis"]["departments"][0]["code"] == "rsj"
    assert data["analysis"]["departments"][0]["reasons"]
    assert data["fields"]["phone"] == "13905981234"  # back to the clerk who typed it
    assert data["fields"]["township_code"] == "350428101"
    assert _count(client, auth) == before


def test_repeat_candidates_come_from_the_same_person_and_only_visible_ones(
    client: TestClient, auth: Auth
) -> None:
    idn = fake_id_number(seed=11)
    earlier = client.post(
        "/api/petitions",
        json=petition_payload(id_number=idn, title="养殖场臭气扰民", body="村口养殖场臭气熏天。"),
        headers=auth("clerk"),
    ).json()
    draft = {
        "title": "又来反映",
        "body": "完全不同的内容,关于道路破损。",
        "id_number": idn,
        "petitioner_name": "张测试",
    }
    found = client.post("/api/analysis", json=draft, headers=auth("clerk")).json()["repeats"]
    assert [c["petition_id"] for c in found] == [earlier["id"]]
    assert any(reason["code"] == "same_id_number" for reason in found[0]["reasons"])
    assert idn not in str(found)
    other = client.post("/api/analysis", json=draft, headers=auth("handler_zjj")).json()["repeats"]
    assert other == []  # the handler may not see the earlier petition


def test_the_analysis_needs_the_right_to_register(client: TestClient, auth: Auth) -> None:
    r = client.post("/api/analysis", json={"body": WAGES}, headers=auth("leader"))
    assert r.status_code == 403


def test_register_and_dispatch_or_leave_for_review(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": "dispatch", "department": "rsj"},
        headers=auth("clerk") | {"Idempotency-Key": "desk-1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "forwarded" and r.json()["department"] == "rsj" and r.json()["query_code"]
    again = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": "dispatch", "department": "rsj"},
        headers=auth("clerk") | {"Idempotency-Key": "desk-1"},
    )
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    review = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": "review"},
        headers=auth("clerk"),
    )
    assert review.status_code == 201 and review.json()["status"] == "pending_review"
    missing = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(), "decision": "dispatch"},
        headers=auth("clerk"),
    )
    assert missing.status_code == 422 and missing.json()["detail"]["code"] == "desk.department_required"
