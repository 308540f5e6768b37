"""Fixtures of the TOTP flow tests: the in-process client of tests/api, and helpers that read codes like a phone app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest as api_fixtures
from tests.conftest import PASSWORDS
from xinfang.clock import FixedClock
from xinfang.security import totp

client = api_fixtures.client
auth = api_fixtures.auth


@pytest.fixture
def code_now(clock: FixedClock) -> Callable[..., str]:
    """code_now(secret, offset=0): what the authenticator app shows at the test clock's time (± steps)."""

    def code(secret: str, offset: int = 0) -> str:
        return totp.code_at(secret, totp.step_of(clock.now()) + offset)

    return code


@pytest.fixture
def password_token(client: TestClient) -> Callable[..., object]:
    """password_token("clerk", totp=None) -> the raw response of POST /api/auth/token."""

    def post(username: str, code: str | None = None, password: str | None = None) -> object:
        data = {"username": username, "password": password or PASSWORDS[username]}
        if code is not None:
            data["totp"] = code
        return client.post("/api/auth/token", data=data)

    return post
