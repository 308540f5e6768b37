"""The alerts page (/alerts, /alerts/{id}): tier, status, stream, evidence, contributing petitions the reader may
open, and the acknowledge / resolve forms with CSRF — for the roles /api/alerts allows, and no others."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.alerts.conftest import add_petition, link
from tests.alerts.test_alerts_service import CFG, DAY
from tests.conftest import PASSWORDS, T0
from xinfang.alerts.models import Alert
from xinfang.alerts.service import run_warning_scan
from xinfang.cases.enums import Role
from xinfang.org.models import OrgUnit, User
from xinfang.runtime import Runtime
from xinfang.security import passwords

Login = Callable[[str], str]
WANAN, GUYONG = "350428101", "350428100"


@pytest.fixture
def login(client: TestClient) -> Login:
    """login(user) signs the client in with the session cookie and returns the CSRF token of the alerts page."""

    def sign_in(username: str) -> str:
        client.cookies.clear()
        r = client.post(
            "/login", data={"username": username, "password": PASSWORDS.get(username, "pw-town-leader-1")}
        )
        assert r.status_code in (200, 303), r.text
        page = client.get("/alerts")
        m = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
        return m.group(1) if m else ""

    return sign_in


def _alerts(rt: Runtime) -> tuple[int, list[int]]:
    """A red matter alert (five people on one matter in 万安镇, one of the petitions placed in 古镛镇) and a yellow
    group visit. Returns the matter alert's id and its petitions."""
    with rt.session() as s:
        ids, prev = [], None
        for k in range(5):
            town = GUYONG if k == 4 else WANAN
            p = add_petition(s, day=DAY, township=town, category="劳动和社会保障", petitioners=[f"pp{k}"])
            if prev is not None:
                link(s, p, prev)
            prev = p
            ids.append(p.id)
        add_petition(s, day=DAY, township="350428103", channel="visit", headcount=6)
    with rt.session() as s:
        run_warning_scan(s, now=rt.clock.now(), config=CFG)
    with rt.session() as s:
        alert_id = s.execute(select(Alert.id).where(Alert.tier == "red")).scalar_one()
    return alert_id, ids


def test_the_page_lists_alerts_with_their_evidence_and_petitions(
    seeded: Runtime, client: TestClient, login: Login
) -> None:
    alert_id, ids = _alerts(seeded)
    login("leader")
    page = client.get("/alerts")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/alerts" class="on"' in html or 'href="/alerts"' in html  # in the navigation
    assert html.count('class="alert-card') == 2
    card = html[html.index(f'id="alert-{alert_id}"') :]
    card = card[: card.index("</article>")]
    assert "红色预警" in card and "待处理" in card
    assert "古镛镇、万安镇 · 劳动和社会保障" in card  # the stream: the matter spans two townships
    assert "同一事项多人反映" in card  # the method's label, in the evidence table
    observed = re.search(r'class="observed">([^<]+)<', card)
    threshold = re.search(r'class="threshold">([^<]+)<', card)
    assert observed and observed.group(1) == "5" and threshold and threshold.group(1) == "5"
    for pid in ids:
        assert f'href="/petitions/{pid}"' in card
    assert "黄色预警" in html and "集体访" in html
    # the alert's own page (the link push messages carry): all petitions and the trail
    detail = client.get(f"/alerts/{alert_id}")
    assert detail.status_code == 200 and "处理记录" in detail.text and "发出预警" in detail.text
    # filters
    assert client.get("/alerts?tier=yellow").text.count('class="alert-card') == 1
    assert client.get("/alerts?status=resolved").text.count('class="alert-card') == 0


def test_acknowledge_and_resolve_through_the_forms(seeded: Runtime, client: TestClient, login: Login) -> None:
    alert_id, _ = _alerts(seeded)
    token = login("supervisor")
    refused = client.post(f"/alerts/{alert_id}/acknowledge", data={"note": "x"}, follow_redirects=False)
    assert refused.status_code == 403
    r = client.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, "note": "已电话联系万安镇", "back": "/alerts?tier=red"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/alerts?tier=red&done=acknowledge")
    r = client.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "只有未处理的预警可以签收" in r.text  # already acknowledged
    r = client.post(
        f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "note": " "}, follow_redirects=False
    )
    assert r.status_code == 400 and "处置预警需填写处置情况" in r.text
    r = client.post(
        f"/alerts/{alert_id}/resolve",
        data={"csrf_token": token, "note": "已督促用人单位支付工资", "back": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/alerts/{alert_id}?done=resolve")
    page = client.get(r.headers["location"])
    assert "预警已处置完毕" in page.text and "已处置" in page.text
    assert "已督促用人单位支付工资" in page.text and "已电话联系万安镇" in page.text  # the trail with notes
    assert f'action="/alerts/{alert_id}/resolve"' not in page.text  # nothing left to do
    with seeded.session() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None and alert.status == "resolved"
        assert [a.action for a in alert.actions][-2:] == ["acknowledged", "resolved"]
        assert alert.actions[-1].actor_name == "supervisor"


def test_only_the_roles_of_the_api_see_the_page(seeded: Runtime, client: TestClient, login: Login) -> None:
    alert_id, _ = _alerts(seeded)
    for username in ("clerk", "handler_rsj", "township_wa"):
        login(username)
        assert client.get("/alerts").status_code == 403
        assert client.get(f"/alerts/{alert_id}").status_code == 403
        assert 'href="/alerts"' not in client.get("/petitions").text
    login("admin")
    assert client.get(f"/alerts/{alert_id}").status_code == 200


def test_contributing_petitions_are_links_only_where_the_reader_may_see_them(
    seeded: Runtime, client: TestClient, login: Login
) -> None:
    """A township's leader reads alerts but sees only the petitions of the township: the other township's
    contributing petition is counted, not linked."""
    alert_id, ids = _alerts(seeded)
    with seeded.session() as s:
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == WANAN)).scalar_one()
        s.add(
            User(
                username="town_leader",
                display_name="镇领导",
                password_hash=passwords.hash_password("pw-town-leader-1"),
                role=Role.LEADER.value,
                org_unit=unit,
                created_at=T0,
                failed_logins=0,
            )
        )
    login("town_leader")
    page = client.get(f"/alerts/{alert_id}").text
    for pid in ids[:4]:
        assert f'href="/petitions/{pid}"' in page
    assert f'href="/petitions/{ids[4]}"' not in page
    assert "另有 1 件不在您的查看范围内" in page
