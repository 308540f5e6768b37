"""The conflict heat map (热力图): petitions counted per township or village for a period, as counts, distinct matters
and rates per 10,000 residents, with GeoJSON for the web map and PNG/SVG for reports.

Definitions (stated so a township can check its own figures):
- count: petitions received in [from, to] (local dates, both inclusive) located in the unit, after the filters
  (category, source) and the reader's scope (a township user sees only its own township).
- distinct_count: the same petitions less those that repeat an earlier petition about the same matter
  (petition_links of kind same_matter or both, written by repeat detection at intake and by hot-matter linking
  across sources) received in the same period and at most `window_days` earlier. Ten reports of one blocked road
  from 12345, the grid and 110 count once.
- rate_per_10k: count per 10,000 residents where the unit's population is configured (OrgUnit.population).

Counting: whole months come from the roll-up petition_month_counts (analytics.rollup, kept in the same transaction
as every write), the partial months at the period's edges from indexed GROUP BYs on the petitions table; readers
with a narrower scope than the whole county are counted on the petitions table. Repeats are counted in the database
with one definition (rollup.repeat_exists). `bench/analytics_scale.py` times both ways on 5 million rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinfang.analytics import rollup
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.errors import InvalidInput
from xinfang.org.models import OrgUnit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions, sees_everything

LEVELS = ("township", "village")
TOWNSHIP_CODE_LENGTH = 9
VILLAGE_CODE_LENGTH = 12
DEFAULT_WINDOW_DAYS = rollup.WINDOW_DAYS
SAME_MATTER_KINDS = rollup.SAME_MATTER_KINDS

COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "区划代码"),
    ("name", "名称"),
    ("count", "信访件数"),
    ("distinct_count", "去重事项数"),
    ("population", "人口"),
    ("rate_per_10k", "每万人件数"),
)


@dataclass(frozen=True)
class Period:
    """Local dates, both inclusive, and the UTC instants that bound them."""

    start_on: date
    end_on: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start_on, time(), CHINA_TZ)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end_on + timedelta(days=1), time(), CHINA_TZ)


def period(start: date | None, end: date | None, *, today: date, default_days: int = 365) -> Period:
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period.reversed")
    return Period(start, end)


@dataclass(frozen=True)
class HeatFilter:
    period: Period
    category: str | None = None
    source: str | None = None


@dataclass
class HeatCell:
    code: str
    name: str
    count: int
    distinct_count: int
    population: int | None
    rate_per_10k: float | None
    lng: float | None = None
    lat: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _filtered(
    query: Select[Any], flt: HeatFilter, lo: datetime | None = None, hi: datetime | None = None
) -> Select[Any]:
    """Petitions received in [lo, hi) (default: the whole period) that pass the category and source filters."""
    lo = flt.period.start_at if lo is None else lo
    hi = flt.period.end_at if hi is None else hi
    query = query.where(Petition.received_at >= lo, Petition.received_at < hi)
    if flt.category:
        query = query.where(Petition.category == flt.category)
    if flt.source:
        query = query.where(Petition.source == flt.source)
    return query


def _unit_key(level: str) -> Any:
    return Petition.township_code if level == "township" else Petition.division_code


def _by_unit(session: Session, *, actor: Actor, level: str, query: Select[Any], key: Any) -> dict[str, int]:
    query = query.where(key.is_not(None))
    if level == "village":
        query = query.where(func.length(Petition.division_code) == VILLAGE_CODE_LENGTH)
    return {code: int(n) for code, n in session.execute(scope_petitions(query, actor).group_by(key))}


def count_by_unit(
    session: Session,
    *,
    actor: Actor,
    level: str,
    flt: HeatFilter,
    lo: datetime | None = None,
    hi: datetime | None = None,
) -> dict[str, int]:
    """{division code: petitions} received in [lo, hi) (default: the period), from the petitions table: one GROUP
    BY over the (township_code, received_at) index."""
    key = _unit_key(level)
    q = _filtered(select(key, func.count()).select_from(Petition), flt, lo, hi)
    return _by_unit(session, actor=actor, level=level, query=q, key=key)


def duplicates_by_unit(
    session: Session,
    *,
    actor: Actor,
    level: str,
    flt: HeatFilter,
    window_days: int = DEFAULT_WINDOW_DAYS,
    lo: datetime | None = None,
    hi: datetime | None = None,
) -> dict[str, int]:
    """{division code: petitions received in [lo, hi) that repeat an earlier same-matter petition received in the
    period and at most `window_days` before them} — each petition counted once however many links it has, so
    distinct_count = count − duplicates never goes below the number of matters. Counted in the database."""
    key = _unit_key(level)
    dialect = session.get_bind().dialect.name
    repeat = rollup.repeat_exists(dialect, window_days=window_days, since=flt.period.start_at)
    q = _filtered(select(key, func.count()).select_from(Petition), flt, lo, hi).where(repeat)
    return _by_unit(session, actor=actor, level=level, query=q, key=key)


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_TZ)


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for code, n in part.items():
        total[code] = total.get(code, 0) + n


def counts_and_duplicates(
    session: Session,
    *,
    actor: Actor,
    level: str,
    flt: HeatFilter,
    window_days: int = DEFAULT_WINDOW_DAYS,
    use_rollup: bool = True,
) -> tuple[dict[str, int], dict[str, int]]:
    """({unit: petitions}, {unit: repeats}) for the filter.

    With the roll-up (readers who see every petition): whole months of the period come from
    petition_month_counts, the partial months at either edge from the petitions table. A petition's repeats may
    point up to `window_days` back, and only earlier petitions inside the period count; so the roll-up's repeat
    counts are used only for months that begin at least `window_days` after the period does, and the repeats of
    the first months are counted on the petitions table (a few months at most: fast).
    Scoped readers (a department, a township government) see petitions by department, grant or place and never
    those that accuse their own unit; the roll-up has none of that, so they are served from the petitions table.
    """
    p = flt.period
    first_whole = p.start_on if p.start_on.day == 1 else _month_after(p.start_on)
    end_whole = (p.end_on + timedelta(days=1)).replace(day=1)  # months in [first_whole, end_whole) are whole
    rollup_ok = use_rollup and sees_everything(actor) and first_whole < end_whole
    if not rollup_ok:
        counts = count_by_unit(session, actor=actor, level=level, flt=flt)
        dups = duplicates_by_unit(session, actor=actor, level=level, flt=flt, window_days=window_days)
        return counts, dups
    if window_days == rollup.WINDOW_DAYS:
        repeats_from = max(first_whole, _month_after(p.start_on + timedelta(days=window_days - 1)))
        repeats_from = min(repeats_from, end_whole)
    else:  # the roll-up knows only its own window
        repeats_from = end_whole
    counts, dups = rollup.unit_counts(
        session,
        level=level,
        first_month=rollup.month_number(first_whole),
        end_month=rollup.month_number(end_whole),
        repeats_from_month=rollup.month_number(repeats_from),
        category=flt.category,
        source=flt.source,
        village_length=VILLAGE_CODE_LENGTH,
    )
    edges = [(p.start_at, _at(first_whole)), (_at(end_whole), p.end_at)]
    for lo, hi in edges:
        if lo < hi:
            _add(counts, count_by_unit(session, actor=actor, level=level, flt=flt, lo=lo, hi=hi))
    for lo, hi in [(p.start_at, _at(repeats_from)), edges[1]]:
        if lo < hi:
            _add(
                dups,
                duplicates_by_unit(
                    session, actor=actor, level=level, flt=flt, window_days=window_days, lo=lo, hi=hi
                ),
            )
    return counts, dups


def _units(session: Session, level: str) -> list[OrgUnit]:
    kind = OrgKind.TOWNSHIP if level == "township" else OrgKind.VILLAGE
    return list(session.execute(select(OrgUnit).where(OrgUnit.kind == kind).order_by(OrgUnit.code)).scalars())


def heat_cells(
    session: Session,
    *,
    actor: Actor,
    level: str,
    flt: HeatFilter,
    window_days: int = DEFAULT_WINDOW_DAYS,
    use_rollup: bool = True,
) -> list[HeatCell]:
    """One cell per township (or village) of the county, including those without petitions (count 0).
    `use_rollup=False` counts everything on the petitions table (the benchmark's baseline, the tests' reference)."""
    require(actor, "analytics.read")
    if level not in LEVELS:
        raise InvalidInput("level 应为 township 或 village", code="analytics.bad_level")
    counts, dups = counts_and_duplicates(
        session, actor=actor, level=level, flt=flt, window_days=window_days, use_rollup=use_rollup
    )
    cells = []
    for unit in _units(session, level):
        if actor.township_code and not unit.code.startswith(actor.township_code):
            continue
        n = counts.get(unit.code, 0)
        rate = round(n * 10_000 / unit.population, 2) if unit.population else None
        cells.append(
            HeatCell(
                code=unit.code,
                name=unit.name,
                count=n,
                distinct_count=n - dups.get(unit.code, 0),
                population=unit.population,
                rate_per_10k=rate,
                lng=unit.lng,
                lat=unit.lat,
            )
        )
    return cells


@lru_cache(maxsize=1)
def township_polygons() -> dict[str, dict[str, Any]]:
    """{township code: GeoJSON geometry} from the project's demo_townships.geojson."""
    path = resources.files("xinfang") / "data" / "geo" / "demo_townships.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["code"]: f["geometry"] for f in data["features"]}


