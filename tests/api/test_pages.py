"""The Chinese pages: login with a session cookie, the petition list and a petition's page, scoped and masked."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import fake_id_number, petition_payload

Auth = Callable[[str], dict[str, str]]


def _login(client: TestClient, username: str, password: str) -> None:
    r = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert r.status_code == 303 and "xf_session" in r.cookies


def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    r = client.get("/petitions", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "登录" in client.get("/login").text


def test_a_wrong_password_shows_an_error(client: TestClient) -> None:
    r = client.post("/login", data={"username": "clerk", "password": "wrong-one"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_the_list_and_the_case_page_show_masked_data(client: TestClient, auth: Auth) -> None:
    idn = fake_id_number(seed=3)
    created = client.post(
        "/api/petitions",
        json=petition_payload(title="<script>alert(1)</script>欠薪", id_number=idn),
        headers=auth("clerk"),
    ).json()
    client.cookies.clear()
    _login(client, "clerk", "test-clerk-1")
    listing = client.get("/petitions")
    assert listing.status_code == 200 and created["number"] in listing.text
    assert "<script>alert(1)</script>" not in listing.text and "&lt;script&gt;" in listing.text
    page = client.get(f"/petitions/{created['id']}")
    assert page.status_code == 200
    assert idn not in page.text and idn[:6] + "********" + idn[-4:] in page.text
    assert "登记" in page.text  # the timeline


def test_the_case_page_is_refused_to_another_department(client: TestClient, auth: Auth) -> None:
    created = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()
    client.cookies.clear()
    _login(client, "handler_zjj", "test-handler-2")
    assert client.get(f"/petitions/{created['id']}").status_code == 404
    assert created["number"] not in client.get("/petitions").text
