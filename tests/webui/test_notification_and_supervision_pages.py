"""The 消息 page and header badge, and 回复督办 on the case page (SQLite and PostgreSQL through db_url)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import petition_payload
from xinfang.cases.models import Notification
from xinfang.org.models import User
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
Login = Callable[[str], str]


def _supervised(client: TestClient, auth: Auth, instruction: str = "请报告工资支付落实情况。") -> int:
    r = client.post(
        "/api/desk/register",
        json={"petition": petition_payload(), "decision": "dispatch", "department": "rsj"},
        headers=auth("clerk"),
    )
    assert r.status_code == 201, r.text
    pid = int(r.json()["id"])
    for who, action, payload in (
        ("handler_rsj", "accept", {}),
        ("supervisor", "supervise", {"instruction": instruction, "level": "黄牌"}),
    ):
        r = client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))
        assert r.status_code == 200, r.text
    return pid


def _badge(html: str) -> int:
    m = re.search(r'<span class="unread" id="unread-count"[^>]*>(\d+)</span>', html)
    return int(m.group(1)) if m else 0


def test_the_handler_answers_a_supervision_on_the_case_page(
    client: TestClient, auth: Auth, login: Login
) -> None:
    pid = _supervised(client, auth)
    login("supervisor")
    page = client.get(f"/petitions/{pid}").text
    assert "请报告工资支付落实情况" in page and "待被督办单位回复" in page and "回复督办" not in page
    assert f'href="/petitions/{pid}"' in client.get("/inbox?box=supervised").text

    token = login("handler_rsj")
    page = client.get(f"/petitions/{pid}").text
    sid = re.search(r'action="/petitions/\d+/supervisions/(\d+)/response"', page)
    assert sid, "no answer form for the supervised unit"
    url = f"/petitions/{pid}/supervisions/{sid.group(1)}/response"
    empty = client.post(url, data={"csrf_token": token, "response": " "})
    assert empty.status_code == 422 and 'role="alert"' in empty.text and "回复内容" in empty.text
    assert client.post(url, data={"response": "无令牌"}, follow_redirects=False).status_code == 403
    r = client.post(
        url,
        data={"csrf_token": token, "response": "已约谈施工方,工资本周内支付。", "attach_progress": "on"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=supervision_response" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert (
        "督办已回复" in page
        and "已约谈施工方,工资本周内支付。" in page
        and "办理进展:当前状态:办理中" in page
    )
    assert 'action="/petitions/' + str(pid) + "/supervisions/" not in page  # answered: no form any more
    assert f'href="/petitions/{pid}"' not in client.get("/inbox?box=supervised").text

    login("supervisor")
    assert f'href="/petitions/{pid}"' not in client.get("/inbox?box=supervised").text
    messages = client.get("/notifications").text
    assert "督办回复" in messages and f'href="/petitions/{pid}"' in messages

    other = login("handler_zjj")
    refused = client.post(url, data={"csrf_token": other, "response": "越权"}, follow_redirects=False)
    assert refused.status_code == 404


def test_the_messages_page_lists_links_and_marks_read(
    client: TestClient, auth: Auth, login: Login, seeded: Runtime
) -> None:
    first = _supervised(client, auth)
    second = _supervised(client, auth, "请尽快答复信访人。")
    with (
        seeded.session() as session
    ):  # a red alert in-app message for the leader, as alerts.channels writes it
        leader = session.execute(select(User).where(User.username == "leader")).scalar_one()
        session.add(
            Notification(
                user_id=leader.id,
                kind="alert_red",
                message="【红色预警】万安镇·劳动和社会保障信访量异常",
                dedup_key=f"alert:7:red:u{leader.id}",
                created_at=datetime.fromisoformat("2026-03-02T09:00:00+08:00"),
            )
        )

    token = login("handler_rsj")
    inbox = client.get("/inbox").text
    assert 'href="/notifications"' in inbox and _badge(inbox) == 2  # two 督办 notices to the unit
    page = client.get("/notifications").text
    assert page.count('class="notification unread"') == 2 and "黄牌督办" in page
    assert f'href="/petitions/{first}"' in page and f'href="/petitions/{second}"' in page
    ids = re.findall(r'action="/notifications/(\d+)/read"', page)
    assert len(ids) == 2
    r = client.post(f"/notifications/{ids[0]}/read", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert _badge(client.get("/notifications").text) == 1
    everything = client.get("/notifications?show=all").text
    assert (
        everything.count('class="notification unread"') == 1 and everything.count('class="notification"') == 1
    )
    r = client.post("/notifications/read-all", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "marked=1" in r.headers["location"]
    page = client.get("/notifications").text
    assert _badge(page) == 0 and "没有未读消息" in page
    assert client.get("/api/notifications", headers=auth("handler_rsj")).json() == []
    assert len(client.get("/api/notifications?unread=false", headers=auth("handler_rsj")).json()) == 2

    # someone else's message: not found, and the leader's alert links to the alert page
    other = login("handler_zjj")
    assert client.post(f"/notifications/{ids[0]}/read", data={"csrf_token": other}).status_code == 404
    assert client.post(f"/api/notifications/{ids[0]}/read", headers=auth("handler_zjj")).status_code == 404
    login("leader")
    page = client.get("/notifications").text
    assert "红色预警" in page and 'href="/alerts/7"' in page and _badge(page) == 1
    marked = client.post("/api/notifications/read-all", headers=auth("leader")).json()
    assert marked == {"marked": 1}
    assert _badge(client.get("/dashboard").text) == 0
