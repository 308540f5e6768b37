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

Aggregation is one indexed GROUP BY in the database (SQLite or PostgreSQL); `bench/analytics_scale.py` measures it
against DuckDB and pandas on 5 million rows. Duplicates are found with a second query over the period's links only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.errors import InvalidInput
from xinfang.org.models import OrgUnit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions

LEVELS = ("township", "village")
TOWNSHIP_CODE_LENGTH = 9
VILLAGE_CODE_LENGTH = 12
DEFAULT_WINDOW_DAYS = 90
SAME_MATTER_KINDS = ("same_matter", "both")

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


def _filtered(query: Select[Any], flt: HeatFilter) -> Select[Any]:
    query = query.where(Petition.received_at >= flt.period.start_at, Petition.received_at < flt.period.end_at)
    if flt.category:
        query = query.where(Petition.category == flt.category)
    if flt.source:
        query = query.where(Petition.source == flt.source)
    return query


def _unit_key(level: str) -> Any:
    return Petition.township_code if level == "township" else Petition.division_code


def count_by_unit(session: Session, *, actor: Actor, level: str, flt: HeatFilter) -> dict[str, int]:
    """{division code: petitions} for the period: one GROUP BY over the (township_code, received_at) index."""
    key = _unit_key(level)
    q = _filtered(select(key, func.count()).select_from(Petition), flt).where(key.is_not(None))
    if level == "village":
        q = q.where(func.length(Petition.division_code) == VILLAGE_CODE_LENGTH)
    q = scope_petitions(q, actor).group_by(key)
    return {code: int(n) for code, n in session.execute(q)}


def duplicates_by_unit(
    session: Session, *, actor: Actor, level: str, flt: HeatFilter, window_days: int = DEFAULT_WINDOW_DAYS
) -> dict[str, int]:
    """{division code: petitions repeating an earlier same-matter petition of the period within the window}."""
    from xinfang.dispatch.models import PetitionLink

    earlier = aliased(Petition)
    key = _unit_key(level)
    q = (
        select(Petition.id, key, Petition.received_at, earlier.received_at)
        .select_from(PetitionLink)
        .join(Petition, Petition.id == PetitionLink.petition_id)
        .join(earlier, earlier.id == PetitionLink.earlier_id)
        .where(
            PetitionLink.kind.in_(SAME_MATTER_KINDS),
            earlier.received_at >= flt.period.start_at,
            key.is_not(None),
        )
    )
    q = scope_petitions(_filtered(q, flt), actor)
    window = timedelta(days=window_days)
    dup: dict[str, set[int]] = defaultdict(set)
    for pid, code, at, earlier_at in session.execute(q):
        if timedelta(0) <= at - earlier_at <= window:
            dup[code].add(pid)
    return {code: len(ids) for code, ids in dup.items()}


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
) -> list[HeatCell]:
    """One cell per township (or village) of the county, including those without petitions (count 0)."""
    require(actor, "analytics.read")
    if level not in LEVELS:
        raise InvalidInput("level 应为 township 或 village", code="analytics.bad_level")
    counts = count_by_unit(session, actor=actor, level=level, flt=flt)
    dups = duplicates_by_unit(session, actor=actor, level=level, flt=flt, window_days=window_days)
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
