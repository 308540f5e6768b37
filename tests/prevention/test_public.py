"""Citizen self-service: online submission (throttled, no personal data echoed), query, review within the window."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import fake_id_number
from tests.prevention.conftest import REPLY, Auth, accepted, act
from xinfang.clock import FixedClock

FORM = {
    "name": "周公民",
    "address": "将乐县万安镇丰岗村8号",
    "request": "请求修复村口被冲毁的便桥",
    "facts": "今年汛期村口便桥被洪水冲毁,村民出行只能绕行五公里。",
    "reasons": "便桥是村民出行的唯一通道,影响学生上学。",
    "township": "350428101",
    "consent": "yes",
}


def _submit(client: TestClient, **overrides: Any) -> Any:
    client.cookies.clear()
    return client.post("/public/submit", data=FORM | overrides)


def _created(r: Any) -> tuple[str, str]:
    number = re.search(r"XF\d{15}", r.text)
    code = re.search(r'class="code">([2-9A-HJ-NP-Z]{10})<', r.text)
    assert number and code, r.text
    return number.group(), code.group(1)


def test_a_citizen_submits_and_gets_number_and_code_once(client: TestClient, auth: Auth) -> None:
    phone, id_number = "13905980001", fake_id_number(seed=9)
    r = _submit(client, phone=phone, id_number=id_number)
    assert r.status_code == 200
    number, code = _created(r)
    assert (
        "周公民" in r.text and phone not in r.text and id_number not in r.text and "丰岗村8号" not in r.text
    )
    items = client.get(f"/api/petitions?q={number}", headers=auth("clerk")).json()["items"]
    assert len(items) == 1 and items[0]["channel"] == "online"
    detail = client.get(f"/api/petitions/{items[0]['id']}", headers=auth("clerk")).json()
    assert detail["source"] == "public" and detail["petitioners"][0]["phone"] != phone  # masked
    assert detail["division_code"] == "350428101" and "诉求:请求修复" in detail["body"]
    client.cookies.clear()
    q = client.post("/public/query", data={"number": number, "code": code})
    assert q.status_code == 200 and "请求修复村口" in q.text


def test_required_fields_and_consent_are_enforced(client: TestClient) -> None:
    assert _submit(client, facts="").status_code == 422
    r = _submit(client, consent="")
    assert r.status_code == 422 and "同意" in r.text
    assert _submit(client, id_number="123").status_code == 422


def test_submissions_are_throttled_per_address(client: TestClient) -> None:
    for _ in range(5):
        assert _submit(client).status_code == 200
    r = _submit(client)
    assert r.status_code == 429 and "分钟后再试" in r.text and "XF" not in r.text


def test_a_wrong_code_reveals_nothing_and_guessing_is_throttled(client: TestClient) -> None:
    number, code = _created(_submit(client))
    wrong = client.post("/public/query", data={"number": number, "code": "AAAAAAAAAA"})
    assert wrong.status_code == 404 and "便桥" not in wrong.text
    review = client.post("/public/review", data={"number": number, "code": "AAAAAAAAAA", "reason": "x"})
    assert review.status_code == 404 and "便桥" not in review.text
    for i in range(3):
        client.post("/public/query", data={"number": number, "code": f"GUESS{i}XXXX"})
    r = client.post("/public/query", data={"number": number, "code": code})
    assert r.status_code == 429


def test_review_can_be_requested_only_within_the_window(
    client: TestClient, auth: Auth, clock: FixedClock
) -> None:
    number, code = _created(_submit(client))
    pid = client.get(f"/api/petitions?q={number}", headers=auth("clerk")).json()["items"][0]["id"]
    accepted(client, auth, pid)
    assert act(client, auth, "handler_rsj", pid, "reply", **REPLY).status_code == 200
    client.cookies.clear()
    page = client.post("/public/query", data={"number": number, "code": code})
    assert "请求复查" in page.text
    clock.advance(days=40)  # past the 30-day window
    late = client.post("/public/query", data={"number": number, "code": code})
    assert "提交复查请求" not in late.text
    refused = client.post("/public/review", data={"number": number, "code": code, "reason": "不服"})
    assert refused.status_code == 409


def test_review_request_within_the_window_is_taken(client: TestClient, auth: Auth) -> None:
    number, code = _created(_submit(client))
    pid = client.get(f"/api/petitions?q={number}", headers=auth("clerk")).json()["items"][0]["id"]
    accepted(client, auth, pid)
    assert act(client, auth, "handler_rsj", pid, "reply", **REPLY).status_code == 200
    client.cookies.clear()
    r = client.post("/public/review", data={"number": number, "code": code, "reason": "事实认定有误"})
    assert r.status_code == 200 and "复查请求已提交" in r.text
    assert client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()["status"] == "review_requested"


def test_public_pages_are_mobile_ready(client: TestClient) -> None:
    page = client.get("/public/submit")
    assert page.status_code == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert "/static/prevention.css" in page.text
    css = client.get("/static/prevention.css").text
    assert "@media (max-width: 640px)" in css and ".pv-form" in css
