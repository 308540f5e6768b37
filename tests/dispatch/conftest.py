"""Helpers for the dispatch tests: a fake analyser with chosen suggestions, and registering through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest as api_fixtures
from tests.factories import petition_payload

Post = Callable[..., dict[str, Any]]

# The API fixtures of tests/api (an in-process client, log-in headers), shared rather than copied.
client = api_fixtures.client
auth = api_fixtures.auth


def fake_analysis(
    departments: list[tuple[str, float]], *, category: str = "城乡建设", auto: bool = False
) -> dict[str, Any]:
    """The shape DispatchPipeline.analyse returns, reduced to what the dispatch slice reads."""
    return {
        "category": {
            "label": category,
            "probabilities": {category: 0.6, "劳动和社会保障": 0.3, "教育文体": 0.1},
        },
        "departments": [
            {"code": c, "name": c, "confidence": conf, "reasons": [f"理由{c}"]} for c, conf in departments
        ],
        "auto_dispatch": auto,
        "auto_dispatch_reason": "置信度不足",
    }


class FakeAnalyser:
    """Returns a fixed analysis, below the auto-dispatch threshold: every petition waits for review."""

    def __init__(self, analysis: dict[str, Any]) -> None:
        self.analysis = analysis

    def __call__(self, title: str, body: str, *, reference_date: Any = None) -> dict[str, Any]:
        return self.analysis


@pytest.fixture
def post_petition(client: TestClient, auth: Callable[[str], dict[str, str]]) -> Post:
    """post_petition(title=..., body=..., id_number=..., ...) -> the created petition (as the clerk)."""

    def post(user: str = "clerk", **kwargs: Any) -> dict[str, Any]:
        r = client.post("/api/petitions", json=petition_payload(**kwargs), headers=auth(user))
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    return post
