"""Security headers on every response, request ids, and the Prometheus metrics endpoint."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]


def test_every_response_carries_the_security_headers(client: TestClient, auth: Auth) -> None:
    for r in (client.get("/api/health"), client.get("/login"), client.get("/api/petitions")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-request-id"]
    assert client.get("/api/health", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"


def test_metrics_count_requests_by_route_not_by_raw_path(client: TestClient, auth: Auth) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    client.get(f"/api/petitions/{pid}", headers=auth("clerk"))
    client.get("/api/petitions", params={"q": "张测试"}, headers=auth("clerk"))
    text = client.get("/api/metrics").text
    assert 'route="/api/petitions/{petition_id}",status="200"' in text
    assert "xinfang_petitions_total 1" in text
    assert "张测试" not in text and f'/api/petitions/{pid}"' not in text
