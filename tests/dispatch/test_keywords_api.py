"""Keyword suggestions: recurring recent terms missing from the library; approval writes a rules version."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.dispatch.conftest import Post
from xinfang.dispatch.models import KeywordDecision
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry

Auth = Callable[[str], dict[str, str]]
BODIES = (
    "小区楼下的充电桩长期被燃油车占用,电动汽车无法充电,物业不管。",
    "新建的充电桩一直没有通电,电动汽车车主意见很大,请求尽快接通。",
    "停车场充电桩收费标准不公示,乱收服务费,请求查处。",
    "村口充电桩损坏半年无人维修,希望有关部门督促修复。",
)


def _terms(client: TestClient, auth: Auth) -> list[str]:
    r = client.get("/api/routing/keyword-suggestions?days=30", headers=auth("admin"))
    assert r.status_code == 200, r.text
    return [s["term"] for s in r.json()["items"]]


def _post_all(post_petition: Post) -> None:
    for i, body in enumerate(BODIES):
        post_petition(title=f"充电桩问题{i}", body=body)


def test_a_recurring_missing_term_is_suggested_and_approval_adds_it(
    seeded: Runtime, client: TestClient, auth: Auth, post_petition: Post
) -> None:
    _post_all(post_petition)
    assert "充电桩" in _terms(client, auth)
    r = client.post(
        "/api/routing/keyword-suggestions/decide",
        json={"term": "充电桩", "decision": "approve", "department": "scjgj", "weight": 2},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["rules_version"] == 1
    rules = client.get("/api/routing/rules", headers=auth("admin")).json()["active"]
    scjgj = next(d for d in rules["content"]["departments"] if d["code"] == "scjgj")
    assert {"term": "充电桩", "weight": 2.0} in scjgj["keywords"]
    assert "充电桩" not in _terms(client, auth)


def test_a_rejected_term_is_not_suggested_again(
    seeded: Runtime, client: TestClient, auth: Auth, post_petition: Post
) -> None:
    _post_all(post_petition)
    r = client.post(
        "/api/routing/keyword-suggestions/decide",
        json={"term": "充电桩", "decision": "reject"},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert "充电桩" not in _terms(client, auth)
    assert client.get("/api/routing/rules", headers=auth("admin")).json()["versions"] == []
    with seeded.session() as s:
        row = s.execute(select(KeywordDecision)).scalar_one()
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "routing.keyword_decide")
        ).scalar_one()
        assert row.decision == "reject" and entry.object_id == str(row.id)
        assert "充电桩" not in str(entry.details)  # the term stays in its table, out of the log


def test_keyword_curation_is_for_admins(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/routing/keyword-suggestions", headers=auth("supervisor")).status_code == 403
    r = client.post(
        "/api/routing/keyword-suggestions/decide",
        json={"term": "某词", "decision": "reject"},
        headers=auth("clerk"),
    )
    assert r.status_code == 403


def test_approval_needs_a_known_department(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/routing/keyword-suggestions/decide",
        json={"term": "某词", "decision": "approve", "department": "nosuch"},
        headers=auth("admin"),
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "routing.unknown_department"
