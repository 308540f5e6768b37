"""End to end in Debian's chromium, one role at a time, on the demo county: the clerk registers a visit and sees the
suggestions; the handler accepts, extends and replies and downloads the notice, and refers another petition to
mediation (移交调解, its status recorded by hand); the supervisor issues a 督办; the leader reads the dashboard
(with next month's forecast) and drills down, then acknowledges and resolves an alert on the alerts page; another
department's handler is refused the case.

Each test saves screenshots of the pages it visits (1440×900) under docs/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

VISIT_TITLE = "反映工地拖欠农民工工资"
VISIT_BODY = (
    "我叫王建国，电话13905981234，在万安镇万安村的安置房工地打工，包工头拖欠我们二十多名工人工资三个月，"
    "共计十二万元，多次讨要无果，请求县人社局督促支付。"
)


def test_login_page(browser: Any, live_server: str) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{live_server}/login")
    assert page.locator("h1").inner_text() == "登录"
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "01-login.png"))
    page.close()


def test_clerk_registers_a_visit_and_sees_the_suggestions(as_user: Any, shared: dict[str, Any]) -> None:
    s = as_user("clerk")
    s.goto("/desk")
    page = s.page
    page.check("input[name=channel][value=visit]")
    page.fill("#f-title", VISIT_TITLE)
    page.fill("#f-body", VISIT_BODY)
    page.wait_for_selector("ol.suggestions li", timeout=15_000)
    # the analysis: category, the top department with its reasons, pre-filled fields, risk signals
    assert "劳动和社会保障" in page.inner_text("#analysis")
    first = page.locator("ol.suggestions > li").first.inner_text()
    assert "人力资源和社会保障局" in first and "关键词" in first
    assert page.input_value("#f-name") == "王建国"
    assert page.input_value("#f-phone") == "13905981234"
    assert page.input_value("#f-township") == "350428101"
    assert page.input_value("#f-department") == "rsj"
    assert page.locator("#analysis .tag.risk").count() >= 1
    s.shot("02-desk-analysis")
    page.click("#btn-dispatch")
    link = page.wait_for_selector("#desk-result a.created", timeout=15_000)
    assert "已登记并转送" in page.inner_text("#desk-result")
    assert page.locator("#desk-result .query-code").count() == 1
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"/petitions/\d+", href)
    shared["petition"] = href
    shared["number"] = link.inner_text()
    s.goto("/inbox?box=to_accept")
    s.shot("03-inbox-clerk")


def _act(page: Any, action: str, fields: dict[str, str]) -> None:
    box = page.locator(f"details.action[data-action={action}]")
    box.locator("summary").click()
    for name, value in fields.items():
        field = box.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        box.locator("button[type=submit]").click()
    assert page.locator("p.error").count() == 0, page.locator("p.error").inner_text()
    assert "操作已完成" in page.inner_text("main")


def test_handler_accepts_extends_and_replies_and_downloads_the_notice(
    as_user: Any, shared: dict[str, Any]
) -> None:
    if "petition" not in shared:
        pytest.skip("the clerk's registration did not happen")
    s = as_user("handler")
    s.goto("/inbox?box=to_accept")
    assert shared["number"] in s.page.inner_text("table.list")
    s.shot("04-inbox-handler")
    s.goto(shared["petition"])
    page = s.page
    _act(page, "accept", {})
    assert page.inner_text("#case-status") == "办理中"
    _act(page, "extend", {"approver": "李局长", "reason": "需调取工程款支付凭证", "days": "30"})
    assert page.inner_text("#case-status") == "延期办理中"
    _act(
        page,
        "reply",
        {
            "outcome": "支持",
            "facts": "经查,施工方确有拖欠工资情形。",
            "opinion": "责令施工方十日内足额支付拖欠工资。",
            "legal_basis": "《保障农民工工资支付条例》",
        },
    )
    assert page.inner_text("#case-status") == "已答复"
    docs = page.inner_text("ul.documents")
    for title in ("受理告知书", "延期告知书", "处理意见书"):
        assert title in docs
    assert page.locator("tr.clock-row").count() >= 2
    s.shot("05-case-handler")
    with page.expect_download() as info:
        page.locator("ul.documents li", has_text="处理意见书").locator("a.download").click()
    download = info.value
    assert download.suggested_filename.endswith("处理意见书.docx")
    path = download.path()
    assert path is not None and Path(path).read_bytes()[:2] == b"PK"
    page.locator("ul.documents li", has_text="处理意见书").locator("a", has_text="预览").click()
    page.wait_for_selector("article.paper")
    assert "处理意见书" in page.inner_text("article.paper")
    s.shot("06-notice-preview")


def test_handler_refers_a_dispute_to_mediation_and_records_its_status(
    as_user: Any, shared: dict[str, Any]
) -> None:
    """移交调解/诉讼 on a petition waiting in the handler's inbox: the demo deployment has no platform API, so the
    referral is a manual hand-over (ZIP) and the platform's answer is recorded by hand."""
    s = as_user("handler")
    s.goto("/inbox?box=to_accept")
    page = s.page
    links = page.locator("table.list tbody a[href^='/petitions/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    target = next((h for h in hrefs if h and h != shared.get("petition")), None)
    if target is None:
        pytest.skip("no other petition waits in the handler's inbox")
    s.goto(target)
    box = page.locator("details.referral-new")
    box.locator("summary", has_text="移交调解/诉讼").click()
    box.locator("select[name=target]").select_option("mediation|诉前调解")
    for tick in box.locator("input[name=consent_ids]").all():
        tick.check()
    box.locator("textarea[name=consent_note]").fill("双方当事人当面签署同意调解书")
    assert box.locator("textarea[name=demand]").input_value().strip() != ""  # prefilled
    with page.expect_navigation():
        box.locator("#btn-refer").click()
    assert page.locator("p.error").count() == 0, page.locator("p.error").inner_text()
    assert "已登记移交" in page.inner_text("main")
    row = page.locator("tr.referral-row").first
    assert "人民调解平台" in row.inner_text() and "人工移交" in row.inner_text()
    with page.expect_download() as info:
        row.locator("a.referral-export").click()
    assert info.value.suggested_filename.endswith(".zip")
    manual = page.locator("details.referral-manual").first
    manual.locator("summary").click()
    manual.locator("select[name=status]").select_option("已受理")
    manual.locator("textarea[name=note]").fill("县人民调解委员会电话告知已受理")
    with page.expect_navigation():
        manual.locator("button[type=submit]").click()
    assert "移交状态已记录" in page.inner_text("main")
    assert "已受理" in page.locator("tr.referral-row").first.inner_text()
    page.locator("#referrals").scroll_into_view_if_needed()
    s.shot("13-referral")


def test_supervisor_issues_a_supervision(as_user: Any, shared: dict[str, Any]) -> None:
    s = as_user("supervisor")
    s.goto("/inbox?box=overdue")
    s.shot("07-inbox-supervisor-overdue")
    target = shared.get("petition")
    if target is None:
        target = s.page.locator("table.list tbody a").first.get_attribute("href")
    s.goto(target)
    _act(s.page, "supervise", {"instruction": "请于期限内报告工资支付落实情况。", "level": "黄牌"})
    assert "请于期限内报告工资支付落实情况" in s.page.inner_text("aside")
    s.goto("/inbox?box=supervised")
    assert s.page.locator("table.list tbody tr").count() >= 1


def test_leader_reads_the_dashboard_and_drills_down(as_user: Any) -> None:
    s = as_user("leader")
    s.goto("/dashboard")
    page = s.page
    page.wait_for_selector("#map[data-ready='1']", timeout=20_000)
    page.locator("#kpi-timely", has_text="%").wait_for(timeout=20_000)
    assert int(page.inner_text("#kpi-total")) > 0
    # next month's forecast with its interval, drawn beside the actual months of the trend chart
    page.wait_for_selector("#trend[data-forecast='1']", timeout=20_000)
    assert re.search(r"下月\(\d{4}-\d{2}\)预测 \d+ 件,90%区间 \d+–\d+ 件", page.inner_text("#forecast-note"))
    drawn = page.evaluate(
        """() => { const o = echarts.getInstanceByDom(document.getElementById("trend")).getOption();
                   const s = Object.fromEntries(o.series.map((x) => [x.name, x.data]));
                   return { months: o.xAxis[0].data, actual: s["信访件"], forecast: s["预测"] }; }"""
    )
    assert drawn["forecast"][-1] is not None and drawn["actual"][-1] is None  # next month: forecast only
    assert drawn["forecast"][-2] is not None and drawn["actual"][-2] is not None  # this month: both
    assert sum(1 for v in drawn["actual"] if v) >= 6  # beside a history of actual months
    # the demo's warning scans found its injected surges: the leader sees alerts and acknowledges one
    alerts = page.locator("#alerts li.alert")
    alerts.first.wait_for(timeout=20_000)
    ack = alerts.first.locator("button.ack")
    alert_id = alerts.first.get_attribute("data-id")
    ack.click()
    page.locator(f"#alerts li[data-id='{alert_id}'] .alert-status", has_text="已确认").wait_for(
        timeout=10_000
    )
    s.shot("08-dashboard")
    # drill down: click the county's centre (a township polygon or a village point), then the list link
    box = page.locator("#map canvas").first.bounding_box()
    assert box is not None
    for dx, dy in ((0.5, 0.5), (0.45, 0.55), (0.55, 0.45), (0.5, 0.65), (0.4, 0.4)):
        page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
        if page.locator("a.drill-link").count():
            break
    link = page.locator("a.drill-link")
    assert link.count() == 1
    with page.expect_navigation():
        link.click()
    assert re.search(r"/petitions\?division=\d{9,12}$", page.url)
    assert page.locator("table.list tbody tr").count() >= 1
    s.shot("09-drilldown-list")


def test_leader_reads_the_alerts_and_handles_one(as_user: Any) -> None:
    s = as_user("leader")
    s.goto("/dashboard")
    with s.page.expect_navigation():
        s.page.click("#all-alerts")
    page = s.page
    assert page.url.endswith("/alerts")
    cards = page.locator("article.alert-card")
    assert cards.count() >= 1
    first = cards.first
    assert first.locator(".tag").first.inner_text() in ("红色预警", "黄色预警")
    assert first.locator("table.evidence tbody tr").count() >= 1
    assert first.locator("ul.petition-links a[href^='/petitions/']").count() >= 1
    s.shot("14-alerts")
    # acknowledge an open alert, then resolve it, with the page's forms
    card = page.locator("article.alert-card.st-open").first
    alert_id = card.get_attribute("data-id")
    card.locator("form.ack-form input[name=note]").fill("已转乡镇核实")
    with page.expect_navigation():
        card.locator("form.ack-form button").click()
    assert "预警已确认" in page.inner_text("main")
    card = page.locator(f"#alert-{alert_id}")
    assert card.locator(".alert-status").inner_text() == "已确认"
    card.locator("form.resolve-form input[name=note]").fill("已约谈涉事企业,工资已兑付")
    with page.expect_navigation():
        card.locator("form.resolve-form button").click()
    assert page.locator(f"#alert-{alert_id} .alert-status").inner_text() == "已处置"
    with page.expect_navigation():
        page.click(f"#alert-{alert_id} a.alert-title")
    assert "已约谈涉事企业" in page.inner_text("ol.trail")
    petition = page.locator("ul.petition-links a").first
    with page.expect_navigation():
        petition.click()
    assert re.search(r"/petitions/\d+$", page.url)


def test_a_handler_of_another_department_is_refused_the_case(as_user: Any, shared: dict[str, Any]) -> None:
    if "petition" not in shared:
        pytest.skip("the clerk's registration did not happen")
    s = as_user("handler2")
    response = s.goto(shared["petition"])
    assert response.status == 404
    assert "无权查看" in s.page.content()
    s.goto("/petitions")
    assert shared["number"] not in s.page.inner_text("main")


def test_admin_pages(as_user: Any) -> None:
    s = as_user("admin")
    s.goto("/admin?section=users")
    assert "clerk" in s.page.inner_text("#users")
    s.shot("10-admin-users")
    s.goto("/admin?section=rules")
    s.page.click("#rules-test")
    s.page.wait_for_selector("#rules-result .note", timeout=15_000)
    s.shot("11-admin-rules")
    s.goto("/admin?section=templates")
    assert s.page.locator("#templates tbody tr").count() == 9
    s.shot("12-admin-templates")
