"""Place names → division codes: the demo county's townships and villages plus national provinces/cities/counties.

Why a hand-rolled scanner: the vocabulary is small (≈3,500 names), so a dictionary keyed by the first two
characters finds every name in one pass without a native dependency; numpy picks the positions whose first two
characters start some name (text/scan.py), so Python only looks at those. Village names
repeat across the country, so villages are only known inside the configured county; resolution prefers places
whose parent is also mentioned (属地管理 needs the township, not just any match).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from xinfang.text.scan import candidate_starts, prefix_keys

LEVELS = ("province", "city", "county", "township", "village")
# Two-character county names that are also ordinary words ("和县" in "我和县长"): never matched nationally.
_SHORT_NAME_MIN = 3
_PROVINCE_SUFFIXES = ("省", "市", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区")


@dataclass(frozen=True, slots=True)
class Place:
    """One division: a 2/4/6-digit national code, a 9-digit township code or a 12-digit village code."""

    code: str
    name: str
    level: str
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    start: int
    end: int
    surface: str
    candidates: tuple[Place, ...]


@dataclass(frozen=True, slots=True)
class Location:
    """The resolved location of a matter: the deepest place inside the county, and places outside it."""

    county_code: str | None = None
    township_code: str | None = None
    township_name: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    outside: tuple[Place, ...] = ()

    @property
    def in_county(self) -> bool:
        return self.township_code is not None or self.county_code is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "county_code": self.county_code,
            "township_code": self.township_code,
            "township_name": self.township_name,
            "village_code": self.village_code,
            "village_name": self.village_name,
            "outside": [{"code": p.code, "name": p.name, "level": p.level} for p in self.outside],
        }


@dataclass
class Gazetteer:
    """Name index over places; build with `from_file` or `default_gazetteer()`, never at import."""

    county: Place
    places: list[Place]
    _index: dict[str, list[tuple[str, tuple[Place, ...]]]] = field(default_factory=dict, repr=False)
    _by_code: dict[str, Place] = field(default_factory=dict, repr=False)
    _county_names: dict[str, str] = field(default_factory=dict, repr=False)
    _prefix_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def __post_init__(self) -> None:
        names: dict[str, list[Place]] = defaultdict(list)
        for place in self.places:
            for name in _names_for(place, home=self.county):
                names[name].append(place)
        index: dict[str, list[tuple[str, tuple[Place, ...]]]] = defaultdict(list)
        for name, cands in names.items():
            index[name[:2]].append((name, tuple(cands)))
        for entries in index.values():
            entries.sort(key=lambda item: -len(item[0]))
        self._index = dict(index)
        self._prefix_keys = prefix_keys(self._index)
        self._by_code = {p.code: p for p in self.places}
        self._county_names = {p.code: p.name for p in self.places if p.level == "county"}

    def county_names(self) -> dict[str, str]:
        """{county code: name} of every county (built once; ID-number region lookup uses it per petition)."""
        return self._county_names

    @classmethod
    def from_file(cls, county_path: Path | str, national_path: Path | str | None = None) -> Gazetteer:
        """Load the county JSON (townships, aliases, villages) and optionally the national division TSV."""
        data = json.loads(Path(county_path).read_text(encoding="utf-8"))
        national = Path(national_path).read_text(encoding="utf-8") if national_path else ""
        return cls.from_data(data, national)

    @classmethod
    def from_data(cls, county_data: dict[str, Any], national_tsv: str = "") -> Gazetteer:
        county = Place(county_data["county"]["code"], county_data["county"]["name"], "county")
        places = _national_places(national_tsv)
        known = {p.code for p in places}
        for key, level in (("province", "province"), ("city", "city"), ("county", "county")):
            item = county_data[key]
            if item["code"] not in known:
                places.append(Place(item["code"], item["name"], level))
        for town in county_data.get("townships", []):
            places.append(Place(town["code"], town["name"], "township", county.code))
            for alias in town.get("aliases", []):
                places.append(Place(town["code"], alias, "township", county.code))
            for village in town.get("villages", []):
                places.append(Place(village["code"], village["name"], "village", town["code"]))
        return cls(county=county, places=places)

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    def townships(self) -> list[Place]:
        seen: dict[str, Place] = {}
        for p in self.places:
            if p.level == "township" and p.code not in seen:
                seen[p.code] = p
        return list(seen.values())

    def find(self, text: str) -> list[PlaceMatch]:
        """Longest non-overlapping place names, left to right."""
        matches: list[PlaceMatch] = []
        index = self._index
        end = 0
        for i in candidate_starts(text, self._prefix_keys):
            if i < end:
                continue
            for name, cands in index[text[i : i + 2]]:
                if text.startswith(name, i):
                    matches.append(PlaceMatch(i, i + len(name), name, cands))
                    end = i + len(name)
                    break
        return matches

    def resolve(self, matches: list[PlaceMatch]) -> Location:
        """Pick the township/village of the county (village → its township) and the places outside it."""
        mentioned = {c.code for m in matches for c in m.candidates}
        village = _first(matches, "village", mentioned)
        township = _first(matches, "township", mentioned)
        if village is not None and (township is None or village.parent_code in mentioned):
            township = self._by_code.get(village.parent_code or "") or township
        elif village is not None and township is not None and village.parent_code != township.code:
            village = None  # a village of another township than the one named: trust the township
        county_named = self.county.code in mentioned or any(c.startswith(self.county.code) for c in mentioned)
        outside = _outside_places(matches, self.county.code)
        county_code = self.county.code if (county_named or township is not None) else None
        return Location(
            county_code=county_code,
            township_code=township.code if township else None,
            township_name=self._by_code[township.code].name if township else None,
            village_code=village.code if village else None,
            village_name=village.name if village else None,
            outside=outside,
        )


def _names_for(place: Place, *, home: Place) -> list[str]:
    """Surface forms: the full name, the county's short form ("将乐"), and provinces without 省/市 ("北京")."""
    names = [place.name] if len(place.name) >= 2 else []
    is_short = place.level in ("county", "city") and len(place.name) < _SHORT_NAME_MIN
    if is_short and place.code != home.code and not home.code.startswith(place.code):
        names = []
    if place.code == home.code and len(place.name) >= 3:
        names.append(place.name[:-1])
    if place.level == "province":
        for suffix in _PROVINCE_SUFFIXES:
            if place.name.endswith(suffix) and len(place.name) - len(suffix) >= 2:
                names.append(place.name[: -len(suffix)])
                break
    return names


