"""End to end in chromium on the demo county: a department's handler registers and accepts at the desk (no 转送);
the supervisor's 督办 reaches the handler as a message, the handler answers it on the case page and the supervisor
reads the answer in 消息; the leader resolves an alert from the dashboard with the required note; the administrator
reads the warning rules and push channels.

Runs after test_roles.py (file order) on the same live server; it uses its own petition and an alert still open.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

TITLE = "反映工地拖欠农民工工资(本单位直接收到)"
BODY = "我在万安镇万安村的安置房工地打工,包工头拖欠工资三个月共计三万元,多次讨要无果,请求县人社局督促支付。"


def test_a_handler_registers_and_accepts_at_the_desk(as_user: Any, shared: dict[str, Any]) -> None:
    s = as_user("handler")
    s.goto("/desk")
    page = s.page
    assert page.locator("#btn-dispatch").count() == 0 and page.locator("#f-department").count() == 0
    assert page.locator("#btn-review").inner_text() == "登记,待受理"
    page.fill("#f-title", TITLE)
    page.fill("#f-body", BODY)
    page.wait_for_selector("ol.suggestions li", timeout=15_000)
    assert page.locator("ol.suggestions input[type=radio]").count() == 0  # nothing to forward to
    page.click("#btn-accept")
    link = page.wait_for_selector("#desk-result a.created", timeout=15_000)
    assert "已登记并受理" in page.inner_text("#desk-result")
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"/petitions/\d+", href)
    shared["gap_petition"], shared["gap_number"] = href, link.inner_text()
    s.goto(href)
    assert page.inner_text("#case-status") == "办理中"
    assert "受理告知书" in page.inner_text("ul.documents")


def test_a_supervision_is_answered_and_the_supervisor_reads_the_answer(
    as_user: Any, shared: dict[str, Any]
) -> None:
    if "gap_petition" not in shared:
        pytest.skip("the handler's registration did not happen")
    href, number = shared["gap_petition"], shared["gap_number"]
    sup = as_user("supervisor")
    sup.goto(href)
    box = sup.page.locator("details.action[data-action=supervise]")
    box.locator("summary").click()
    box.locator("[name=instruction]").fill("请三日内报告工资支付落实情况。")
    box.locator("[name=level]").select_option("黄牌")
    with sup.page.expect_navigation():
        box.locator("button[type=submit]").click()
    assert "待被督办单位回复" in sup.page.inner_text("ul.supervisions")

    handler = as_user("handler")
    handler.goto("/notifications")
    page = handler.page
    assert int(page.inner_text("#unread-count")) >= 1
    row = page.locator("tr.notification.unread", has_text=number).first
    assert "督办" in row.inner_text()
    with page.expect_navigation():
        row.locator("a.open").click()
    assert page.url.endswith(href)
    answer = page.locator("details.supervision-respond").first
    answer.locator("summary").click()
    answer.locator("textarea[name=response]").fill("已约谈施工方,工资将于本周内足额支付。")
    answer.locator("input[name=attach_progress]").check()
    with page.expect_navigation():
        answer.locator("button[type=submit]").click()
    assert "督办已回复" in page.inner_text("main")
    assert "办理进展:当前状态:办理中" in page.inner_text("ul.supervisions")
    assert page.locator("details.supervision-respond").count() == 0
    handler.goto("/inbox?box=supervised")
    assert number not in page.inner_text("main")

    sup.goto("/notifications")
    assert "督办回复" in sup.page.inner_text("table.notifications")
    sup.shot("15-notifications")
    with sup.page.expect_navigation():
        sup.page.click("#read-all button")
    assert "标为已读" in sup.page.inner_text("main") and sup.page.locator("#unread-count").count() == 0


def test_the_leader_resolves_an_alert_on_the_dashboard_with_a_note(as_user: Any) -> None:
    s = as_user("leader")
    s.goto("/dashboard")
    page = s.page
    item = page.locator("#alerts li.alert", has=page.locator("button.resolve")).first
    item.wait_for(timeout=20_000)
    alert_id = item.get_attribute("data-id")
    notes = iter(["", "已约谈涉事企业,工资已兑付"])
    seen: list[str] = []

    def answer(dialog: Any) -> None:
        seen.append(dialog.message)
        if dialog.type == "prompt":
            dialog.accept(next(notes))
        else:
            dialog.accept()

    page.on("dialog", answer)
    item.locator("button.resolve").click()  # an empty note is refused in the page, nothing is sent
    page.locator(f"#alerts li[data-id='{alert_id}'] button.resolve").click()
    page.locator(f"#alerts li[data-id='{alert_id}'] .alert-status", has_text="已处置").wait_for(
        timeout=10_000
    )
    assert seen[0].startswith("处置情况") and "处置预警需填写处置情况" in seen[1]
    s.goto(f"/alerts/{alert_id}")
    assert "已约谈涉事企业" in page.inner_text("ol.trail")


def test_the_admin_reads_the_warning_rules_and_channels(as_user: Any) -> None:
    s = as_user("admin")
    s.goto("/admin?section=alerts")
    page = s.page
    page.wait_for_selector("#alert-rules table tbody tr", timeout=10_000)
    assert page.locator("#alert-rules tbody tr").count() >= 25
    assert "负二项回归" in page.inner_text("#alert-rules")
    page.wait_for_selector("#alert-channels table tbody tr", timeout=10_000)
    assert "站内消息" in page.inner_text("#alert-channels")
