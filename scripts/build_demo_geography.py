"""Build the demo county's small geography from ../shared/data/geo (run once by a developer, output committed).

Why a script: the shared files must not be copied into the project; what the product needs are small facts:
- the 13 townships of 将乐县 with their official codes and coarse outlines (simplified to about 1 km and rounded to
  three decimals, ~100 m: enough to colour a heat map, nowhere near the surveyed boundary);
- synthetic villages placed inside them (real village data is not available; marked as such);
- a short national gazetteer for recognising places outside the county: province and prefecture names, and the
  counties of the demo county's own city (a neighbouring county is the outside place petitions name most).
  A real county's own divisions come from the organisation import (xinfang org import), not from this file.

Usage: python scripts/build_demo_geography.py [--shared ../shared/data/geo]
Needs shapely (a development-time tool only; the product does not import it).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from shapely.geometry import Point, mapping, shape

COUNTY_CODE = "350428"
CITY_CODE = COUNTY_CODE[:4]
SIMPLIFY_DEGREES = 0.01  # ≈ 1 km
OUTLINE_DECIMALS = 3  # ≈ 100 m
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
RENAMED = {"光明乡": "光明镇", "南口乡": "南口镇"}  # upgraded townships: geojson name -> current name
OUT = Path(__file__).resolve().parents[1] / "src" / "xinfang" / "data" / "geo"

# Syllables typical of village names in the hills of western Fujian; combined deterministically.
FIRST = list("上下东西南北大小新老高长石水竹龙凤金银黄白青安福和丰兴永仁溪坑坪洋垅岭")
SECOND = [
    "坑",
    "坪",
    "洋",
    "溪",
    "口",
    "坊",
    "源",
    "墩",
    "岭",
    "垅",
    "田",
    "山",
    "湖",
    "塘",
    "岗",
    "埠",
    "头",
    "峰",
]


def village_names(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = rng.choice(FIRST) + rng.choice(SECOND) + "村"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def random_point_in(poly, rng: random.Random) -> Point:
    minx, miny, maxx, maxy = poly.bounds
    while True:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p):
            return p


def national_divisions(shared: Path) -> list[tuple[str, str, str]]:
    """Province and prefecture names, and the counties of the demo county's own city (other than itself)."""

    def read(name: str) -> list[dict[str, str]]:
        with open(shared / name, encoding="utf-8") as f:
            return list(csv.DictReader(f))

    rows = [(r["code"], r["name"], "province") for r in read("provinces.csv")]
    rows += [(r["code"], r["name"], "city") for r in read("cities.csv") if r["name"] not in PLACEHOLDER_NAMES]
    rows += [
        (r["code"], r["name"], "county")
        for r in read("areas.csv")
        if r["cityCode"] == CITY_CODE and r["code"] != COUNTY_CODE and r["name"] not in PLACEHOLDER_NAMES
    ]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "geo"))
    args = ap.parse_args()
    shared = Path(args.shared)
    codes = {}
    with open(shared / "streets.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["areaCode"] == COUNTY_CODE:
                codes[row["name"]] = row["code"]
    gj = json.loads((shared / "jiangle_county_350428_townships.geojson").read_text(encoding="utf-8"))
    rng = random.Random(350428)
    taken: set[str] = set()
    townships = []
    features = []
    for feat in sorted(
        gj["features"], key=lambda f: codes[RENAMED.get(f["properties"]["name"], f["properties"]["name"])]
    ):
        old = feat["properties"]["name"]
        name = RENAMED.get(old, old)
        code = codes[name]
        poly = shape(feat["geometry"])
        simple = poly.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
        c = poly.representative_point()
        n_villages = 8 if code.endswith(("100",)) else rng.randint(6, 10)
        villages = []
        for i, vname in enumerate(village_names(rng, n_villages, taken), start=1):
            p = random_point_in(poly, rng)
            villages.append(
                {
                    "code": f"{code}{200 + i:03d}",
                    "name": vname,
                    "lng": round(p.x, 5),
                    "lat": round(p.y, 5),
                    "population": rng.randint(600, 3200),
                }
            )
        town_pop = sum(v["population"] for v in villages) + (
            40000 if code.endswith("100") else rng.randint(2000, 6000)
        )
        townships.append(
            {
                "code": code,
                "name": name,
                "aliases": [old] if old != name else [],
                "lng": round(c.x, 5),
                "lat": round(c.y, 5),
                "population": town_pop,
                "villages": villages,
            }
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": json.loads(json.dumps(mapping(simple), default=float)),
            }
        )
    county = {
        "note": "Township codes and polygons are real (将乐县, 福建省三明市); villages and populations are synthetic (演示数据).",
        "province": {"code": "35", "name": "福建省"},
        "city": {"code": "3504", "name": "三明市"},
        "county": {"code": COUNTY_CODE, "name": "将乐县"},
        "townships": townships,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "demo_county.json").write_text(json.dumps(county, ensure_ascii=False, indent=1), encoding="utf-8")

    def rounded(obj):
        if isinstance(obj, float):
            return round(obj, OUTLINE_DECIMALS)
        if isinstance(obj, (list, tuple)):
            return [rounded(x) for x in obj]
        if isinstance(obj, dict):
            return {k: rounded(v) for k, v in obj.items()}
        return obj

    fc = {"type": "FeatureCollection", "features": rounded(features)}
    (OUT / "demo_townships.geojson").write_text(
        json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    rows = national_divisions(shared)
    (OUT / "divisions_cn.tsv").write_text(
        "# code\tname\tlevel — provinces, prefectures and the demo city's counties "
        "(derived from GB/T 2260 names, 2023-06-30)\n" + "".join(f"{c}\t{n}\t{lvl}\n" for c, n, lvl in rows),
        encoding="utf-8",
    )
    print(f"{len(rows)} national divisions -> {OUT / 'divisions_cn.tsv'}")
    print(f"{len(townships)} townships, {sum(len(t['villages']) for t in townships)} villages -> {OUT}")


if __name__ == "__main__":
    main()
