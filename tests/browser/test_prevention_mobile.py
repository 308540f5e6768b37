"""The prevention slice's phone pages in Debian's chromium at a phone's viewport (390×844): the citizen submits a
petition online and gets the number and query code; a township grid worker reports a dispute from the village picker.
Nothing may overflow horizontally (no sideways scrolling on a phone)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _no_horizontal_overflow(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_citizen_submits_online_on_a_phone(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/public/submit")
    _no_horizontal_overflow(page)
    button = page.locator("button[type=submit]").bounding_box()
    assert button is not None and button["width"] > PHONE["width"] * 0.8  # full-width tap target
    page.fill("input[name=name]", "周公民")
    page.fill("input[name=address]", "将乐县万安镇丰岗村8号")
    page.fill("textarea[name=request]", "请求修复村口便桥")
    page.fill("textarea[name=facts]", "汛期便桥被冲毁,村民出行绕行五公里。")
    page.fill("textarea[name=reasons]", "便桥是村民出行唯一通道。")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "已提交" in page.locator("h1").inner_text()
    assert page.locator(".code").count() == 2
    _no_horizontal_overflow(page)
    context.close()


def test_a_grid_worker_reports_from_a_phone(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "township")
    page.fill("input[name=password]", "demo-township")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/prevention/grid")
    _no_horizontal_overflow(page)
    page.fill("input[name=title]", "两户宅基地边界争执")
    page.fill("textarea[name=summary]", "情绪激动,需尽快调解")
    page.fill("input[name=parties]", "甲某、乙某")
    page.select_option("select[name=division_code]", index=1)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "已上报" in page.content()
    context.close()