def to_geojson(cells: list[HeatCell], *, level: str, flt: HeatFilter) -> dict[str, Any]:
    """A FeatureCollection: township polygons matched by code, villages as points at their lng/lat."""
    polygons = township_polygons() if level == "township" else {}
    features = []
    for cell in cells:
        if level == "township":
            geometry = polygons.get(cell.code)
        else:
            has_point = cell.lng is not None and cell.lat is not None
            geometry = {"type": "Point", "coordinates": [cell.lng, cell.lat]} if has_point else None
        props = {
            "code": cell.code,
            "name": cell.name,
            "count": cell.count,
            "distinct_count": cell.distinct_count,
            "population": cell.population,
            "rate_per_10k": cell.rate_per_10k,
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "level": level,
            "from": flt.period.start_on.isoformat(),
            "to": flt.period.end_on.isoformat(),
            "category": flt.category,
            "source": flt.source,
            "total": sum(c.count for c in cells),
            "distinct_total": sum(c.distinct_count for c in cells),
        },
    }


def render_map(cells: list[HeatCell], *, level: str, flt: HeatFilter, fmt: str = "png") -> bytes:
    """The heat map as an image for reports: townships shaded by rate per 10,000 (or by count without population),
    villages as circles sized by count; Chinese labels in the CJK font (see analytics.charts)."""
    from matplotlib import cm, colors
    from matplotlib.patches import Polygon as PolygonPatch

    from xinfang.analytics.charts import pyplot, render

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 7))
    values = [c.rate_per_10k if c.rate_per_10k is not None else float(c.count) for c in cells]
    norm = colors.Normalize(vmin=0, vmax=max([*values, 1.0]))
    cmap = cm.get_cmap("YlOrRd") if hasattr(cm, "get_cmap") else plt.get_cmap("YlOrRd")
    polygons = township_polygons()
    by_code = {c.code: (c, v) for c, v in zip(cells, values, strict=True)}
    for code, geometry in polygons.items():
        cell_value = by_code.get(code) if level == "township" else None
        face = cmap(norm(cell_value[1])) if cell_value else "#f4f4f4"
        for ring in _outer_rings(geometry):
            ax.add_patch(PolygonPatch(ring, closed=True, facecolor=face, edgecolor="#555555", linewidth=0.6))
        if cell_value:
            cell = cell_value[0]
            xs = [p[0] for ring in _outer_rings(geometry) for p in ring]
            ys = [p[1] for ring in _outer_rings(geometry) for p in ring]
            ax.text(
                sum(xs) / len(xs), sum(ys) / len(ys), f"{cell.name}\n{cell.count}", ha="center", fontsize=7
            )
    if level == "village":
        pts = [(c, v) for c, v in zip(cells, values, strict=True) if c.lng is not None and c.count]
        if pts:
            ax.scatter(
                [c.lng for c, _ in pts],
                [c.lat for c, _ in pts],
                s=[20 + 8 * c.count for c, _ in pts],
                c=[v for _, v in pts],
                cmap=cmap,
                norm=norm,
                edgecolors="#333333",
                linewidths=0.4,
                alpha=0.85,
            )
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    what = "每万人信访件数" if any(c.rate_per_10k is not None for c in cells) else "信访件数"
    scope = "乡镇" if level == "township" else "村(社区)"
    ax.set_title(f"信访热力图({scope},{flt.period.start_on}至{flt.period.end_on})")
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, label=what)
    return render(fig, fmt)


def _outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []
