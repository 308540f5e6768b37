"""Helpers for the prevention tests: the API fixtures, registering petitions and ledger entries, stepping a petition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest as api_fixtures
from tests.factories import petition_payload

client = api_fixtures.client
auth = api_fixtures.auth

Auth = Callable[[str], dict[str, str]]
VILLAGE = "350428101201"  # a village of 万安镇 (the township_wa user's township)
OTHER_VILLAGE = "350428101202"
OTHER_TOWNSHIP_VILLAGE = "350428100201"  # 古镛镇银溪村
REPLY = {"outcome": "支持", "facts": "经查属实。", "opinion": "限期解决。", "legal_basis": "有关规定"}
LAND_TEXT = (
    "村民李大山与王小河因承包地边界界桩被移动发生争执,双方多次争吵,李大山要求恢复原界桩并赔偿青苗损失。"
)


def entry_payload(**overrides: Any) -> dict[str, Any]:
    base = {
        "title": "承包地边界界桩纠纷",
        "summary": LAND_TEXT,
        "kind": "土地山林",
        "risk_level": "中",
        "parties": ["李大山", "王小河"],
        "division_code": VILLAGE,
        "responsible_person": "陈调解",
        "screened_on": "2026-02-10",
        "due_on": "2026-02-25",
    }
    return base | overrides


@pytest.fixture
def add_entry(client: TestClient, auth: Auth) -> Callable[..., dict[str, Any]]:
    def add(user: str = "township_wa", **overrides: Any) -> dict[str, Any]:
        r = client.post("/api/prevention/ledger", json=entry_payload(**overrides), headers=auth(user))
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    return add


@pytest.fixture
def new_petition(
    client: TestClient, auth: Auth, run_jobs: Callable[[], int]
) -> Callable[..., dict[str, Any]]:
    """A petition registered through the API, and the worker's enrichment (the ledger link) run after it."""

    def new(name: str = "张测试", division_code: str | None = None, **kw: Any) -> dict[str, Any]:
        payload = petition_payload(**kw)
        payload["petitioners"][0]["name"] = name
        if division_code:
            payload["location"] = {"division_code": division_code}
        r = client.post("/api/petitions", json=payload, headers=auth("clerk"))
        assert r.status_code == 201, r.text
        run_jobs()
        return r.json()  # type: ignore[no-any-return]

    return new


def act(client: TestClient, auth: Auth, who: str, pid: int, action: str, **payload: Any) -> Any:
    return client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(who))


def accepted(client: TestClient, auth: Auth, pid: int, department: str = "rsj") -> None:
    assert act(client, auth, "clerk", pid, "forward", department=department).status_code == 200
    who = {"rsj": "handler_rsj", "zjj": "handler_zjj"}[department]
    assert act(client, auth, who, pid, "accept").status_code == 200
