"""The pages: every role's main pages render, CSRF guards cookie writes, case-page forms take steps, exports work."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]
Login = Callable[[str], str]


def _forwarded(client: TestClient, auth: Auth) -> int:
    r = client.post(
        "/api/desk/register",
        json={
            "petition": petition_payload(title="<b>拖欠</b>工资"),
            "decision": "dispatch",
            "department": "rsj",
        },
        headers=auth("clerk"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_each_role_opens_its_pages(client: TestClient, login: Login) -> None:
    pages = {
        "clerk": ["/desk", "/inbox", "/inbox?box=returned", "/petitions"],
        "handler_rsj": ["/inbox", "/inbox?box=to_accept", "/inbox?box=handling", "/inbox?box=due_soon"],
        "supervisor": ["/inbox?box=overdue", "/inbox?box=supervised", "/dashboard"],
        "leader": ["/dashboard", "/dashboard/heat.json?level=township"],
        "admin": [
            "/admin",
            "/admin?section=users",
            "/admin?section=rules",
            "/admin?section=templates",
            "/admin?section=alerts",
        ],
    }
    for user, paths in pages.items():
        login(user)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, (user, path, r.text[:300])
            assert "server-timing" in r.headers or path.endswith("json")
    login("leader")
    assert client.get("/admin").status_code == 403
    assert client.get("/desk").status_code == 403


def test_cookie_writes_need_the_csrf_token(client: TestClient, login: Login, auth: Auth) -> None:
    pid = _forwarded(client, auth)
    token = login("handler_rsj")
    refused = client.post("/api/analysis", json={"body": "拖欠工资"})
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "csrf.invalid"
    assert (
        client.post("/api/analysis", json={"body": "拖欠工资"}, headers={"X-CSRF-Token": token}).status_code
        == 200
    )
    form = client.post(f"/petitions/{pid}/act/accept", data={}, follow_redirects=False)
    assert form.status_code == 403
    ok = client.post(f"/petitions/{pid}/act/accept", data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    page = client.get(f"/petitions/{pid}")
    assert "办理中" in page.text and "受理告知书" in page.text
    assert "<b>拖欠</b>" not in page.text and "&lt;b&gt;拖欠&lt;/b&gt;" in page.text


def test_a_refused_step_is_shown_on_the_page(client: TestClient, login: Login, auth: Auth) -> None:
    pid = _forwarded(client, auth)
    token = login("handler_rsj")
    client.post(f"/petitions/{pid}/act/accept", data={"csrf_token": token})
    r = client.post(
        f"/petitions/{pid}/act/extend",
        data={"csrf_token": token, "approver": "李", "reason": "需核实", "days": "99"},
    )
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_bulk_accept_and_export(client: TestClient, login: Login, auth: Auth) -> None:
    ids = [_forwarded(client, auth) for _ in range(2)]
    token = login("handler_rsj")
    r = client.post(
        "/inbox/bulk",
        data={"csrf_token": token, "action": "accept", "ids": [str(i) for i in ids], "back": "/inbox"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=2" in r.headers["location"]
    xlsx = client.get("/inbox?box=handling&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "spreadsheetml" in xlsx.headers["content-type"]


def test_document_preview_shows_the_notice(client: TestClient, login: Login, auth: Auth) -> None:
    pid = _forwarded(client, auth)
    token = login("handler_rsj")
    client.post(f"/petitions/{pid}/act/accept", data={"csrf_token": token})
    doc = client.get(f"/api/petitions/{pid}", headers=auth("handler_rsj")).json()["documents"][0]
    r = client.get(f"/documents/{doc['id']}/preview")
    assert r.status_code == 200 and "受理告知书" in r.text and 'class="paper"' in r.text
    login("handler_zjj")
    assert client.get(f"/documents/{doc['id']}/preview").status_code == 404
