"""The petitioner's public query page: number + query code, nothing revealed on a wrong code, guessing throttled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]
REPLY = {"outcome": "支持", "facts": "经查属实。", "opinion": "限期整改。", "legal_basis": "有关规定"}


def _replied(client: TestClient, auth: Auth) -> dict[str, Any]:
    p = client.post("/api/petitions", json=petition_payload(title="路灯不亮"), headers=auth("clerk")).json()
    for who, action, payload in (
        ("clerk", "forward", {"department": "rsj"}),
        ("handler_rsj", "accept", {}),
        ("handler_rsj", "reply", REPLY),
    ):
        assert (
            client.post(
                f"/api/petitions/{p['id']}/actions/{action}", json=payload, headers=auth(who)
            ).status_code
            == 200
        )
    return p


def test_the_right_code_shows_progress_and_replies(client: TestClient, auth: Auth) -> None:
    p = _replied(client, auth)
    client.cookies.clear()
    r = client.post("/public/query", data={"number": p["number"], "code": p["query_code"].lower()})
    assert r.status_code == 200
    assert "路灯不亮" in r.text and "处理意见书" in r.text and "县人力资源和社会保障局" in r.text
    assert "张测试" not in r.text  # no personal data on the public page


def test_a_wrong_code_reveals_nothing(client: TestClient, auth: Auth) -> None:
    p = _replied(client, auth)
    wrong = client.post("/public/query", data={"number": p["number"], "code": "WRONGCODE2"})
    unknown = client.post("/public/query", data={"number": "XF000", "code": "WRONGCODE2"})
    assert wrong.status_code == unknown.status_code == 404
    assert "路灯不亮" not in wrong.text
    assert wrong.text.replace(p["number"], "X") == unknown.text.replace("XF000", "X")


def test_guessing_is_throttled(client: TestClient, auth: Auth) -> None:
    p = _replied(client, auth)
    for i in range(5):
        assert (
            client.post("/public/query", data={"number": p["number"], "code": f"GUESS{i}"}).status_code == 404
        )
    r = client.post("/public/query", data={"number": p["number"], "code": p["query_code"]})
    assert r.status_code == 429 and "分钟后再试" in r.text


def test_the_petitioner_evaluates_and_is_told_of_the_review_right(client: TestClient, auth: Auth) -> None:
    p = _replied(client, auth)
    r = client.post(
        "/public/evaluate", data={"number": p["number"], "code": p["query_code"], "evaluation": "不满意"}
    )
    assert r.status_code == 200 and "30日内" in r.text
    staff = client.get(f"/api/petitions/{p['id']}", headers=auth("clerk")).json()
    assert staff["evaluation"] == "不满意" and staff["events"][-1]["kind"] == "evaluate"
    again = client.post(
        "/public/evaluate", data={"number": p["number"], "code": p["query_code"], "evaluation": "满意"}
    )
    assert again.status_code == 200  # a second evaluation is recorded as a change of mind, not refused
    bad = client.post(
        "/public/evaluate", data={"number": p["number"], "code": p["query_code"], "evaluation": "好"}
    )
    assert bad.status_code == 422
