"""The explicit authorisation matrix: every API route × every role (and anonymous) × own/other department petition,
against the expectation table in authorization_matrix.yaml (derived from security/permissions.py).

test_authorization_matrix.py sweeps for the general properties (anonymous 401 everywhere, no 500, no IDOR); this
one states, route by route, who is allowed, so a change of rule shows up as a diff of the table, and a new route
without an entry fails (nobody adds an unprotected route silently). One seeded world per backend and module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.api.world import World, seed_world, world_runtime
from tests.conftest import PASSWORDS
from tests.conftest import USERS as SEEDED_USERS
from xinfang.cases.enums import Role
from xinfang.config import Settings
from xinfang.security.permissions import PERMISSIONS
from xinfang.web.app import create_app

TABLE = yaml.safe_load((Path(__file__).with_name("authorization_matrix.yaml")).read_text(encoding="utf-8"))
USERS: dict[str, str] = TABLE["users"]
ROLES = (*USERS, "anonymous")
# A 404 with one of these codes on an object that exists is the "not yours" answer (ids are not confirmed).
HIDING_CODES = {
    "petition.not_found",
    "prevention.not_found",
    "attachment.not_found",
    "document.not_found",
}
ABSENT_ID = "999999"


def api_routes(app: FastAPI) -> set[str]:
    """Every API operation the app serves, from its routes (include_in_schema or not): "METHOD /path"."""
    found = set()
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not (context.path or "").startswith("/api/"):
            continue
        found |= {f"{m} {context.path}" for m in context.methods or () if m != "HEAD"}
    return found


def expected_allowed(entry: dict[str, Any], role: str, petition: str | None) -> bool:
    if entry.get("public"):
        return True
    if role == "anonymous":
        return False
    if "allow" in entry:
        allow = entry["allow"]
        return role in (allow[petition] if isinstance(allow, dict) else allow)
    names = entry["permission"]
    names = [names] if isinstance(names, str) else names
    ok = all(name == "any" or Role(USERS[role]) in PERMISSIONS[name] for name in names)
    if entry.get("scope") == "petition":
        ok = ok and petition in TABLE["visibility"]["petition"][role]
    if entry.get("scope") == "ledger":
        ok = ok and role in TABLE["visibility"]["ledger"]
    return ok


def _petitions_for(path: str, entry: dict[str, Any]) -> list[str | None]:
    if "{petition_id}" in path:
        return ["rsj", "zjj"]
    if entry.get("scope") == "petition":
        return [entry["petition"]]
    return [None]


def test_every_api_route_has_an_entry_and_every_entry_a_route() -> None:
    served = api_routes(create_app(Settings()))
    listed = set(TABLE["routes"])
    assert len(served) > 80
    assert sorted(served - listed) == [], "new API routes: add them to tests/api/authorization_matrix.yaml"
    assert sorted(listed - served) == [], "stale entries in tests/api/authorization_matrix.yaml"


def test_entries_use_real_permissions_and_known_users() -> None:
    for route, entry in TABLE["routes"].items():
        assert {"public", "permission", "allow"} & set(entry), route
        names = entry.get("permission", [])
        for name in [names] if isinstance(names, str) else names:
            assert name == "any" or name in PERMISSIONS, (route, name)
        allow = entry.get("allow", [])
        for users in allow.values() if isinstance(allow, dict) else [allow]:
            assert set(users) <= set(ROLES), route
    assert set(TABLE["visibility"]["petition"]) == set(USERS)
    assert {(u, r.value) for u, _p, r, _c in SEEDED_USERS} == set(USERS.items())


@dataclass
class Outcome:
    route: str
    petition: str | None
    role: str
    status: int
    code: str
    expected: bool

    @property
    def refused(self) -> bool:
        return self.status in (401, 403) or (self.status == 404 and self.code in HIDING_CODES)

    def __str__(self) -> str:
        where = f" [{self.petition}]" if self.petition else ""
        want = "allowed" if self.expected else "refused"
        return f"{self.route}{where} as {self.role}: {self.status} {self.code} (expected {want})"


def _fill(path: str, world: World, petition: str | None) -> str:
    values = {
        "petition_id": str(world.petition(petition)) if petition else ABSENT_ID,
        "petitioner_id": str(world.petitioner_rsj),
        "attachment_id": str(world.attachment_rsj),
        "document_id": str(world.document_rsj),
        "entry_id": str(world.ledger_entry),
        "project_id": str(world.risk_project),
        **TABLE["path_values"],
    }
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), ABSENT_ID), path)


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _error_code(response: Any) -> str:
    if "json" not in response.headers.get("content-type", ""):
        return ""
    body = response.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail.get("code", "")) if isinstance(detail, dict) else ""


def _sweep(client: TestClient, world: World, tokens: dict[str, dict[str, str]]) -> list[Outcome]:
    outcomes = []
    # logout last: it ends each role's session
    for route, entry in sorted(
        TABLE["routes"].items(), key=lambda item: (item[0].endswith("/logout"), item[0])
    ):
        method, path = route.split(" ", 1)
        for petition in _petitions_for(path, entry):
            url = _fill(path, world, petition)
            for role in ROLES:
                headers = {} if role == "anonymous" else tokens[role]
                if "files" in entry:
                    files = {k: (n, c.encode(), t) for k, (n, c, t) in entry["files"].items()}
                    r = client.request(method, url, files=files, headers=headers)
                else:
                    r = client.request(method, url, json=entry.get("body", {}), headers=headers)
                code = _error_code(r)
                outcomes.append(
                    Outcome(
                        route, petition, role, r.status_code, code, expected_allowed(entry, role, petition)
                    )
                )
    return outcomes


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[list[Outcome]]:
    workdir = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with (
        world_runtime(request.param, workdir, sqlite_template) as rt,
        TestClient(create_app(rt.settings, runtime=rt)) as client,
    ):
        tokens = {user: _login(client, user, PASSWORDS[user]) for user in USERS}
        world = seed_world(client, tokens.__getitem__)
        target = {
            "username": TABLE["path_values"]["username"],
            "password": "Matrix-Pass-2025!",
            "role": "leader",
        }
        assert client.post("/api/admin/users", json=target, headers=tokens["admin"]).status_code == 201
        yield _sweep(client, world, tokens)


def test_every_route_role_and_petition_is_allowed_or_refused_as_the_table_says(
    outcomes: list[Outcome],
) -> None:
    assert len(outcomes) > 900
    wrong = [str(o) for o in outcomes if o.refused == o.expected and o.status < 500]
    assert not wrong, "\n".join(wrong)


def test_no_route_answers_5xx_to_any_role(outcomes: list[Outcome]) -> None:
    assert [str(o) for o in outcomes if o.status >= 500] == []


def test_the_table_refuses_and_allows_somewhere_on_every_private_route(outcomes: list[Outcome]) -> None:
    """A table that allowed everyone everywhere would pass the comparison; every private route must refuse
    anonymous callers, and the sweep must have seen both answers for the petition-scoped ones."""
    private = {o.route for o in outcomes if not TABLE["routes"][o.route].get("public")}
    for route in private:
        seen = [o for o in outcomes if o.route == route]
        assert any(o.refused for o in seen if o.role == "anonymous"), route
        assert any(not o.refused for o in seen), route
