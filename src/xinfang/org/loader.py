"""Reading the organisation from the project's data files (departments.yaml and a county gazetteer JSON)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xinfang.cases.enums import OrgKind
from xinfang.org.service import OrgSpec

DATA = resources.files("xinfang") / "data"


def default_departments_file() -> Path:
    return Path(str(DATA / "departments.yaml"))


def default_county_file() -> Path:
    return Path(str(DATA / "geo" / "demo_county.json"))


def read_county(path: Path | None = None) -> dict[str, Any]:
    return json.loads((path or default_county_file()).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def org_specs(departments_file: Path | None = None, county_file: Path | None = None) -> list[OrgSpec]:
    """Bureau and departments first, then the county, its townships and their villages."""
    deps = yaml.safe_load((departments_file or default_departments_file()).read_text(encoding="utf-8"))
    specs = [
        OrgSpec(code=d["code"], name=d["name"], kind=OrgKind(d["kind"]), short_name=d.get("short"))
        for d in deps["departments"]
    ]
    county = read_county(county_file)
    specs.append(OrgSpec(code=county["county"]["code"], name=county["county"]["name"], kind=OrgKind.COUNTY))
    for t in county["townships"]:
        specs.append(
            OrgSpec(
                code=t["code"],
                name=t["name"],
                kind=OrgKind.TOWNSHIP,
                short_name=t["name"],
                lng=t.get("lng"),
                lat=t.get("lat"),
                population=t.get("population"),
                aliases=tuple(t.get("aliases") or ()),
            )
        )
        for v in t.get("villages", []):
            specs.append(
                OrgSpec(
                    code=v["code"],
                    name=v["name"],
                    kind=OrgKind.VILLAGE,
                    parent_code=t["code"],
                    lng=v.get("lng"),
                    lat=v.get("lat"),
                    population=v.get("population"),
                )
            )
    return specs
