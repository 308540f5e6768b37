"""The risk register flags a low-risk assessment followed by a surge of related petitions; grid reports feed the
ledger (and, when asked, the petitions); the staff pages render."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import PASSWORDS
from tests.prevention.conftest import OTHER_TOWNSHIP_VILLAGE, VILLAGE, Auth
from xinfang.clock import FixedClock

New = Callable[..., dict[str, Any]]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _project(level: str = "低", **kw: Any) -> dict[str, Any]:
    return {
        "name": "万安镇丰岗小学撤并",
        "kind": "学校撤并",
        "risk_level": level,
        "risk_points": "学生上学路程增加",
        "measures": "开通校车",
        "responsible_unit": "jyj",
        "conclusion": "准予实施",
        "assessed_on": "2026-01-10",
        "start_on": "2026-02-01",
        "places": ["350428101"],
        "keywords": ["撤并", "校车"],
    } | kw


def test_a_low_risk_project_with_a_surge_of_petitions_is_flagged(
    client: TestClient, auth: Auth, new_petition: New
) -> None:
    low = client.post("/api/prevention/risk-projects", json=_project(), headers=auth("clerk"))
    assert low.status_code == 201, low.text
    high = client.post(
        "/api/prevention/risk-projects", json=_project("高", name="另一项目"), headers=auth("clerk")
    )
    assert high.status_code == 201
    for i in range(5):
        new_petition(
            name=f"家长{i}",
            division_code=VILLAGE,
            title="学校撤并后孩子上学远",
            body=f"丰岗小学撤并后没有校车,孩子每天走路一小时。{i}",
        )
    new_petition(
        division_code=OTHER_TOWNSHIP_VILLAGE, title="学校撤并", body="古镛镇的学校撤并问题"
    )  # other place
    new_petition(division_code=VILLAGE, title="工资", body="拖欠工资")  # other matter
    rows = {
        r["name"]: r
        for r in client.get("/api/prevention/risk-projects", headers=auth("leader")).json()["items"]
    }
    assert rows["万安镇丰岗小学撤并"]["monitoring"]["related"] == 5
    assert rows["万安镇丰岗小学撤并"]["monitoring"]["flagged"] is True
    assert rows["另一项目"]["monitoring"]["flagged"] is False  # a high-risk assessment foresaw it
    rel = client.get(
        f"/api/prevention/risk-projects/{low.json()['id']}/related", headers=auth("leader")
    ).json()
    assert rel["by_township"] == [{"township_code": "350428101", "township": "万安镇", "count": 5}]
    assert len(rel["geojson"]["features"]) == 5
    flagged = client.get("/api/prevention/risk-projects?flagged=true", headers=auth("leader")).json()
    assert [r["name"] for r in flagged["items"]] == ["万安镇丰岗小学撤并"]


def test_few_related_petitions_do_not_flag(client: TestClient, auth: Auth, new_petition: New) -> None:
    client.post("/api/prevention/risk-projects", json=_project(), headers=auth("clerk"))
    new_petition(division_code=VILLAGE, title="校车", body="校车晚点")
    rows = client.get("/api/prevention/risk-projects", headers=auth("leader")).json()["items"]
    assert rows[0]["monitoring"]["related"] == 1 and not rows[0]["monitoring"]["flagged"]


def test_only_the_bureau_registers_assessments(client: TestClient, auth: Auth) -> None:
    assert (
        client.post("/api/prevention/risk-projects", json=_project(), headers=auth("township_wa")).status_code
        == 403
    )


def _login(client: TestClient, user: str) -> str:
    r = client.post("/login", data={"username": user, "password": PASSWORDS[user]}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    page = client.get("/prevention/grid")
    assert page.status_code == 200
    import re

    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_a_grid_report_with_photo_and_location_feeds_the_ledger(client: TestClient, auth: Auth) -> None:
    token = _login(client, "township_wa")
    form = {
        "csrf_token": token,
        "title": "两户宅基地边界争执",
        "summary": "丰岗村两户因宅基地边界争执,情绪激动",
        "risk_level": "高",
        "parties": "甲某、乙某",
        "lng": "117.40",
        "lat": "26.75",
    }
    r = client.post("/prevention/grid", data=form, files={"photo": ("p.png", PNG, "image/png")})
    assert r.status_code == 200, r.text
    assert "已上报" in r.text
    items = client.get("/api/prevention/ledger", headers=auth("township_wa")).json()["items"]
    assert len(items) == 1 and items[0]["source"] == "grid" and items[0]["has_photo"]
    assert items[0]["division_code"].startswith("350428101") and items[0]["due_on"] == "2026-03-09"
    bad = client.post(
        "/prevention/grid",
        data=form | {"title": "另一件"},
        files={"photo": ("p.exe", b"MZ\x90\x00", "image/png")},
    )
    assert bad.status_code == 422


def test_a_grid_report_can_also_register_a_petition(client: TestClient, auth: Auth) -> None:
    token = _login(client, "township_wa")
    form = {
        "csrf_token": token,
        "title": "村道塌方无人修",
        "summary": "西垅村村道塌方一月无人修复,当事人要求登记信访",
        "parties": "丙某",
        "division_code": "350428101202",
        "register_petition": "yes",
    }
    r = client.post("/prevention/grid", data=form)
    assert r.status_code == 200 and "已登记为信访件" in r.text
    client.cookies.clear()
    petitions = client.get("/api/petitions?channel=grid", headers=auth("clerk")).json()["items"]
    assert len(petitions) == 1
    assert client.get("/api/prevention/failures", headers=auth("clerk")).json()["total"] == 0  # not a failure


def test_the_grid_page_is_a_phone_page(client: TestClient) -> None:
    _login(client, "township_wa")
    page = client.get("/prevention/grid").text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'capture="environment"' in page and "navigator.geolocation" in page and "prevention.css" in page
    assert client.get("/prevention").status_code == 200


def test_pages_need_a_login(client: TestClient, clock: FixedClock) -> None:
    client.cookies.clear()
    r = client.get("/prevention/grid", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code in (303, 401)
