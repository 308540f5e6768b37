"""Authorisation, proven over every API route: anonymous callers are refused everywhere except the few public
routes, no route answers 500 to any role, and a petition of another department is invisible through every
petition-scoped route (no IDOR)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]
# Routes that are public by design: health/metrics for monitoring, login, and signed platform callbacks.
PUBLIC = re.compile(r"^/api/(health|metrics|auth/token|referrals/callback/.*)$")
ROLES = ("clerk", "handler_rsj", "handler_zjj", "township_wa", "reviewer", "supervisor", "leader", "admin")


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every documented API operation (from the OpenAPI schema: what the app itself says it serves)."""
    from xinfang.config import Settings
    from xinfang.web.app import create_app

    paths = create_app(Settings()).openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/api")
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


def _fill(path: str, petition_id: int) -> str:
    path = path.replace("{petition_id}", str(petition_id))
    return re.sub(r"\{[^}]+\}", "1", path)


def test_anonymous_callers_are_refused_on_every_private_route(client: TestClient) -> None:
    routes = _api_routes(client)
    assert len(routes) > 40
    allowed = []
    for method, path in routes:
        if PUBLIC.match(path):
            continue
        r = client.request(method, _fill(path, 1), json={})
        if r.status_code != 401:
            allowed.append((method, path, r.status_code))
    assert allowed == []


@pytest.mark.parametrize("who", ROLES)
def test_no_route_answers_500_to_any_role(client: TestClient, auth: Auth, who: str) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    failures = []
    for method, path in _api_routes(client):
        if path.endswith("/logout"):
            continue
        r = client.request(method, _fill(path, pid), json={}, headers=auth(who))
        if r.status_code >= 500:
            failures.append((method, path, r.status_code))
    assert failures == []


def test_another_departments_petition_is_invisible_through_every_petition_route(
    client: TestClient, auth: Auth
) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    assert (
        client.post(
            f"/api/petitions/{pid}/actions/forward", json={"department": "rsj"}, headers=auth("clerk")
        ).status_code
        == 200
    )
    leaks = []
    for method, path in _api_routes(client):
        if "{petition_id}" not in path:
            continue
        r = client.request(method, _fill(path, pid), json={}, headers=auth("handler_zjj"))
        if r.status_code not in (403, 404, 422):
            leaks.append((method, path, r.status_code))
    assert leaks == []
    assert client.get(f"/api/petitions/{pid}", headers=auth("handler_rsj")).status_code == 200
