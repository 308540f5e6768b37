"""The API fixtures of tests/api (an in-process client, log-in headers), shared rather than copied."""

from __future__ import annotations

from tests.api import conftest as api_fixtures

client = api_fixtures.client
auth = api_fixtures.auth
