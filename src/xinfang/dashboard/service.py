"""Figures the dashboard (大屏) draws: monthly trend, categories, channels, counts per township and village.

Scoped like every read (`scope_petitions`). One pass over (received_at, category, channel, division_code) of the
period's petitions — a county's year is a few thousand rows, grouped in Python so SQLite and PostgreSQL agree on
months in China time. The township polygons come from the shipped demo geography; villages are points.
The 访调诉 summary (referrals of the period by outcome and platform) is `referrals.service.stats`, the query of
/api/referrals/stats.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind, Status
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.org.models import OrgUnit
from xinfang.referrals import service as referrals
from xinfang.referrals.enums import OUTCOME_LABELS, PLATFORM_LABELS, Outcome, Platform
from xinfang.security.actors import Actor
from xinfang.security.permissions import can, require, scope_petitions

OPEN = {s.value for s in Status} - {
    Status.CONCLUDED.value,
    Status.REFUSED.value,
    Status.DIVERTED.value,
    Status.INFORMED.value,
    Status.RECHECK_REPLIED.value,
}


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def overview(session: Session, *, actor: Actor, start: date, end: date) -> dict[str, Any]:
    require(actor, "oversight.read")
    lo = datetime.combine(start, time(), CHINA_TZ)
    hi = datetime.combine(end, time.max, CHINA_TZ)
    q = select(
        Petition.received_at, Petition.category, Petition.channel, Petition.division_code, Petition.status
    ).where(Petition.received_at >= lo, Petition.received_at <= hi)
    q = scope_petitions(q, actor)
    months: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    townships: Counter[str] = Counter()
    villages: Counter[str] = Counter()
    open_count = total = 0
    for received_at, category, channel, division, status in session.execute(q):
        total += 1
        months[received_at.astimezone(CHINA_TZ).strftime("%Y-%m")] += 1
        categories[category or "未分类"] += 1
        channels[channel] += 1
        if division and len(division) >= 9:
            townships[division[:9]] += 1
        if division and len(division) == 12:
            villages[division] += 1
        open_count += status in OPEN
    labels = _months(start, end)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": total,
        "open": open_count,
        "trend": {"months": labels, "counts": [months.get(m, 0) for m in labels]},
        "categories": categories.most_common(),
        "channels": channels.most_common(),
        "townships": dict(townships),
        "villages": dict(villages),
        "referrals": referral_summary(session, actor=actor, start=start, end=end),
    }


def referral_summary(session: Session, *, actor: Actor, start: date, end: date) -> dict[str, Any]:
    """Referrals made in the local days [start, end]: total, by outcome (every outcome listed, zeros included, in a
    fixed order) and by platform, with Chinese labels."""
    lo = datetime.combine(start, time(), CHINA_TZ)
    hi = datetime.combine(end + timedelta(days=1), time(), CHINA_TZ)
    data = referrals.stats(session, actor=actor, start=lo, end=hi)
    return {
        "total": data["total"],
        "by_outcome": [
            {"outcome": o.value, "label": OUTCOME_LABELS[o], "count": data["by_outcome"].get(o.value, 0)}
            for o in (Outcome.OPEN, Outcome.RESOLVED, Outcome.FAILED, Outcome.FILED, Outcome.RETURNED)
        ],
        "by_platform": [
            {"platform": p.value, "label": PLATFORM_LABELS[p], "count": data["by_platform"].get(p.value, 0)}
            for p in Platform
        ],
    }


def forecast_outlook(session: Session, *, actor: Actor, today: date) -> dict[str, Any] | None:
    """What the trend chart draws beside the actual months: this month's and next month's county totals as
    forecast, with their 90% intervals (analytics.forecast.county_outlook); None for a reader without analytics."""
    if not can(actor, "analytics.read"):
        return None
    from xinfang.analytics.forecast import county_outlook

    return county_outlook(session, actor=actor, today=today)


@lru_cache(maxsize=1)
def township_polygons() -> dict[str, dict[str, Any]]:
    path = resources.files("xinfang") / "data" / "geo" / "demo_townships.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["code"]: f["geometry"] for f in data["features"]}


def heat_geojson(session: Session, *, counts: dict[str, int], level: str) -> dict[str, Any]:
    """The analytics heat-map contract (FeatureCollection; properties code, name, count, rate_per_10k)."""
    kind = OrgKind.TOWNSHIP if level == "township" else OrgKind.VILLAGE
    units = session.execute(
        select(OrgUnit).where(OrgUnit.kind == kind.value).order_by(OrgUnit.code)
    ).scalars()
    polygons = township_polygons() if level == "township" else {}
    features = []
    for u in units:
        n = counts.get(u.code, 0)
        if level == "township":
            geometry = polygons.get(u.code)
        else:
            geometry = (
                {"type": "Point", "coordinates": [u.lng, u.lat]} if u.lng is not None and u.lat else None
            )
        if geometry is None:
            continue
        rate = round(n * 10_000 / u.population, 2) if u.population else None
        props = {"code": u.code, "name": u.name, "count": n, "rate_per_10k": rate, "population": u.population}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features, "properties": {"level": level}}
