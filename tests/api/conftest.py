"""An in-process HTTP client against create_app, and a helper to log in as any seeded user."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORDS
from xinfang.runtime import Runtime
from xinfang.web.app import create_app


@pytest.fixture
def client(seeded: Runtime) -> Iterator[TestClient]:
    app = create_app(seeded.settings, runtime=seeded)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth(client: TestClient) -> Callable[[str], dict[str, str]]:
    """auth("clerk") -> headers with a bearer token for that user."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            r = client.post("/api/auth/token", data={"username": username, "password": PASSWORDS[username]})
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return cache[username]

    return headers
