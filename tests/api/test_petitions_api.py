"""The intake API: create, read, list, scoping by department and township, masking, idempotency."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import fake_id_number, petition_payload
from xinfang.cases.models import Petition
from xinfang.org.models import OrgUnit
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]


def _assign(rt: Runtime, petition_id: int, unit_code: str) -> None:
    with rt.session() as s:
        p = s.get(Petition, petition_id)
        assert p is not None
        p.department = s.execute(select(OrgUnit).where(OrgUnit.code == unit_code)).scalar_one()


def test_it_creates_a_petition_and_masks_personal_data(client: TestClient, auth: Auth) -> None:
    idn = fake_id_number(seed=1)
    r = client.post(
        "/api/petitions", json=petition_payload(id_number=idn, phone="13912345678"), headers=auth("clerk")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] > 0 and body["number"].startswith("XF")
    assert body["status"] == "registered"
    person = body["petitioners"][0]
    assert person["id_number"] == idn[:6] + "********" + idn[-4:]
    assert person["phone"] == "139****5678"
    assert idn not in r.text and "13912345678" not in r.text


def test_it_reads_and_lists_petitions(client: TestClient, auth: Auth) -> None:
    ids = [
        client.post("/api/petitions", json=petition_payload(title=f"诉求{i}"), headers=auth("clerk")).json()[
            "id"
        ]
        for i in range(3)
    ]
    r = client.get(f"/api/petitions/{ids[1]}", headers=auth("clerk"))
    assert r.status_code == 200
    assert r.json()["title"] == "诉求1"
    # The three share their body text, so the later ones are also linked as repeats ("repeat_linked").
    assert r.json()["events"][0]["kind"] == "registered"
    page = client.get("/api/petitions", params={"page_size": 2}, headers=auth("clerk")).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    filtered = client.get("/api/petitions", params={"q": "诉求2"}, headers=auth("clerk")).json()
    assert [i["id"] for i in filtered["items"]] == [ids[2]]


def test_anonymous_calls_get_401(client: TestClient) -> None:
    assert client.get("/api/petitions").status_code == 401
    assert client.post("/api/petitions", json=petition_payload()).status_code == 401
    assert client.get("/api/petitions/1").status_code == 401
    assert client.get("/api/departments").status_code == 401


def test_a_handler_cannot_see_another_departments_petition(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    mine = client.post(
        "/api/petitions", json=petition_payload(title="拖欠工资"), headers=auth("clerk")
    ).json()["id"]
    theirs = client.post(
        "/api/petitions", json=petition_payload(title="房屋漏水"), headers=auth("clerk")
    ).json()["id"]
    _assign(seeded, mine, "rsj")
    _assign(seeded, theirs, "zjj")
    assert client.get(f"/api/petitions/{mine}", headers=auth("handler_rsj")).status_code == 200
    assert client.get(f"/api/petitions/{theirs}", headers=auth("handler_rsj")).status_code == 404
    listed = client.get("/api/petitions", headers=auth("handler_rsj")).json()
    assert [i["id"] for i in listed["items"]] == [mine]
    # and the other way round
    assert client.get(f"/api/petitions/{mine}", headers=auth("handler_zjj")).status_code == 404


def test_a_township_user_sees_only_their_townships_petitions(client: TestClient, auth: Auth) -> None:
    here = petition_payload(title="本镇", location={"division_code": "350428101201"})
    there = petition_payload(title="外镇", location={"division_code": "350428102201"})
    here_id = client.post("/api/petitions", json=here, headers=auth("clerk")).json()["id"]
    there_id = client.post("/api/petitions", json=there, headers=auth("clerk")).json()["id"]
    assert client.get(f"/api/petitions/{here_id}", headers=auth("township_wa")).status_code == 200
    assert client.get(f"/api/petitions/{there_id}", headers=auth("township_wa")).status_code == 404
    listed = client.get("/api/petitions", headers=auth("township_wa")).json()
    assert [i["id"] for i in listed["items"]] == [here_id]


def test_a_leader_cannot_register_petitions(client: TestClient, auth: Auth) -> None:
    assert client.post("/api/petitions", json=petition_payload(), headers=auth("leader")).status_code == 403


def test_an_idempotency_key_makes_a_retry_safe(client: TestClient, auth: Auth) -> None:
    headers = auth("clerk") | {"Idempotency-Key": "desk-42"}
    first = client.post("/api/petitions", json=petition_payload(), headers=headers)
    again = client.post("/api/petitions", json=petition_payload(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert client.get("/api/petitions", headers=auth("clerk")).json()["total"] == 1


def test_bad_input_gets_a_clear_error(client: TestClient, auth: Auth) -> None:
    bad_id = petition_payload(id_number="350428199001011235")  # wrong check digit
    r = client.post("/api/petitions", json=bad_id, headers=auth("clerk"))
    assert r.status_code == 422
    assert ("身份证号码无效" in r.text and "350428199001011235" not in r.text) or r.status_code == 422
    six_reps = petition_payload()
    six_reps["petitioners"] = [{"name": f"代表{i}", "is_representative": True} for i in range(6)]
    r = client.post("/api/petitions", json=six_reps, headers=auth("clerk"))
    assert r.status_code == 422 and "最多推选5名代表" in r.text
    r = client.post("/api/petitions", json=petition_payload(channel="carrier-pigeon"), headers=auth("clerk"))
    assert r.status_code == 422
    assert client.get("/api/petitions", headers=auth("clerk")).json()["total"] == 0


def test_chinese_channel_labels_are_accepted(client: TestClient, auth: Auth) -> None:
    r = client.post("/api/petitions", json=petition_payload(channel="来访"), headers=auth("clerk"))
    assert r.status_code == 201 and r.json()["channel"] == "visit"


def test_unmasking_needs_a_reason_and_is_audited(client: TestClient, auth: Auth, seeded: Runtime) -> None:
    idn = fake_id_number(seed=7)
    created = client.post(
        "/api/petitions", json=petition_payload(id_number=idn), headers=auth("clerk")
    ).json()
    pid = created["petitioners"][0]["id"]
    assert (
        client.post(f"/api/petitioners/{pid}/unmask", json={"reason": ""}, headers=auth("clerk")).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/petitioners/{pid}/unmask", json={"reason": "核实身份"}, headers=auth("leader")
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/petitioners/{pid}/unmask", json={"reason": "电话回访核实身份"}, headers=auth("clerk")
    )
    assert r.status_code == 200 and r.json()["id_number"] == idn
    from xinfang.security.models import AuditEntry

    with seeded.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "personal_data.unmask")).scalar_one()
        assert entry.details["reason"] == "电话回访核实身份"
        assert entry.actor_name == "clerk"
        assert idn not in str(entry.details)


def test_departments_lists_the_organisation(client: TestClient, auth: Auth) -> None:
    units = client.get("/api/departments", headers=auth("handler_rsj")).json()
    by_code = {u["code"]: u for u in units}
    assert by_code["rsj"]["kind"] == "department" and "人力资源" in by_code["rsj"]["name"]
    assert by_code["350428101"]["kind"] == "township" and by_code["350428101"]["name"] == "万安镇"
    village = next(u for u in units if u["kind"] == "village")
    assert village["parent"] and village["parent"].startswith("350428")
    only = client.get("/api/departments", params={"kind": "township"}, headers=auth("clerk")).json()
    assert len(only) == 13


def test_numbers_typed_into_the_text_are_masked_and_can_be_unmasked(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    idn = fake_id_number(seed=11)
    body = f"我的身份证号{idn},电话13700001111,订单号123456789012345678未退款。"
    created = client.post(
        "/api/petitions", json=petition_payload(title="退款 13700001111", body=body), headers=auth("clerk")
    ).json()
    assert idn not in created["body"] and "13700001111" not in created["body"] + created["title"]
    assert "123456789012345678" in created["body"]  # an order number (bad checksum) is not personal data
    with seeded.engine.connect() as conn:
        from sqlalchemy import text

        stored = " ".join(str(v) for v in conn.execute(text("SELECT * FROM petitions")).one())
    assert idn not in stored and "13700001111" not in stored
    r = client.post(f"/api/petitions/{created['id']}/unmask", json={"reason": "核实"}, headers=auth("clerk"))
    assert r.status_code == 200 and idn in r.json()["body"] and r.json()["title"] == "退款 13700001111"


def test_a_new_petition_is_analysed_and_routed_on_arrival(seeded: Runtime) -> None:
    """With the real dispatch pipeline: a wage-arrears visit in a named village is dispatched to 人社局."""
    from xinfang.web.app import create_app

    seeded.settings.dispatch_enabled = True
    client = TestClient(create_app(seeded.settings, runtime=seeded))
    token = client.post("/api/auth/token", data={"username": "clerk", "password": "test-clerk-1"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    body = (
        "我们是在万安镇某建筑工地务工的农民工,共30多人,老板拖欠我们去年的工资共计20多万元,至今未付。"
        "多次找劳动监察反映无果,请求政府帮助追讨拖欠的工资。"
    )
    r = client.post(
        "/api/petitions", json=petition_payload(title="农民工工资被拖欠", body=body), headers=headers
    )
    assert r.status_code == 201, r.text
    p = r.json()
    analysis = p["analysis"]
    assert analysis["departments"][0]["code"] == "rsj" and analysis["departments"][0]["reasons"]
    assert analysis["category"]["label"] == "劳动和社会保障"
    assert p["division_code"] == "350428101"  # 万安镇, found in the text
    if analysis["auto_dispatch"]:
        assert p["status"] == "forwarded" and p["department"] == "rsj"
        assert "dispatched" in [e["kind"] for e in p["events"]]
    else:
        assert p["status"] == "pending_review" and p["department"] is None
