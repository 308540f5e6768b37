"""Figures the dashboard (大屏) draws: monthly trend, categories, channels, counts per township and village.

Scoped like every read (`scope_petitions`). Counted in the database, never row by row in Python: a province's year
is millions of petitions (the old per-row loop took 26 s at 5 million). A reader who sees every petition gets the
trend, categories and places of whole months from the heat-map roll-up `petition_month_counts` (analytics.rollup,
kept in the same transaction as every write) and only the partial months at the period's edges from the petitions
table; channels and the open count are not in the roll-up and are one GROUP BY on the petitions table. A scoped
reader (a township government) is counted with GROUP BYs on the petitions table under the scope. Months are China
months, computed by the roll-up's own expression (`rollup.month_expr`) on both backends. The township polygons come
from the shipped demo geography; villages are points.
The 访调诉 summary (referrals of the period by outcome and platform) is `referrals.service.stats`, the query of
/api/referrals/stats.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from xinfang.analytics.models import PetitionMonthCount
from xinfang.analytics.rollup import month_expr, month_number
from xinfang.cases.enums import OrgKind, Status
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.org.models import OrgUnit
from xinfang.referrals import service as referrals
from xinfang.referrals.enums import OUTCOME_LABELS, PLATFORM_LABELS, Outcome, Platform
from xinfang.security.actors import Actor
from xinfang.security.permissions import can, require, scope_petitions, sees_everything

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


@dataclass
class _Axes:
    """Petition counts along the axes the roll-up also has: month (yyyymm), category ('' or None for none) and
    division code ('' or None for none). Zero counts are never stored."""

    months: Counter[int] = field(default_factory=Counter)
    categories: Counter[str | None] = field(default_factory=Counter)
    divisions: Counter[str | None] = field(default_factory=Counter)

    def add(self, other: _Axes) -> None:
        self.months.update(other.months)
        self.categories.update(other.categories)
        self.divisions.update(other.divisions)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_TZ)


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _grouped(session: Session, query: Select[Any]) -> Counter[Any]:
    """{group: count} of a two-column (key, count) aggregate, without empty groups."""
    return Counter({key: int(n) for key, n in session.execute(query) if n})


def _petition_axes(session: Session, actor: Actor, lo: datetime, hi: datetime) -> _Axes:
    """The axes counted on the petitions table for receipts in [lo, hi), in the reader's scope (tens to thousands
    of groups, never the rows)."""
    month = month_expr(session.get_bind().dialect.name, Petition.received_at)

    def rows(q: Select[Any]) -> Select[Any]:
        return scope_petitions(q.where(Petition.received_at >= lo, Petition.received_at < hi), actor)

    return _count_axes(session, rows, month, Petition.category, Petition.division_code, func.count())


def _rollup_axes(session: Session, first_month: int, end_month: int) -> _Axes:
    """The same axes for whole months [first_month, end_month) (yyyymm) from the roll-up petition_month_counts,
    which counts every petition (so only for a reader who sees everything)."""
    t = PetitionMonthCount

    def rows(q: Select[Any]) -> Select[Any]:
        return q.where(t.month >= first_month, t.month < end_month)

    return _count_axes(session, rows, t.month, t.category, t.division_code, func.sum(t.n))


def _count_axes(
    session: Session,
    rows: Callable[[Select[Any]], Select[Any]],
    month: Any,
    category: Any,
    division: Any,
    count: Any,
) -> _Axes:
    """Counts per month, per category and per division of the rows `rows` selects. PostgreSQL groups them in one
    pass (GROUPING SETS: a province's year is millions of rows, read once instead of three times); SQLite, a
    county's database, runs one GROUP BY per axis."""
    if session.get_bind().dialect.name != "postgresql":

        def by(key: Any) -> Counter[Any]:
            return _grouped(session, rows(select(key, count)).group_by(key))

        return _Axes(months=by(month), categories=by(category), divisions=by(division))
    axes = _Axes()
    q = rows(select(month, category, division, func.grouping(month), func.grouping(category), count))
    for m, c, d, not_month, not_category, n in session.execute(
        q.group_by(func.grouping_sets(month, category, division))
    ):
        if not n:
            continue
        if not not_month:
            axes.months[m] += int(n)
        elif not not_category:
            axes.categories[c] += int(n)
        else:
            axes.divisions[d] += int(n)
    return axes


def _axes(session: Session, actor: Actor, start: date, end: date, *, use_rollup: bool) -> _Axes:
    """Month, category and place counts of the local days [start, end]. A reader who sees every petition gets the
    whole months from the roll-up and only the partial months at either edge from the petitions table (the same
    split as the heat map, analytics.heatmap.counts_and_duplicates); a scoped reader (a township government) is
    counted on the petitions table, which the scope can filter."""
    lo, hi = _at(start), _at(end + timedelta(days=1))
    first_whole = start if start.day == 1 else _month_after(start)
    end_whole = (end + timedelta(days=1)).replace(day=1)  # months in [first_whole, end_whole) are whole
    if not (use_rollup and sees_everything(actor) and first_whole < end_whole):
        return _petition_axes(session, actor, lo, hi)
    axes = _rollup_axes(session, month_number(first_whole), month_number(end_whole))
    for edge_lo, edge_hi in ((lo, _at(first_whole)), (_at(end_whole), hi)):
        if edge_lo < edge_hi:
            axes.add(_petition_axes(session, actor, edge_lo, edge_hi))
    return axes


def _channels_and_open(
    session: Session, actor: Actor, lo: datetime, hi: datetime
) -> tuple[Counter[str], int]:
    """({channel: petitions}, petitions still open) received in [lo, hi): one GROUP BY on the petitions table (the
    roll-up has neither channel nor status)."""
    is_open = func.sum(case((Petition.status.in_(sorted(OPEN)), 1), else_=0))
    columns: tuple[Any, ...] = (Petition.channel, func.count(), is_open)
    q = select(*columns).where(Petition.received_at >= lo, Petition.received_at < hi)
    channels: Counter[str] = Counter()
    open_count = 0
    for channel, n, n_open in session.execute(scope_petitions(q, actor).group_by(Petition.channel)):
        channels[channel] += int(n)
        open_count += int(n_open or 0)
    return channels, open_count


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Largest first; ties by name, so that the order does not depend on the database's row order."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _places(divisions: Counter[str | None]) -> tuple[dict[str, int], dict[str, int]]:
    """({township: n}, {village: n}) from counts per division code: a code of 9 or more digits lies in the township
    of its first 9, a 12-digit code is a village."""
    townships: Counter[str] = Counter()
    villages: dict[str, int] = {}
    for division, n in divisions.items():
        if division and len(division) >= 9:
            townships[division[:9]] += n
        if division and len(division) == 12:
            villages[division] = villages.get(division, 0) + n
    return dict(sorted(townships.items())), dict(sorted(villages.items()))


def overview(
    session: Session, *, actor: Actor, start: date, end: date, use_rollup: bool = True
) -> dict[str, Any]:
    """The dashboard's figures for the local days [start, end], counted in the database (a province's year is
    millions of petitions: never read row by row). `use_rollup=False` counts everything on the petitions table
    (the tests' and the benchmark's reference for the roll-up path)."""
    require(actor, "oversight.read")
    lo, hi = _at(start), _at(end + timedelta(days=1))
    channels, open_count = _channels_and_open(session, actor, lo, hi)
    axes = _axes(session, actor, start, end, use_rollup=use_rollup)
    categories: Counter[str] = Counter()
    for category, n in axes.categories.items():
        categories[category or "未分类"] += n
    townships, villages = _places(axes.divisions)
    labels = _months(start, end)
    by_label = {f"{m // 100}-{m % 100:02d}": n for m, n in axes.months.items()}
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": sum(channels.values()),
        "open": open_count,
        "trend": {"months": labels, "counts": [by_label.get(m, 0) for m in labels]},
        "categories": _ranked(categories),
        "channels": _ranked(channels),
        "townships": townships,
        "villages": villages,
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
