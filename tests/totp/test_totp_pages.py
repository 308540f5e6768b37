"""The TOTP second factor through the Chinese pages: the code form after the password, the account page's
enrolment and disabling, the forced enrolment of a role that must use it, the lockout, the admin's reset button."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import PASSWORDS
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
Code = Callable[..., str]
HTML = {"Accept": "text/html"}


def _field(page: str, name: str = "csrf_token") -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no {name} field"
    return m.group(1)


def _secret(page: str) -> str:
    m = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert m, "no secret on the page"
    return m.group(1).replace(" ", "")


def _login(client: TestClient, username: str) -> str:
    client.cookies.clear()
    r = client.post(
        "/login", data={"username": username, "password": PASSWORDS[username]}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _enrol_by_api(client: TestClient, headers: dict[str, str], code_now: Code) -> str:
    secret = client.post("/api/account/totp/enrolment", headers=headers).json()["secret"]
    r = client.post("/api/account/totp/enrolment/confirm", json={"code": code_now(secret)}, headers=headers)
    assert r.status_code == 200
    return str(secret)


def test_the_password_form_leads_to_the_code_form_and_only_a_valid_code_signs_in(
    client: TestClient, auth: Auth, code_now: Code
) -> None:
    secret = _enrol_by_api(client, auth("clerk"), code_now)
    assert _login(client, "clerk") == "/login/totp"
    # Half-way: nothing opens yet, neither pages nor the API.
    r = client.get("/petitions", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/me").status_code == 401
    page = client.get("/login/totp")
    assert page.status_code == 200 and "动态验证码" in page.text
    csrf = _field(page.text)
    r = client.post("/login/totp", data={"code": code_now(secret, +1), "csrf_token": "x" * 40})
    assert r.status_code == 403  # a forged form
    r = client.post("/login/totp", data={"code": code_now(secret), "csrf_token": csrf})  # used at enrolment
    assert r.status_code == 401 and "动态验证码错误或已使用" in r.text
    r = client.post(
        "/login/totp", data={"code": code_now(secret, +1), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/petitions").status_code == 200
    assert client.get("/api/me").json()["username"] == "clerk"
    # Afterwards the code form has nothing to complete.
    r = client.get("/login/totp", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_five_wrong_codes_lock_the_account_and_end_the_half_way_login(
    client: TestClient, auth: Auth, code_now: Code
) -> None:
    secret = _enrol_by_api(client, auth("supervisor"), code_now)
    _login(client, "supervisor")
    csrf = _field(client.get("/login/totp").text)
    wrong = f"{(int(code_now(secret, +1)) + 3) % 1_000_000:06d}"
    for _ in range(4):
        assert client.post("/login/totp", data={"code": wrong, "csrf_token": csrf}).status_code == 401
    r = client.post("/login/totp", data={"code": wrong, "csrf_token": csrf})
    assert r.status_code == 423 and "账户已临时锁定" in r.text
    r = client.post(
        "/login/totp", data={"code": code_now(secret, +1), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.post("/login", data={"username": "supervisor", "password": PASSWORDS["supervisor"]})
    assert r.status_code == 401 and "锁定" in r.text


def test_a_role_that_must_use_it_is_sent_to_enrol_before_any_other_page(
    client: TestClient, code_now: Code, seeded: Runtime
) -> None:
    seeded.settings.totp_required_roles = ["leader"]
    assert _login(client, "leader") == "/account"
    for path in ("/", "/dashboard", "/petitions"):
        r = client.get(path, headers=HTML, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account", path
    page = client.get("/account")
    assert page.status_code == 200 and 'id="totp-forced"' in page.text
    assert 'href="/dashboard"' not in page.text  # no navigation until enrolled
    csrf = _field(page.text)
    r = client.post("/account/totp/enrol", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/account")
    secret = _secret(page.text)
    assert "otpauth://totp/" in html.unescape(page.text)
    r = client.post("/account/totp/confirm", data={"code": "000000", "csrf_token": csrf})
    assert r.status_code == 422 and "验证码不正确" in r.text
    r = client.post(
        "/account/totp/confirm", data={"code": code_now(secret), "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/dashboard").status_code == 200
    page = client.get("/account")
    assert "已启用" in page.text and "不能自行停用" in page.text and 'id="totp-secret"' not in page.text
    # The next login asks for the code.
    assert _login(client, "leader") == "/login/totp"


def test_a_user_switches_it_on_and_off_on_the_account_page(
    client: TestClient, code_now: Code, seeded: Runtime
) -> None:
    assert _login(client, "clerk") == "/"
    page = client.get("/petitions")
    assert 'href="/account"' in page.text  # reachable from the header of every page
    page = client.get("/account")
    assert "未启用" in page.text
    csrf = _field(page.text)
    assert client.post("/account/totp/enrol", data={"csrf_token": "bad"}).status_code == 403
    client.post("/account/totp/enrol", data={"csrf_token": csrf})
    secret = _secret(client.get("/account").text)
    r = client.post("/account/totp/confirm", data={"code": code_now(secret), "csrf_token": csrf})
    assert r.status_code == 200 and "双因素认证已启用" in r.text
    r = client.post("/account/totp/disable", data={"code": code_now(secret), "csrf_token": csrf})
    assert r.status_code == 422 and "验证码不正确或已使用" in r.text  # that code was used to confirm
    r = client.post("/account/totp/disable", data={"code": code_now(secret, +1), "csrf_token": csrf})
    assert r.status_code == 200 and "双因素认证已停用" in r.text and "未启用" in r.text


def test_the_admin_page_offers_the_reset_only_where_there_is_something_to_reset(
    client: TestClient, auth: Auth, code_now: Code
) -> None:
    _enrol_by_api(client, auth("leader"), code_now)
    _login(client, "admin")
    page = client.get("/admin?section=users").text
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r'<tr data-username="([^"]+)">(.*?)</tr>', page, re.S)
    }
    assert "reset-totp" in rows["leader"] and "reset-totp" not in rows["clerk"]
