"""The desk and the inbox offer each role only what its permissions allow, and what they offer works.

The bureau's clerk registers and forwards (or queues for dispatch); a department's or township's handler holds what
it registers — 登记并受理 at once, or 登记,待受理 into its own 待受理 box where 受理 is offered; the administrator,
who takes no procedural step, only registers for the bureau's clerks to dispatch, and gets no bulk step.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]
Login = Callable[[str], str]
WAGES = "本人在万安镇工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。"


def _register(client: TestClient, auth: Auth, user: str, decision: str, **extra: object) -> dict[str, object]:
    r = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": decision, **extra},
        headers=auth(user),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _total(client: TestClient, auth: Auth) -> int:
    return int(client.get("/api/petitions", headers=auth("clerk")).json()["total"])


def _in_box(client: TestClient, box: str, pid: object) -> bool:
    page = client.get(f"/inbox?box={box}")
    assert page.status_code == 200, page.text[:300]
    return f'href="/petitions/{pid}"' in page.text


def test_each_role_sees_only_its_own_desk_buttons(client: TestClient, login: Login) -> None:
    expected = {
        "clerk": ({"登记并转送", "登记,待审核分派"}, {"登记并受理", "登记,待受理"}),
        "handler_rsj": ({"登记并受理", "登记,待受理"}, {"登记并转送", "登记,待审核分派"}),
        "township_wa": ({"登记并受理", "登记,待受理"}, {"登记并转送", "登记,待审核分派"}),
        "admin": ({"登记,待审核分派"}, {"登记并转送", "登记并受理", "登记,待受理"}),
    }
    for user, (shown, hidden) in expected.items():
        login(user)
        page = client.get("/desk").text
        buttons = set(page.split('<div class="actions">', 1)[1].split("</div>", 1)[0].split(">"))
        labels = {b.split("<", 1)[0].strip() for b in buttons} - {""}
        assert shown <= labels and not (hidden & labels), (user, labels)
        assert ('id="f-department"' in page) == (user == "clerk"), user  # only the clerk picks a unit


def test_a_handler_registers_and_accepts_for_its_own_unit(client: TestClient, auth: Auth) -> None:
    before = _total(client, auth)
    refused = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": "dispatch", "department": "rsj"},
        headers=auth("handler_rsj"),
    )
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "desk.decision_not_permitted"
    assert _total(client, auth) == before  # nothing registered

    accepted = _register(client, auth, "handler_rsj", "accept", note="当场受理")
    assert accepted["status"] == "accepted" and accepted["department"] == "rsj" and accepted["query_code"]
    view = client.get(f"/api/petitions/{accepted['id']}", headers=auth("handler_rsj")).json()
    assert [d["kind"] for d in view["documents"]] == ["acceptance"]  # 受理告知书
    clocks = {c["rule"]: c for c in view["deadlines"]}  # the open ones
    assert "handle" in clocks and "receipt_notice" not in clocks  # the 60 days run; the 15-day notice is done

    township = _register(client, auth, "township_wa", "accept")
    assert township["status"] == "accepted" and township["department"] == "350428101"


def test_registered_by_a_handler_waits_in_its_own_to_accept_box(
    client: TestClient, auth: Auth, login: Login
) -> None:
    held = _register(client, auth, "handler_rsj", "review")
    # the real analysis ran (webui conftest): the unit's own petition is neither queued nor dispatched elsewhere
    assert held["status"] == "registered" and held["department"] == "rsj"
    actions = [
        a["action"]
        for a in client.get(f"/api/petitions/{held['id']}", headers=auth("handler_rsj")).json()["actions"]
    ]
    assert "accept" in actions and "forward" not in actions and "object" not in actions

    login("clerk")
    assert not _in_box(client, "returned", held["id"])  # not the bureau's dispatch queue
    assert _in_box(client, "to_accept", held["id"])  # the bureau sees it waiting on the unit

    token = login("handler_rsj")
    assert _in_box(client, "to_accept", held["id"])
    page = client.get(f"/petitions/{held['id']}").text
    assert 'data-action="accept"' in page
    r = client.post(f"/petitions/{held['id']}/act/accept", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert (
        client.get(f"/api/petitions/{held['id']}", headers=auth("handler_rsj")).json()["status"] == "accepted"
    )
    assert not _in_box(client, "to_accept", held["id"]) and _in_box(client, "handling", held["id"])


def test_a_handlers_api_registration_is_not_dispatched_by_the_bureaus_engine(
    client: TestClient, auth: Auth
) -> None:
    r = client.post("/api/petitions", json=petition_payload(body=WAGES), headers=auth("handler_zjj"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "registered" and r.json()["department"] == "zjj"


def test_the_admin_registers_for_the_bureau_and_gets_no_bulk_step(
    client: TestClient, auth: Auth, login: Login
) -> None:
    refused = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(body=WAGES), "decision": "dispatch", "department": "rsj"},
        headers=auth("admin"),
    )
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "desk.decision_not_permitted"
    assert (
        client.post(
            "/api/desk/register",
            json={"petition": petition_payload(body=WAGES), "decision": "accept"},
            headers=auth("admin"),
        ).status_code
        == 403
    )
    queued = _register(client, auth, "admin", "review")
    assert queued["status"] == "pending_review" and queued["department"] is None

    token = login("admin")
    for box in ("returned", "all", "to_accept"):
        page = client.get(f"/inbox?box={box}").text
        assert "批量转送" not in page and "批量受理" not in page, box
    assert _in_box(client, "returned", queued["id"])
    r = client.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "forward", "ids": [str(queued["id"])], "department": "rsj"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert (
        client.get(f"/api/petitions/{queued['id']}", headers=auth("clerk")).json()["status"]
        == "pending_review"
    )

    login("clerk")  # the bureau's clerk dispatches what the admin registered
    assert "批量转送" in client.get("/inbox?box=returned").text
    assert _in_box(client, "returned", queued["id"])


def test_a_handler_bulk_accepts_what_it_registered(client: TestClient, auth: Auth, login: Login) -> None:
    ids = [_register(client, auth, "handler_rsj", "review")["id"] for _ in range(2)]
    token = login("handler_rsj")
    page = client.get("/inbox?box=to_accept").text
    assert "批量受理" in page and "批量转送" not in page
    r = client.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "accept", "ids": [str(i) for i in ids], "back": "/inbox"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=2&failed=0" in r.headers["location"]
    refused = client.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "forward", "ids": [str(ids[0])]},
        follow_redirects=False,
    )
    assert refused.status_code == 403
