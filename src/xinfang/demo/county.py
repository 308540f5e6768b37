"""The demo county's gazetteer (data/geo/demo_county.json) as small frozen objects.

Loaded on request, never at import, so that tests can pass a hand-made county and the generator stays pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    lng: float
    lat: float
    population: int


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    aliases: tuple[str, ...]
    lng: float
    lat: float
    population: int
    villages: tuple[Village, ...]


@dataclass(frozen=True)
class DemoCounty:
    code: str
    name: str
    city_name: str
    province_name: str
    townships: tuple[Township, ...]

    @property
    def seat(self) -> Township:
        """The county seat: by convention the first township (the 城关 town, 古镛镇 in the demo county)."""
        return self.townships[0]

    def township(self, code: str) -> Township:
        for t in self.townships:
            if t.code == code:
                return t
        raise KeyError(code)

    def division_names(self, *, include_villages: bool = False) -> dict[str, str]:
        """{name or alias: division code}, the plain dict that intake.mapping resolves names with.

        Village names repeat across townships in real counties, so they are keyed by "乡镇名村名" and only
        also by the bare village name where that is unique in the county.
        """
        names: dict[str, str] = {}
        for t in self.townships:
            names[t.name] = t.code
            for alias in t.aliases:
                names[alias] = t.code
        if include_villages:
            bare: dict[str, list[str]] = {}
            for t in self.townships:
                for v in t.villages:
                    names[t.name + v.name] = v.code
                    bare.setdefault(v.name, []).append(v.code)
            for name, codes in bare.items():
                if len(codes) == 1 and name not in names:
                    names[name] = codes[0]
        return names


def county_from_dict(data: Mapping[str, Any]) -> DemoCounty:
    """Build a DemoCounty from the JSON shape of demo_county.json (also used by tests with tiny counties)."""
    townships = tuple(
        Township(
            code=str(t["code"]),
            name=str(t["name"]),
            aliases=tuple(t.get("aliases") or ()),
            lng=float(t["lng"]),
            lat=float(t["lat"]),
            population=int(t["population"]),
            villages=tuple(
                Village(
                    str(v["code"]), str(v["name"]), float(v["lng"]), float(v["lat"]), int(v["population"])
                )
                for v in t.get("villages") or ()
            ),
        )
        for t in data["townships"]
    )
    if not townships:
        raise ValueError("a demo county needs at least one township")
    return DemoCounty(
        code=str(data["county"]["code"]),
        name=str(data["county"]["name"]),
        city_name=str(data.get("city", {}).get("name", "")),
        province_name=str(data.get("province", {}).get("name", "")),
        townships=townships,
    )


def load_demo_county() -> DemoCounty:
    """Read the packaged demo county (将乐县, 350428)."""
    text = resources.files("xinfang").joinpath("data/geo/demo_county.json").read_text(encoding="utf-8")
    return county_from_dict(json.loads(text))