def _first(matches: list[PlaceMatch], level: str, mentioned: set[str]) -> Place | None:
    """First place of a level, preferring a candidate whose parent is also mentioned."""
    for m in matches:
        cands = [c for c in m.candidates if c.level == level]
        if cands:
            with_parent = [c for c in cands if c.parent_code in mentioned]
            return (with_parent or cands)[0]
    return None


def _outside_places(matches: list[PlaceMatch], county_code: str) -> tuple[Place, ...]:
    home_prefixes = (county_code[:2], county_code[:4], county_code)
    out: dict[str, Place] = {}
    for m in matches:
        cands = [c for c in m.candidates if c.level in ("province", "city", "county")]
        if not cands or any(c.code in home_prefixes or c.code.startswith(county_code) for c in m.candidates):
            continue
        best = cands[0]
        out.setdefault(best.code, best)
    return tuple(out.values())


def _national_places(tsv: str) -> list[Place]:
    places: list[Place] = []
    for line in tsv.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name, level = line.split("\t")[:3]
        parent = code[:2] if level == "city" else code[:4] if level == "county" else None
        places.append(Place(code, name, level, parent))
    return places


def data_path(*parts: str) -> Path:
    """Path of a file in the package's data folder (works from a source tree and an installed wheel)."""
    return Path(str(resources.files("xinfang").joinpath("data", *parts)))


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The demo county plus national divisions shipped in src/xinfang/data/geo (built once, on first call)."""
    return Gazetteer.from_file(data_path("geo", "demo_county.json"), data_path("geo", "divisions_cn.tsv"))
