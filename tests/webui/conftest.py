"""The API fixtures of tests/api (in-process client, log-in headers), plus a cookie log-in that reads the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest as api_fixtures
from tests.conftest import PASSWORDS

client = api_fixtures.client
auth = api_fixtures.auth


@pytest.fixture
def login(client: TestClient) -> Callable[[str], str]:
    """login("clerk") signs the client in with the session cookie and returns the page's CSRF token."""

    def sign_in(username: str) -> str:
        client.cookies.clear()
        r = client.post(
            "/login", data={"username": username, "password": PASSWORDS[username]}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        page = client.get("/petitions")
        m = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
        assert m, "no CSRF meta tag"
        return m.group(1)

    return sign_in


@pytest.fixture(autouse=True)
def real_dispatch(seeded: object) -> None:
    """The desk shows the real engine's analysis (the shipped model and rules, loaded once per process)."""
    seeded.settings.dispatch_enabled = True  # type: ignore[attr-defined]
