"""Departments a matter can be routed to: county departments from departments.yaml plus township governments.

Township governments have no entry in departments.yaml; their code is the township's 9-digit division code
(属地管理), and their name is "<township>人民政府".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from xinfang.errors import InvalidInput
from xinfang.text.gazetteer import Gazetteer, data_path


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    kind: str
    short: str | None = None


def parse_departments(data: object) -> dict[str, Department]:
    """Validate the YAML structure ({departments: [{code, name, kind, short?}]})."""
    items = data.get("departments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InvalidInput("departments.yaml: 缺少 departments 列表", code="departments.invalid")
    out: dict[str, Department] = {}
    for item in items:
        code, name = str(item.get("code", "")).strip(), str(item.get("name", "")).strip()
        if not code or not name:
            raise InvalidInput(
                f"departments.yaml: 部门缺少 code 或 name: {item!r}", code="departments.invalid"
            )
        if code in out:
            raise InvalidInput(f"departments.yaml: 部门代码重复: {code}", code="departments.duplicate")
        out[code] = Department(code, name, str(item.get("kind", "department")), item.get("short"))
    return out


def load_departments(path: Path | str) -> dict[str, Department]:
    return parse_departments(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def with_townships(departments: dict[str, Department], gazetteer: Gazetteer) -> dict[str, Department]:
    """County departments plus one government per township of the gazetteer's county."""
    out = dict(departments)
    for town in gazetteer.townships():
        out.setdefault(town.code, Department(town.code, f"{town.name}人民政府", "township"))
    return out


@lru_cache(maxsize=1)
def default_departments() -> dict[str, Department]:
    return load_departments(data_path("departments.yaml"))
