"""Fixtures of the alerts tests: the API client (shared with tests/api) and helpers that write petitions fast."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from sqlalchemy.orm import Session

from tests.api import conftest as api_fixtures
from xinfang.cases.models import Petition, Petitioner
from xinfang.clock import CHINA_TZ
from xinfang.dispatch.models import PetitionLink

client = api_fixtures.client
auth = api_fixtures.auth

_seq = count(1)


def add_petition(
    session: Session,
    *,
    day: date,
    township: str = "350428101",
    category: str | None = "劳动和社会保障",
    channel: str = "hotline",
    headcount: int | None = None,
    petitioners: list[str] | None = None,
    analysis: dict | None = None,
    hour: int = 10,
) -> Petition:
    """A petition row as intake would leave it (no text analysis), received at `hour` o'clock China time.
    Petitioners are given by blind-index-like keys; their names are synthetic."""
    n = next(_seq)
    at = datetime.combine(day, time(hour, n % 60), CHINA_TZ).astimezone(UTC)
    p = Petition(
        channel=channel,
        status="registered",
        title="合成测试件",
        body="合成测试内容",
        received_at=at,
        registered_at=at,
        division_code=township,
        township_code=township,
        category=category,
        source="test",
        dedup_key=f"t{n}",
        is_demo=False,
        headcount=headcount,
        analysis=analysis,
    )
    p.petitioners = [
        Petitioner(name=f"测试人{k[-3:]}", id_number_bidx=k, is_representative=False)
        for k in (petitioners or [f"x{n}"])
    ]
    session.add(p)
    session.flush()
    return p


def link(session: Session, later: Petition, earlier: Petition, kind: str = "same_matter") -> None:
    session.add(
        PetitionLink(
            petition_id=later.id,
            earlier_id=earlier.id,
            kind=kind,
            similarity=0.8,
            reasons=[],
            created_at=later.received_at,
        )
    )


def days_back(end: date, n: int) -> list[date]:
    return [end - timedelta(days=i) for i in range(n)][::-1]
