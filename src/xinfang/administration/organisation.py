"""Loading a real county's organisation — departments, townships, villages — from a file, and writing it back out.

`xinfang org import FILE` / `xinfang org export --out FILE`. The file is what an office keeps anyway: a workbook
(XLSX) with two sheets, or the same content as YAML (see docs/manual/operations.md, "载入本县组织机构", and the
template src/xinfang/data/samples/organisation_template.xlsx, also written by `xinfang org template`):

    单位  代码 | 名称 | 简称 | 类型(信访局 / 部门)
    区划  区划代码 | 名称 | 级别(县 / 乡镇 / 村) | 上级代码 | 人口 | 经度 | 纬度 | 别名

A CSV holds one of the two tables (told apart by its columns). The 区划 table has exactly one 县 row: the county's
6-digit code. Townships have 9-digit codes (a 12-digit code ending in 000, as the statistics bureau writes it, is
accepted and shortened) beginning with the county's code; villages and communities have 12-digit codes beginning
with their township's 9 digits, so the township is their parent (上级代码 may be left empty; if given it must agree).

Why all or nothing, with every error named by sheet, row and column: a half-loaded organisation would route
petitions to townships that do not exist yet. Why idempotent (create or update by code, never delete): users,
petitions and rules refer to units by code, so a re-import of the same file changes nothing and a corrected file
changes only what differs. Units missing from the file are kept and counted, not removed.

The dispatch engine reads townships, villages and aliases from the database on its next request
(org.geography, dispatch.engine), so place recognition follows an import without a restart.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind
from xinfang.errors import InvalidInput
from xinfang.intake.files import read_table
from xinfang.intake.report import FileImportReport
from xinfang.org.geography import national_names
from xinfang.org.models import OrgUnit
from xinfang.org.service import OrgSpec, upsert_org_units
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require

FORMAT = 1
UNITS_SHEET, DIVISIONS_SHEET, README_SHEET = "单位", "区划", "说明"
UNIT_COLUMNS = ("代码", "名称", "简称", "类型")
DIVISION_COLUMNS = ("区划代码", "名称", "级别", "上级代码", "人口", "经度", "纬度", "别名")
# Accepted header spellings -> field. Chinese headers are what the template writes; the English ones are the YAML keys.
_UNIT_HEADERS = {
    "代码": "code", "单位代码": "code", "code": "code",
    "名称": "name", "单位名称": "name", "name": "name",
    "简称": "short", "short": "short",
    "类型": "kind", "单位类型": "kind", "kind": "kind",
}  # fmt: skip
_DIVISION_HEADERS = {
    "区划代码": "code", "代码": "code", "code": "code",
    "名称": "name", "区划名称": "name", "name": "name",
    "级别": "level", "层级": "level", "level": "level",
    "上级代码": "parent", "上级区划代码": "parent", "parent": "parent",
    "人口": "population", "户籍人口": "population", "常住人口": "population", "population": "population",
    "经度": "lng", "lng": "lng",
    "纬度": "lat", "lat": "lat",
    "别名": "aliases", "曾用名": "aliases", "aliases": "aliases",
}  # fmt: skip
_KINDS = {
    "信访局": OrgKind.BUREAU, "bureau": OrgKind.BUREAU,
    "部门": OrgKind.DEPARTMENT, "department": OrgKind.DEPARTMENT, "": OrgKind.DEPARTMENT,
}  # fmt: skip
_LEVELS = {
    "县": "county", "区": "county", "县级市": "county", "旗": "county", "county": "county",
    "乡镇": "township", "乡": "township", "镇": "township", "街道": "township", "township": "township",
    "村": "village", "社区": "village", "村(社区)": "village", "村（社区）": "village", "居委会": "village",
    "village": "village",
}  # fmt: skip
_LEVEL_WORDS = {"county": "县", "township": "乡镇", "village": "村"}
_UNIT_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,31}")
_ALIAS_SPLIT = re.compile(r"[、,，;；\s]+")
_YAML_SECTIONS = ("units", "divisions", "county")
_LNG, _LAT = (73.0, 136.0), (3.0, 54.0)  # China's extent: a swapped or mistyped coordinate falls outside


@dataclass(frozen=True)
class Issue:
    sheet: str
    row: int | None  # sheet row (header = 1) or YAML item number; None for the whole sheet
    column: str | None
    message: str

    def text(self) -> str:
        word = "项" if self.sheet in _YAML_SECTIONS else "行"
        where = self.sheet + (f"第{self.row}{word}" if self.row is not None else "")
        return f"{where}{f'【{self.column}】' if self.column else ''}:{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return vars(self) | {"text": self.text()}


@dataclass(kw_only=True)
class OrgImportReport(FileImportReport[Issue]):
    units: int = 0
    townships: int = 0
    villages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0
    county: str | None = None

    def figures(self) -> dict[str, Any]:
        return {
            "county": self.county,
            "units": self.units,
            "townships": self.townships,
            "villages": self.villages,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "not_in_file": self.not_in_file,
        }

    def done_line(self) -> str:
        return (
            f"导入完成:单位 {self.units} 个,乡镇 {self.townships} 个,村(社区){self.villages} 个;"
            f"新增 {self.created},更新 {self.updated},未变 {self.unchanged}"
            + (f";数据库中另有 {self.not_in_file} 个不在文件中,保持不变" if self.not_in_file else "")
        )


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    sheet: str
    number: int | None
    values: dict[str, str]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows_of(
    headers: dict[str, str], sheet: str, items: list[tuple[int | None, dict[str, Any]]]
) -> list[_Row]:
    out = []
    for number, raw in items:
        values: dict[str, str] = {}
        for key, value in raw.items():
            name = headers.get(str(key).strip())
            if name is not None and name not in values:
                values[name] = "、".join(_text(v) for v in value) if isinstance(value, list) else _text(value)
        out.append(_Row(sheet, number, values))
    return out


def _table_rows(
    data: bytes, filename: str, sheet: str | None
) -> tuple[tuple[str, ...], list[tuple[int | None, dict[str, Any]]]] | None:
    try:
        table = read_table(data, filename=filename, sheet=sheet)
    except InvalidInput as exc:
        if exc.code == "intake.no_sheet":
            return None
        raise
    return table.headers, [(n, dict(r)) for n, r in table.numbered_rows()]


def read_file(data: bytes, filename: str) -> tuple[list[_Row], list[_Row], list[Issue]]:
    """(unit rows, division rows, issues with the file's shape) from XLSX, CSV or YAML bytes."""
    lower = filename.lower()
    issues: list[Issue] = []
    if lower.endswith((".yaml", ".yml")):
        try:
            doc = yaml.safe_load(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InvalidInput(f"YAML 文件无法读取: {exc}", code="org.bad_yaml") from None
        if not isinstance(doc, dict):
            raise InvalidInput("YAML 文件应为映射,含 units 和 divisions", code="org.bad_yaml")
        units = [(i, u) for i, u in enumerate(doc.get("units") or [], start=1) if isinstance(u, dict)]
        divisions = [(i, d) for i, d in enumerate(doc.get("divisions") or [], start=1) if isinstance(d, dict)]
        county = doc.get("county")
        county_rows = (
            _rows_of(_DIVISION_HEADERS, "county", [(None, {**county, "level": "county"})])
            if isinstance(county, dict)
            else []
        )
        return (
            _rows_of(_UNIT_HEADERS, "units", units),
            county_rows + _rows_of(_DIVISION_HEADERS, "divisions", divisions),
            issues,
        )
    if lower.endswith(".csv"):
        found = _table_rows(data, filename, None)
        assert found is not None
        headers, items = found
        fields = {_DIVISION_HEADERS.get(h) for h in headers}
        if "level" in fields:
            return [], _rows_of(_DIVISION_HEADERS, DIVISIONS_SHEET, items), issues
        return _rows_of(_UNIT_HEADERS, UNITS_SHEET, items), [], issues
    units_found = _table_rows(data, filename, UNITS_SHEET)
    divisions_found = _table_rows(data, filename, DIVISIONS_SHEET)
    if units_found is None and divisions_found is None:
        raise InvalidInput(f"工作簿中没有“{UNITS_SHEET}”或“{DIVISIONS_SHEET}”工作表", code="org.no_sheets")
    for sheet, found, headers, required in (
        (UNITS_SHEET, units_found, _UNIT_HEADERS, ("code", "name")),
        (DIVISIONS_SHEET, divisions_found, _DIVISION_HEADERS, ("code", "name", "level")),
    ):
        if found is not None:
            present = {headers.get(h) for h in found[0]}
            for name in required:
                if name not in present:
                    column = next(k for k, v in headers.items() if v == name)
                    issues.append(Issue(sheet, 1, column, "缺少该列"))
    return (
        _rows_of(_UNIT_HEADERS, UNITS_SHEET, units_found[1]) if units_found else [],
        _rows_of(_DIVISION_HEADERS, DIVISIONS_SHEET, divisions_found[1]) if divisions_found else [],
        issues,
    )


# --- validation -------------------------------------------------------------------------------------------------


def _number(row: _Row, key: str, column: str, issues: list[Issue], *, integer: bool) -> float | int | None:
    raw = row.values.get(key, "").replace(",", "").replace("\uff0c", "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        issues.append(Issue(row.sheet, row.number, column, "应为数字"))
        return None
    if integer:
        if not value.is_integer() or value < 0:
            issues.append(Issue(row.sheet, row.number, column, "应为不小于 0 的整数"))
            return None
        return int(value)
    return value


def _division_code(raw: str, level: str) -> str | None:
    """The system's code for a division: 6 digits (county), 9 (township), 12 (village); None if malformed."""
    if not raw.isdigit():
        return None
    if level == "county":
        return raw if len(raw) == 6 else raw[:6] if len(raw) == 12 and raw.endswith("000000") else None
    if level == "township":
        return raw if len(raw) == 9 else raw[:9] if len(raw) == 12 and raw.endswith("000") else None
    return raw if len(raw) == 12 else None


def validate(
    session: Session, units: list[_Row], divisions: list[_Row], issues: list[Issue], warnings: list[Issue]
) -> tuple[list[OrgSpec], str | None]:
    """The OrgSpecs to upsert (units, then townships, then villages) and the county code; problems go to `issues`."""
    existing = {u.code: u for u in session.execute(select(OrgUnit)).scalars()}
    specs: list[OrgSpec] = []
    seen: dict[str, _Row] = {}

    def duplicate(code: str, row: _Row, column: str) -> bool:
        if code in seen:
            first = seen[code]
            issues.append(
                Issue(row.sheet, row.number, column, f"代码 {code} 重复(与{first.sheet}第{first.number}行)")
            )
            return True
        seen[code] = row
        return False

    def kind_clash(code: str, kind: OrgKind, row: _Row, column: str) -> bool:
        unit = existing.get(code)
        if unit is not None and unit.kind != kind.value:
            issues.append(
                Issue(
                    row.sheet,
                    row.number,
                    column,
                    f"代码 {code} 在系统中已是另一类单位({unit.kind}),不能改变类型",
                )
            )
            return True
        return False

    bureaus = []
    for row in units:
        v = row.values
        code, name, short = v.get("code", ""), v.get("name", ""), v.get("short", "") or None
        kind = _KINDS.get(v.get("kind", "").lower())
        ok = True
        if not _UNIT_CODE.fullmatch(code):
            issues.append(
                Issue(
                    row.sheet,
                    row.number,
                    "代码",
                    "单位代码应以字母开头,由字母、数字、下划线、点或横线组成(至多 32 个字符)",
                )
            )
            ok = False
        if not name or len(name) > 100:
            issues.append(Issue(row.sheet, row.number, "名称", "名称不能为空,且不超过 100 个字"))
            ok = False
        if short is not None and len(short) > 50:
            issues.append(Issue(row.sheet, row.number, "简称", "简称不超过 50 个字"))
            ok = False
        if kind is None:
            issues.append(Issue(row.sheet, row.number, "类型", "类型应为“信访局”或“部门”"))
            ok = False
        if not ok or duplicate(code, row, "代码") or kind_clash(code, kind, row, "代码"):  # type: ignore[arg-type]
            continue
        if kind == OrgKind.BUREAU:
            bureaus.append(code)
        specs.append(OrgSpec(code=code, name=name, kind=kind, short_name=short))  # type: ignore[arg-type]
    other_bureaus = {c for c, u in existing.items() if u.kind == OrgKind.BUREAU.value} - set(bureaus)
    if len(bureaus) + len(other_bureaus) > 1:
        issues.append(
            Issue(
                units[0].sheet if units else UNITS_SHEET,
                None,
                "类型",
                f"只能有一个信访局(文件中 {len(bureaus)} 个,系统中另有 {len(other_bureaus)} 个)",
            )
        )

    county_rows = [r for r in divisions if _LEVELS.get(r.values.get("level", "")) == "county"]
    county: str | None = None
    if divisions and len(county_rows) != 1:
        sheet = divisions[0].sheet
        issues.append(
            Issue(sheet, None, "级别", f"须有且只有一行级别为“县”的本县记录(现有 {len(county_rows)} 行)")
        )
    if len(county_rows) == 1:
        row = county_rows[0]
        county = _division_code(row.values.get("code", ""), "county")
        if county is None:
            issues.append(Issue(row.sheet, row.number, "区划代码", "县的区划代码应为 6 位数字"))
        else:
            known = national_names().get(county)
            if known and row.values.get("name") and row.values["name"] != known:
                warnings.append(Issue(row.sheet, row.number, "名称", f"全国区划表中 {county} 为“{known}”"))
            others = sorted(
                {
                    c[:6]
                    for c, u in existing.items()
                    if u.kind in (OrgKind.TOWNSHIP.value, OrgKind.COUNTY.value)
                }
                - {county}
            )
            if others:
                issues.append(
                    Issue(
                        row.sheet,
                        row.number,
                        "区划代码",
                        f"系统中已有其他县({'、'.join(others)})的乡镇,一套系统只载入一个县",
                    )
                )
            elif not duplicate(county, row, "区划代码") and not kind_clash(
                county, OrgKind.COUNTY, row, "区划代码"
            ):
                # The county's own name is kept as a unit: the shipped national list names provinces and
                # prefectures only, and reports must name the county that was imported.
                spec = _division_spec(row, county, OrgKind.COUNTY, None, issues)
                if spec is not None:
                    specs.append(spec)

    townships: dict[str, str] = {c: u.name for c, u in existing.items() if u.kind == OrgKind.TOWNSHIP.value}
    town_rows: list[tuple[_Row, str]] = []
    village_rows: list[tuple[_Row, str]] = []
    for row in divisions:
        v = row.values
        level = _LEVELS.get(v.get("level", ""))
        if level == "county":
            continue
        if level is None:
            issues.append(
                Issue(row.sheet, row.number, "级别", "级别应为“县”“乡镇”或“村”(也可写乡、镇、街道、社区)")
            )
            continue
        code = _division_code(v.get("code", ""), level)
        if code is None:
            digits = "9 位(或以 000 结尾的 12 位)" if level == "township" else "12 位"
            issues.append(
                Issue(row.sheet, row.number, "区划代码", f"{_LEVEL_WORDS[level]}的区划代码应为 {digits}数字")
            )
            continue
        if county is not None and not code.startswith(county):
            issues.append(Issue(row.sheet, row.number, "区划代码", f"{code} 不在本县({county})之下"))
            continue
        given = v.get("parent", "")
        if level == "township" and given and county is not None and _division_code(given, "county") != county:
            issues.append(
                Issue(row.sheet, row.number, "上级代码", f"乡镇的上级代码应为本县代码({county})或留空")
            )
            continue
        if duplicate(code, row, "区划代码"):
            continue
        (town_rows if level == "township" else village_rows).append((row, code))
        if level == "township":
            townships[code] = v.get("name", "")

    names: dict[str, str] = {}
    for row, code in town_rows:
        spec = _division_spec(row, code, OrgKind.TOWNSHIP, None, issues)
        if spec is None or kind_clash(code, OrgKind.TOWNSHIP, row, "区划代码"):
            continue
        if spec.name in names:
            issues.append(
                Issue(row.sheet, row.number, "名称", f"乡镇名称“{spec.name}”重复({names[spec.name]})")
            )
            continue
        names[spec.name] = code
        specs.append(spec)
    for row, code in town_rows:
        for alias in _aliases(row):
            if alias in names and names[alias] != code:
                issues.append(Issue(row.sheet, row.number, "别名", f"别名“{alias}”是另一个乡镇的名称"))
    villages_seen: dict[tuple[str, str], str] = {}
    for row, code in village_rows:
        parent = code[:9]
        given = row.values.get("parent", "")
        if given and _division_code(given, "township") != parent:
            issues.append(
                Issue(row.sheet, row.number, "上级代码", f"村的上级代码应为其区划代码的前 9 位({parent})")
            )
            continue
        if parent not in townships:
            issues.append(
                Issue(row.sheet, row.number, "区划代码", f"所属乡镇 {parent} 不存在(文件和系统中都没有)")
            )
            continue
        spec = _division_spec(row, code, OrgKind.VILLAGE, parent, issues)
        if spec is None or kind_clash(code, OrgKind.VILLAGE, row, "区划代码"):
            continue
        if (parent, spec.name) in villages_seen:
            issues.append(
                Issue(
                    row.sheet,
                    row.number,
                    "名称",
                    f"同一乡镇下村名“{spec.name}”重复({villages_seen[(parent, spec.name)]})",
                )
            )
            continue
        villages_seen[(parent, spec.name)] = code
        specs.append(spec)
    return specs, county


def _aliases(row: _Row) -> list[str]:
    return [a for a in _ALIAS_SPLIT.split(row.values.get("aliases", "")) if a]


def _division_spec(
    row: _Row, code: str, kind: OrgKind, parent: str | None, issues: list[Issue]
) -> OrgSpec | None:
    before = len(issues)
    name = row.values.get("name", "")
    if not name or len(name) > 100:
        issues.append(Issue(row.sheet, row.number, "名称", "名称不能为空,且不超过 100 个字"))
    population = _number(row, "population", "人口", issues, integer=True)
    lng = _number(row, "lng", "经度", issues, integer=False)
    lat = _number(row, "lat", "纬度", issues, integer=False)
    if (lng is None) != (lat is None):
        issues.append(
            Issue(row.sheet, row.number, "经度" if lng is None else "纬度", "经度和纬度须同时填写或同时留空")
        )
    elif (lng is not None and lat is not None) and not (
        _LNG[0] <= lng <= _LNG[1] and _LAT[0] <= lat <= _LAT[1]
    ):
        issues.append(
            Issue(row.sheet, row.number, "经度", "经纬度不在中国范围内(经度 73~136,纬度 3~54),是否填反?")
        )
    aliases = tuple(_aliases(row))
    if kind == OrgKind.VILLAGE and aliases:
        issues.append(Issue(row.sheet, row.number, "别名", "只有乡镇可以填写别名"))
    if any(len(a) < 2 or len(a) > 20 for a in aliases):
        issues.append(Issue(row.sheet, row.number, "别名", "每个别名应为 2~20 个字"))
    if len(issues) > before:
        return None
    return OrgSpec(
        code=code,
        name=name,
        kind=kind,
        parent_code=parent,
        short_name=name if kind == OrgKind.TOWNSHIP else None,
        lng=float(lng) if lng is not None else None,
        lat=float(lat) if lat is not None else None,
        population=int(population) if population is not None else None,
        aliases=aliases,
    )


# --- import -----------------------------------------------------------------------------------------------------


def _state(unit: OrgUnit) -> tuple[Any, ...]:
    return (
        unit.name,
        unit.short_name,
        unit.kind,
        unit.parent.code if unit.parent else None,
        unit.lng,
        unit.lat,
        unit.population,
        tuple(unit.aliases or ()),
    )


def _spec_state(spec: OrgSpec) -> tuple[Any, ...]:
    return (
        spec.name,
        spec.short_name,
        spec.kind.value,
        spec.parent_code,
        spec.lng,
        spec.lat,
        spec.population,
        tuple(spec.aliases),
    )


def import_organisation(
    session: Session, *, actor: Actor, data: bytes, filename: str, now: datetime
) -> OrgImportReport:
    """Validate the whole file, then create or update every unit and division in the caller's transaction (nothing
    is written when any row is wrong); audited with the counts."""
    require(actor, "org.manage")
    report = OrgImportReport(filename=filename)
    units, divisions, issues = read_file(data, filename)
    if not units and not divisions and not issues:
        issues.append(Issue(filename, None, None, "文件中没有单位或区划"))
    specs, county = validate(session, units, divisions, issues, report.warnings)
    report.errors, report.county = issues, county
    if issues:
        return report
    existing = {u.code: u for u in session.execute(select(OrgUnit)).scalars()}
    changed = []
    for spec in specs:
        unit = existing.get(spec.code)
        if unit is None:
            report.created += 1
            changed.append(spec)
        elif _state(unit) != _spec_state(spec):
            report.updated += 1
            changed.append(spec)
        else:
            report.unchanged += 1
    upsert_org_units(session, changed)
    in_file = {s.code for s in specs}
    report.not_in_file = sum(1 for code in existing if code not in in_file)
    report.units = sum(1 for s in specs if s.kind in (OrgKind.BUREAU, OrgKind.DEPARTMENT))
    report.townships = sum(1 for s in specs if s.kind == OrgKind.TOWNSHIP)
    report.villages = sum(1 for s in specs if s.kind == OrgKind.VILLAGE)
    audit.record(
        session,
        actor=actor,
        action="org.import",
        at=now,
        object_type="organisation",
        object_id=county,
        details={
            k: getattr(report, k)
            for k in (
                "filename",
                "units",
                "townships",
                "villages",
                "created",
                "updated",
                "unchanged",
                "not_in_file",
            )
        },
    )
    return report


# --- export -----------------------------------------------------------------------------------------------------


def export_organisation(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The organisation in the YAML shape `import_organisation` reads (format, county, units, divisions)."""
    require(actor, "org.read")
    units = list(session.execute(select(OrgUnit).order_by(OrgUnit.code)).scalars())
    towns = [u for u in units if u.kind == OrgKind.TOWNSHIP.value]
    county = None
    counties = [u for u in units if u.kind == OrgKind.COUNTY.value]
    if counties:
        county = {"code": counties[0].code, "name": counties[0].name}
    elif towns:
        code = Counter(t.code[:6] for t in towns).most_common(1)[0][0]
        county = {"code": code, "name": national_names().get(code, code)}
    villages: dict[int | None, list[OrgUnit]] = {}
    for v in units:
        if v.kind == OrgKind.VILLAGE.value:
            villages.setdefault(v.parent_id, []).append(v)
    divisions: list[dict[str, Any]] = []
    for town in towns:
        divisions.append(_division_dict(town, "乡镇"))
        divisions += [_division_dict(v, "村") for v in villages.get(town.id, [])]
    return {
        "format": FORMAT,
        "county": county,
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "short": u.short_name,
                "kind": "信访局" if u.kind == OrgKind.BUREAU.value else "部门",
            }
            for u in units
            if u.kind in (OrgKind.BUREAU.value, OrgKind.DEPARTMENT.value)
        ],
        "divisions": divisions,
    }


def _division_dict(unit: OrgUnit, level: str) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": level,
        "parent": unit.parent.code if unit.parent else None,
        "population": unit.population,
        "lng": unit.lng,
        "lat": unit.lat,
        "aliases": list(unit.aliases or []),
    }


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def to_xlsx(data: dict[str, Any], *, readme: bool = False) -> bytes:
    """The workbook: 单位 and 区划 (codes written as text, so that Excel keeps every digit), optionally 说明."""
    from openpyxl import Workbook

    book = Workbook()
    units_sheet = book.active
    units_sheet.title = UNITS_SHEET
    units_sheet.append(list(UNIT_COLUMNS))
    for u in data["units"]:
        units_sheet.append([u["code"], u["name"], u.get("short") or "", u["kind"]])
    divisions_sheet = book.create_sheet(DIVISIONS_SHEET)
    divisions_sheet.append(list(DIVISION_COLUMNS))
    county = data.get("county")
    if county:
        divisions_sheet.append([county["code"], county["name"], "县", "", None, None, None, ""])
    for d in data["divisions"]:
        divisions_sheet.append(
            [
                d["code"],
                d["name"],
                d["level"],
                d.get("parent") or (county["code"] if county and d["level"] == "乡镇" else ""),
                d.get("population"),
                d.get("lng"),
                d.get("lat"),
                "、".join(d.get("aliases") or []),
            ]
        )
    for sheet in (units_sheet, divisions_sheet):
        for column in ("A", "D"):
            for cell in sheet[column]:
                cell.number_format = "@"
        sheet.column_dimensions["B"].width = 28
        sheet.column_dimensions["A"].width = 16
    if readme:
        notes = book.create_sheet(README_SHEET, 0)
        for line in TEMPLATE_NOTES:
            notes.append([line])
        notes.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TEMPLATE_NOTES = (
    "本县组织机构导入模板(xinfang org import 文件名.xlsx)。以下示例行请替换为本县的真实数据。",
    "【单位】县信访局和各县直部门(乡镇人民政府不必填写,由【区划】中的乡镇自动生成)。",
    "  代码:字母开头,字母、数字、下划线,如 xfj、rsj。职责清单、用户和转送都用它,确定后不要更改;"
    "沿用系统自带职责清单的代码(见 xinfang rules export)可直接使用自带的关键词库。",
    "  类型:信访局(只能一个)或部门。简称可空。",
    "【区划】第一行为本县(级别“县”,6 位代码),其后为乡镇(9 位代码,或以 000 结尾的 12 位统计用区划代码)和村、社区"
    "(12 位代码,前 9 位即所属乡镇)。",
    "  上级代码可空;人口为整数;经度、纬度用于热力图中村的位置;别名为乡镇的曾用名(如“光明乡”),以顿号分隔。",
    "导入是全有或全无的:任何一行有误则整份文件不导入,并逐行报告;按代码新增或更新,不会删除文件中没有的单位。",
    "重复导入同一文件不会产生任何变化。导出当前数据:xinfang org export --out 组织机构.xlsx。",
)


def template() -> dict[str, Any]:
    """The example the template shows: the demo county's real township codes, with two departments and villages."""
    return {
        "format": FORMAT,
        "county": {"code": "350428", "name": "将乐县"},
        "units": [
            {"code": "xfj", "name": "县信访局", "short": None, "kind": "信访局"},
            {"code": "rsj", "name": "县人力资源和社会保障局", "short": "人社局", "kind": "部门"},
            {"code": "zjj", "name": "县住房和城乡建设局", "short": "住建局", "kind": "部门"},
        ],
        "divisions": [
            {"code": "350428100", "name": "古镛镇", "level": "乡镇", "parent": "350428", "population": 57203,
             "lng": 117.48931, "lat": 26.76386, "aliases": []},
            {"code": "350428100201", "name": "示例村", "level": "村", "parent": "350428100", "population": 2298,
             "lng": 117.39407, "lat": 26.6977, "aliases": []},
            {"code": "350428106", "name": "光明镇", "level": "乡镇", "parent": "350428", "population": 23329,
             "lng": None, "lat": None, "aliases": ["光明乡"]},
            {"code": "350428106201", "name": "示例社区", "level": "社区", "parent": None, "population": None,
             "lng": None, "lat": None, "aliases": []},
        ],
    }  # fmt: skip


def write_export(data: dict[str, Any], out: Path, *, readme: bool = False) -> None:
    """Write as XLSX or YAML, by the file name."""
    if out.suffix.lower() in (".yaml", ".yml"):
        out.write_text(to_yaml(data), encoding="utf-8")
    elif out.suffix.lower() == ".xlsx":
        out.write_bytes(to_xlsx(data, readme=readme))
    else:
        raise InvalidInput("导出文件应以 .xlsx 或 .yaml 结尾", code="org.export_format")
