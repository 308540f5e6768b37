"""Health and login."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_answers_without_login(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_it_issues_a_bearer_token_for_a_right_password(client: TestClient) -> None:
    r = client.post("/api/auth/token", data={"username": "clerk", "password": "test-clerk-1"})
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer" and len(r.json()["access_token"]) > 30
    me = client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["role"] == "registrar"


def test_it_refuses_a_wrong_password_and_an_unknown_user(client: TestClient) -> None:
    assert (
        client.post("/api/auth/token", data={"username": "clerk", "password": "nope-nope"}).status_code == 401
    )
    assert (
        client.post("/api/auth/token", data={"username": "ghost", "password": "nope-nope"}).status_code == 401
    )


def test_it_locks_an_account_after_repeated_failures(client: TestClient) -> None:
    for _ in range(5):
        client.post("/api/auth/token", data={"username": "clerk", "password": "wrong-guess"})
    r = client.post("/api/auth/token", data={"username": "clerk", "password": "test-clerk-1"})
    assert r.status_code == 423


def test_logout_revokes_the_token(client: TestClient) -> None:
    token = client.post("/api/auth/token", data={"username": "clerk", "password": "test-clerk-1"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401


def test_a_garbage_token_is_refused(client: TestClient) -> None:
    assert client.get("/api/me", headers={"Authorization": "Bearer ü".encode("latin-1")}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer x"}).status_code == 401
