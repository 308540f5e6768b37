"""访调诉 in the accountability figures and on the dashboard: per unit (or township) the referrals made in the period
and their outcomes, counted by the same SQL as /api/referrals/stats, in the JSON, the XLSX export and the page."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.analytics.conftest import WANAN
from tests.conftest import T0
from xinfang.analytics.accountability import accountability
from xinfang.cases.models import Petition
from xinfang.dashboard.service import overview
from xinfang.org.models import OrgUnit
from xinfang.referrals.models import Referral
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

Auth = Callable[[str], dict[str, str]]
START, END = date(2026, 2, 20), date(2026, 3, 2)
FIELDS = ("referred", "referral_mediated", "referral_failed", "referral_filed", "referral_returned")


def _refer(
    session: Any,
    petition: Petition,
    *,
    platform: str,
    status: str,
    outcome: str,
    days_ago: float,
    unit_id: int | None = None,
) -> None:
    at = T0 - timedelta(days=days_ago)
    session.add(
        Referral(
            petition=petition,
            platform=platform,
            kind="诉前调解",
            status=status,
            delivery="manual",
            idempotency_key=f"xf-{uuid.uuid4().hex}",
            consent={},
            bundle={},
            outcome=outcome,
            unit_id=unit_id,
            created_at=at,
            updated_at=at,
            paused_clock_ids=[],
        )
    )


def _build(seeded: Runtime, reg: Any) -> None:
    """rsj: mediated, failed, open, and one made before the period; zjj: filed, returned; a petition with no unit
    yet, referred by the bureau (xfj). Every petition lies in 万安镇."""
    with seeded.session() as s:
        units = {u.code: u for u in s.execute(select(OrgUnit)).scalars()}
        cases = [
            ("rsj", "mediation", "mediated", "resolved", 2),
            ("rsj", "mediation", "mediation_failed", "failed", 3),
            ("rsj", "court", "sent", "open", 1),
            ("rsj", "mediation", "mediated", "resolved", 30),  # before the period
            ("zjj", "court", "filed", "filed", 4),
            ("zjj", "court", "returned", "returned", 5),
            (None, "mediation", "manual", "open", 1),
        ]
        for i, (dept, platform, status, outcome, days_ago) in enumerate(cases):
            petition = reg(s, title=f"纠纷{i}", body=f"邻里纠纷第{i}件,请求调解", days_ago=days_ago + 0.5)
            petition.department_id = units[dept].id if dept else None
            _refer(
                s,
                petition,
                platform=platform,
                status=status,
                outcome=outcome,
                days_ago=days_ago,
                unit_id=units["xfj"].id,
            )


def _by_key(rows: list[dict[str, Any]]) -> dict[str, tuple[int, ...]]:
    return {r["key"]: tuple(r[f] for f in FIELDS) for r in rows}


def test_referral_columns_per_unit_and_per_township(seeded: Runtime, reg: Any) -> None:
    _build(seeded, reg)
    with seeded.session() as s:
        rows = accountability(s, start=START, end=END, today=END, by="department")
        towns = accountability(s, start=START, end=END, today=END, by="township")
    got = _by_key(rows)
    assert got["rsj"] == (3, 1, 1, 0, 0)
    assert got["zjj"] == (2, 0, 0, 1, 1)
    assert got["xfj"] == (1, 0, 0, 0, 0)  # no responsible unit yet: the referring unit
    assert all(v == (0,) * 5 for k, v in got.items() if k not in ("rsj", "zjj", "xfj"))
    assert _by_key(towns)[WANAN] == (6, 1, 1, 1, 1)


def test_the_api_the_export_and_the_dashboard_show_the_referrals(
    client: TestClient, auth: Auth, seeded: Runtime, reg: Any
) -> None:
    _build(seeded, reg)
    period = f"from={START}&to={END}"
    data = client.get(f"/api/accountability?{period}", headers=auth("supervisor")).json()
    assert _by_key(data["rows"])["rsj"] == (3, 1, 1, 0, 0)
    # the same query as /api/referrals/stats: the totals agree
    stats = client.get(
        f"/api/referrals/stats?from={START}T00:00:00&to={END + timedelta(days=1)}T00:00:00",
        headers=auth("supervisor"),
    ).json()
    assert stats["total"] == sum(r["referred"] for r in data["rows"]) == 6
    assert stats["by_outcome"] == {"resolved": 1, "failed": 1, "open": 2, "filed": 1, "returned": 1}

    xlsx = client.get(f"/api/accountability?{period}&format=xlsx", headers=auth("supervisor"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[-5:] == ["移交调解诉讼", "调解成功", "调解失败", "已立案", "退回"]
    rsj_name = next(r["name"] for r in data["rows"] if r["key"] == "rsj")
    assert next(r for r in body if r[0] == rsj_name)[-5:] == [3, 1, 1, 0, 0]

    with seeded.session() as s:
        summary = overview(s, actor=SYSTEM, start=START, end=END)["referrals"]
    assert summary["total"] == 6
    assert {o["outcome"]: o["count"] for o in summary["by_outcome"]} == {
        "open": 2,
        "resolved": 1,
        "failed": 1,
        "filed": 1,
        "returned": 1,
    }
    assert {p["platform"]: p["count"] for p in summary["by_platform"]} == {"mediation": 3, "court": 3}
    page = client.get(f"/dashboard?{period}", headers=auth("leader"))
    assert page.status_code == 200
    assert 'id="referral-summary"' in page.text and '<span id="referral-total">6</span>' in page.text
    assert '<div data-outcome="resolved"><span>调解成功</span><b>1</b></div>' in page.text
    # the referral made before the period counts once the period includes it
    early = START - timedelta(days=20)
    with seeded.session() as s:
        assert overview(s, actor=SYSTEM, start=early, end=END)["referrals"]["total"] == 7


def test_a_unit_with_referrals_only_still_gets_a_row(seeded: Runtime, reg: Any) -> None:
    with seeded.session() as s:
        petition = reg(s, title="旧事", body="去年的纠纷", days_ago=200)  # received long before the period
        petition.department_id = s.execute(select(OrgUnit.id).where(OrgUnit.code == "zjj")).scalar_one()
        _refer(s, petition, platform="court", status="filed", outcome="filed", days_ago=1)
    with seeded.session() as s:
        rows = accountability(s, start=START, end=END, today=END)
    (zjj,) = [r for r in rows if r["key"] == "zjj"]
    assert zjj["petitions"] == 0 and (zjj["referred"], zjj["referral_filed"]) == (1, 1)
