"""The responsibility list and keyword library in the database: versions, validation, try-out, effect on intake."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import petition_payload
from xinfang.dispatch.service import with_keyword
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry
from xinfang.web.app import create_app

Auth = Callable[[str], dict[str, str]]
BIKES_TITLE = "共享单车乱停放"
BIKES_BODY = "县城步行街两侧的共享单车长期乱停乱放,堵塞人行道,老人小孩出行很不方便,希望有关部门管一管。"


def _active_content(client: TestClient, auth: Auth) -> dict[str, Any]:
    r = client.get("/api/routing/rules", headers=auth("clerk"))
    assert r.status_code == 200, r.text
    return r.json()["active"]["content"]  # type: ignore[no-any-return]


def test_without_a_saved_version_the_shipped_file_is_active(client: TestClient, auth: Auth) -> None:
    body = client.get("/api/routing/rules", headers=auth("leader")).json()
    assert body["active"]["source"] == "file" and body["versions"] == []
    assert any(d["code"] == "rsj" for d in body["active"]["content"]["departments"])


def test_an_admin_saves_a_version_and_it_round_trips(client: TestClient, auth: Auth, seeded: Runtime) -> None:
    content = with_keyword(_active_content(client, auth), term="共享单车", department="cgj", weight=2.5)
    r = client.put(
        "/api/routing/rules", json={"content": content, "comment": "加共享单车"}, headers=auth("admin")
    )
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 1 and r.json()["is_active"]

    body = client.get("/api/routing/rules", headers=auth("clerk")).json()
    assert body["active"]["source"] == "database" and body["active"]["number"] == 1
    assert body["active"]["content"] == content
    assert [(v["number"], v["comment"], v["created_by"]) for v in body["versions"]] == [
        (1, "加共享单车", "admin")
    ]
    with seeded.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "routing.rules_save")).scalar_one()
        assert entry.object_id == "1" and entry.details["previous"] is None


def test_yaml_text_is_accepted_and_a_second_save_supersedes_the_first(client: TestClient, auth: Auth) -> None:
    import yaml

    text = yaml.safe_dump(_active_content(client, auth), allow_unicode=True)
    for comment in ("一", "二"):
        r = client.put(
            "/api/routing/rules", json={"content": text, "comment": comment}, headers=auth("admin")
        )
        assert r.status_code == 200, r.text
    versions = client.get("/api/routing/rules", headers=auth("admin")).json()["versions"]
    assert [(v["number"], v["is_active"]) for v in versions] == [(2, True), (1, False)]


def test_an_unknown_department_is_refused_naming_it(client: TestClient, auth: Auth) -> None:
    content = _active_content(client, auth)
    content["departments"].append({"code": "nosuchbureau", "keywords": ["某词"]})
    r = client.put("/api/routing/rules", json={"content": content}, headers=auth("admin"))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["code"] == "routing.unknown_department" and "nosuchbureau" in detail["message"]
    assert client.get("/api/routing/rules", headers=auth("admin")).json()["versions"] == []


def test_a_conflicting_rule_is_refused(client: TestClient, auth: Auth) -> None:
    content = _active_content(client, auth)
    rsj = next(d for d in content["departments"] if d["code"] == "rsj")
    jyj = next(d for d in content["departments"] if d["code"] == "jyj")
    jyj["priority"] = rsj["priority"]
    jyj["keywords"].append(copy.deepcopy(rsj["keywords"][0]))  # same term, same weight, same priority
    r = client.put("/api/routing/rules", json={"content": content}, headers=auth("admin"))
    assert r.status_code == 422
    assert r.json()["detail"]["code"] == "routing.rules_conflict"


def test_an_empty_rule_and_broken_yaml_are_refused(client: TestClient, auth: Auth) -> None:
    content = _active_content(client, auth)
    content["departments"][0]["keywords"] = []
    r = client.put("/api/routing/rules", json={"content": content}, headers=auth("admin"))
    assert r.status_code == 422 and "空规则" in r.json()["detail"]["message"]
    r = client.put("/api/routing/rules", json={"content": "departments: [\n"}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "routing.rules_yaml"


def test_only_an_admin_may_edit_the_rules(client: TestClient, auth: Auth) -> None:
    content = _active_content(client, auth)
    for user in ("clerk", "supervisor", "leader"):
        r = client.put("/api/routing/rules", json={"content": content}, headers=auth(user))
        assert r.status_code == 403, user


def test_saving_over_a_stale_copy_conflicts(client: TestClient, auth: Auth) -> None:
    content = _active_content(client, auth)
    assert (
        client.put(
            "/api/routing/rules", json={"content": content, "base_version": 0}, headers=auth("admin")
        ).status_code
        == 200
    )
    r = client.put("/api/routing/rules", json={"content": content, "base_version": 0}, headers=auth("admin"))
    assert r.status_code == 409 and r.json()["detail"]["code"] == "routing.rules_stale"


def test_a_rules_edit_changes_the_routing_of_the_next_petition(seeded: Runtime) -> None:
    seeded.settings.dispatch_enabled = True
    client = TestClient(create_app(seeded.settings, runtime=seeded))
    token = client.post("/api/auth/token", data={"username": "admin", "password": "test-admin-1"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def top_department(title: str) -> str:
        r = client.post(
            "/api/petitions", json=petition_payload(title=title, body=BIKES_BODY), headers=headers
        )
        assert r.status_code == 201, r.text
        return r.json()["analysis"]["departments"][0]["code"]  # type: ignore[no-any-return]

    assert top_department(BIKES_TITLE) != "jyj"
    content = with_keyword(
        client.get("/api/routing/rules", headers=headers).json()["active"]["content"],
        term="共享单车",
        department="jyj",
        weight=8,
    )
    assert client.put("/api/routing/rules", json={"content": content}, headers=headers).status_code == 200
    assert top_department(BIKES_TITLE + "(再次反映)") == "jyj"


def test_a_draft_is_tried_without_being_saved(seeded: Runtime, client: TestClient, auth: Auth) -> None:
    draft = with_keyword(_active_content(client, auth), term="共享单车", department="jyj", weight=8)
    text = {"title": BIKES_TITLE, "body": BIKES_BODY}
    tried = client.post(
        "/api/routing/rules/test", json=text | {"content": draft}, headers=auth("clerk")
    ).json()
    assert tried["draft"] and tried["departments"][0]["code"] == "jyj"
    active = client.post("/api/routing/rules/test", json=text, headers=auth("clerk")).json()
    assert not active["draft"] and active["departments"][0]["code"] != "jyj"
    assert client.get("/api/routing/rules", headers=auth("admin")).json()["versions"] == []
    bad = client.post(
        "/api/routing/rules/test", json=text | {"content": {"departments": []}}, headers=auth("clerk")
    )
    assert bad.status_code == 422
