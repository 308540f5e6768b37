"""End to end in chromium: a user switches the TOTP second factor on from the header's 账户安全 link (reading the
secret off the page like a phone app would), then logs in again through the password and the code form; an
administrator sees the reset button. Codes are computed from the real clock, as the server checks them.

Runs as its own account (created through the admin API), so the demo users of the other browser tests keep
logging in with their password alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from xinfang.security import totp

pytestmark = pytest.mark.browser
USERNAME = "totp-clerk"


def _code(secret: str, offset: int = 0) -> str:
    return totp.code_at(secret, totp.step_of(datetime.now(UTC)) + offset)


def test_a_user_enables_the_second_factor_and_logs_in_with_a_code(
    browser: Any, live_server: str, as_user: Any
) -> None:
    token = httpx.post(
        f"{live_server}/api/auth/token", data={"username": "admin", "password": "demo-admin"}
    ).json()["access_token"]
    r = httpx.post(
        f"{live_server}/api/admin/users",
        json={"username": USERNAME, "password": f"demo-{USERNAME}", "role": "registrar"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text

    s = as_user(USERNAME)
    page = s.page
    page.click("header .who a[href='/account']")
    page.wait_for_url("**/account")
    assert page.inner_text("#totp-state") == "未启用"
    page.click("#totp button[type=submit]")
    page.wait_for_selector("#totp-secret")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    assert page.inner_text("#totp-uri").startswith("otpauth://totp/")
    s.shot("16-account-totp")
    page.fill("#totp input[name=code]", _code(secret))
    page.click("#totp form[action='/account/totp/confirm'] button")
    page.wait_for_selector("p.note")
    assert "双因素认证已启用" in page.inner_text("p.note") and page.inner_text("#totp-state") == "已启用"
    page.click("header .who button.link")  # 退出
    page.wait_for_url("**/login")

    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", f"demo-{USERNAME}")
    page.click("button[type=submit]")
    page.wait_for_url("**/login/totp")
    page.fill("input[name=code]", "000000" if _code(secret, +1) != "000000" else "111111")
    page.click("button[type=submit]")
    assert "动态验证码错误或已使用" in page.inner_text("p.error")
    s.shot("17-login-totp")
    page.fill(
        "input[name=code]", _code(secret, +1)
    )  # the confirming step is used up: the next one is in the window
    page.click("button[type=submit]")
    page.wait_for_url("**/desk")

    admin = as_user("admin")
    admin.goto("/admin?section=users")
    row = admin.page.locator(f"#users tr[data-username='{USERNAME}']")
    assert row.locator("button.reset-totp").count() == 1
    admin.page.once("dialog", lambda d: d.accept())
    row.locator("button.reset-totp").click()
    admin.page.wait_for_load_state()
    admin.page.wait_for_function(
        f"!document.querySelector(\"#users tr[data-username='{USERNAME}'] button.reset-totp\")"
    )
