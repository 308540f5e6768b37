"""Heat map: counts, distinct matters and rates per 10,000 by township and village; GeoJSON; PNG/SVG with CJK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.analytics.conftest import GUYONG, WANAN, WANAN_VILLAGE
from xinfang.analytics import heatmap as hm
from xinfang.analytics.charts import cjk_font
from xinfang.org.models import OrgUnit
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

Auth = Callable[[str], dict[str, str]]
ROAD = "通往村里的水泥路塌陷了一大段,雨天车辆无法通行,村民出行困难,请求尽快修复。"
ROAD_AGAIN = "通往村里的水泥路塌陷了一大段,雨天车辆都无法通行,村民出行十分困难,请求尽快修复!"
SCHOOL = "学校食堂饭菜价格上涨明显,学生家长反映分量不足,希望教育部门核查食堂收费是否合理。"
WAGES = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。"
SOCIAL = "单位三年没有给我缴纳养老保险和医疗保险,社保局说要单位补缴,单位一直推脱,请求督促补缴。"
LAST_30 = hm.HeatFilter(hm.Period(date(2026, 1, 31), date(2026, 3, 1)))


def _history(seeded: Runtime, reg: Any) -> None:
    """万安镇: 3 road reports (two sources, near-identical text), 1 school; 古镛镇: 2 wage petitions; 1 old one."""
    with seeded.session() as s:
        reg(s, title="村道塌陷", body=ROAD, days_ago=5, source="12345", channel="hotline")
        reg(s, title="村道塌陷", body=ROAD_AGAIN, days_ago=4, source="grid", channel="grid")
        reg(s, title="村道塌陷", body=ROAD, days_ago=3, source="desk")
        reg(s, title="食堂收费", body=SCHOOL, days_ago=2, category="教育文体")
        reg(s, title="欠薪", body=WAGES, division=GUYONG, days_ago=2, category="劳动和社会保障")
        reg(s, title="社保", body=SOCIAL, division=GUYONG + "201", days_ago=1, category="劳动和社会保障")
        reg(s, title="旧事", body=SCHOOL, days_ago=200)  # outside the period


def test_it_counts_petitions_and_distinct_matters_by_township(seeded: Runtime, reg: Any) -> None:
    _history(seeded, reg)
    with seeded.session() as s:
        cells = {c.code: c for c in hm.heat_cells(s, actor=SYSTEM, level="township", flt=LAST_30)}
        wanan_pop = s.execute(select(OrgUnit.population).where(OrgUnit.code == WANAN)).scalar_one()
    assert len(cells) == 13
    assert cells[WANAN].count == 4
    assert cells[WANAN].distinct_count == 2  # the three road reports are one matter
    assert cells[GUYONG].count == 2 and cells[GUYONG].distinct_count == 2
    assert cells[WANAN].rate_per_10k == round(4 * 10_000 / wanan_pop, 2)
    assert sum(c.count for c in cells.values()) == 6


def test_it_filters_by_category_source_and_village(seeded: Runtime, reg: Any) -> None:
    _history(seeded, reg)
    with seeded.session() as s:
        by_cat = hm.heat_cells(
            s, actor=SYSTEM, level="township", flt=hm.HeatFilter(LAST_30.period, category="劳动和社会保障")
        )
        by_src = hm.heat_cells(
            s, actor=SYSTEM, level="township", flt=hm.HeatFilter(LAST_30.period, source="grid")
        )
        villages = {c.code: c for c in hm.heat_cells(s, actor=SYSTEM, level="village", flt=LAST_30)}
    assert {c.code: c.count for c in by_cat if c.count} == {GUYONG: 2}
    assert {c.code: c.count for c in by_src if c.count} == {WANAN: 1}
    assert villages[WANAN_VILLAGE].count == 4 and villages[GUYONG + "201"].count == 1
    assert (
        sum(c.count for c in villages.values()) == 5
    )  # the petition placed only at township level is not in a village


def test_the_api_returns_geojson_polygons_and_points(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    _history(seeded, reg)
    r = client.get(
        "/api/analytics/heatmap?level=township&from=2026-01-31&to=2026-03-01", headers=auth("leader")
    )
    assert r.status_code == 200, r.text
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 13
    wanan = next(f for f in fc["features"] if f["properties"]["code"] == WANAN)
    assert wanan["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert set(wanan["properties"]) >= {"code", "name", "count", "distinct_count", "rate_per_10k"}
    assert wanan["properties"]["count"] == 4 and wanan["properties"]["name"] == "万安镇"
    r = client.get(
        "/api/analytics/heatmap?level=village&from=2026-01-31&to=2026-03-01&category=城乡建设",
        headers=auth("clerk"),
    )
    village = next(f for f in r.json()["features"] if f["properties"]["code"] == WANAN_VILLAGE)
    assert village["geometry"]["type"] == "Point" and len(village["geometry"]["coordinates"]) == 2
    assert village["properties"]["count"] == 3


def test_a_township_user_sees_only_its_township(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    _history(seeded, reg)
    r = client.get("/api/analytics/heatmap?from=2026-01-31&to=2026-03-01", headers=auth("township_wa"))
    codes = {f["properties"]["code"] for f in r.json()["features"]}
    assert codes == {WANAN}


def test_it_exports_xlsx(seeded: Runtime, reg: Any, client: TestClient, auth: Auth) -> None:
    _history(seeded, reg)
    r = client.get("/api/analytics/heatmap?format=xlsx", headers=auth("supervisor"))
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_the_png_and_svg_render_with_a_cjk_font(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    found = cjk_font()
    assert found is not None, "no CJK font: install pylopdf-fonts-zh-cn"
    assert found[1].is_file()
    _history(seeded, reg)
    r = client.get("/api/analytics/heatmap.png?from=2026-01-31&to=2026-03-01", headers=auth("leader"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n" and len(r.content) > 10_000
    r = client.get("/api/analytics/heatmap.svg?level=village", headers=auth("leader"))
    assert r.status_code == 200 and b"<svg" in r.content[:500]
    from matplotlib import font_manager

    # The font matplotlib resolves for our family has glyphs for the township names (no tofu boxes).
    path = font_manager.findfont(font_manager.FontProperties(family=found[0]), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    face = FT2Font(path)
    assert all(face.get_char_index(ord(ch)) for ch in "万安镇信访热力图")
