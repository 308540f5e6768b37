"""Helpers for the analytics tests: register petitions with chosen place, time, source and people."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api import conftest as api_fixtures
from tests.conftest import T0
from xinfang.cases.models import Petition
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import register_petition
from xinfang.intake.enrichment import enrich
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

client = api_fixtures.client
auth = api_fixtures.auth

GUYONG = "350428100"
WANAN = "350428101"
WANAN_VILLAGE = "350428101201"


def register(
    session: Any,
    rt: Runtime,
    *,
    title: str,
    body: str,
    division: str | None = WANAN_VILLAGE,
    days_ago: float = 1.0,
    source: str = "desk",
    category: str | None = "城乡建设",
    channel: str = "visit",
    id_number: str | None = None,
    phone: str | None = None,
    headcount: int | None = None,
    representative: bool = False,
    now: datetime = T0,
) -> Petition:
    person: dict[str, Any] = {"name": "张测试", "is_representative": representative}
    if id_number:
        person["id_number"] = id_number
    if phone:
        person["phone"] = phone
    data = PetitionIn(
        channel=channel,
        title=title,
        body=body,
        received_at=now - timedelta(days=days_ago),
        location={"division_code": division} if division else None,
        source=source,
        category=category,
        headcount=headcount,
        petitioners=[person],
    )
    petition, created = register_petition(
        session, actor=SYSTEM, data=data, now=now, ctx=rt.intake_context(session), dedup_by_content=False
    )
    assert created
    enrich(session, petition=petition, now=now)  # what the worker does seconds later: links, hot matter
    return petition


@pytest.fixture
def reg(seeded: Runtime) -> Any:
    """reg(session, title=..., body=..., ...) on the seeded runtime."""

    def call(session: Any, **kwargs: Any) -> Petition:
        return register(session, seeded, **kwargs)

    return call
