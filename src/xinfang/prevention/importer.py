"""Bulk import of the townships' ledger sheets (XLSX or CSV): all rows or none, reported row by row, idempotent.

The sheet is read by intake.files.read_table (encoding detection, zip-bomb limits) and its headers are mapped in
the intake mapping style: each target field lists the headers townships commonly use, first present wins, compared
without spaces, brackets or case. Places are resolved with the organisation's gazetteer (intake.importer
.division_names: 乡镇 + 村). Errors name the row and the column, never the cell's content. Contact columns (电话,
身份证) are ignored: the ledger keeps names only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from xinfang.clock import local_date
from xinfang.errors import InvalidInput
from xinfang.intake.files import CellValue, read_table
from xinfang.intake.importer import division_names
from xinfang.intake.mapping import RowError, parse_datetime, resolve_division
from xinfang.intake.report import RowsImportReport
from xinfang.prevention.ledger import STATUS_BY_LABEL, LedgerEntryIn, create_entry, split_parties
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require

LEDGER_LABELS: dict[str, str] = {
    "title": "纠纷名称",
    "summary": "基本情况",
    "kind": "纠纷类型",
    "risk_level": "风险等级",
    "parties": "当事人",
    "township": "乡镇",
    "village": "村(社区)",
    "division_code": "区划代码",
    "responsible_person": "责任人",
    "screened_on": "排查日期",
    "due_on": "化解期限",
    "status": "化解情况",
    "outcome": "化解结果",
}

LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("纠纷名称", "矛盾纠纷名称", "事项名称", "标题", "纠纷事项", "事项"),
    "summary": ("基本情况", "简要情况", "主要情况", "纠纷概况", "情况简介", "内容"),
    "kind": ("纠纷类型", "类型", "类别", "纠纷类别"),
    "risk_level": ("风险等级", "风险级别", "等级"),
    "parties": ("当事人", "当事人姓名", "涉及人员", "双方当事人"),
    "township": ("乡镇", "所属乡镇", "乡镇(街道)", "乡镇街道"),
    "village": ("村(社区)", "村", "村居", "所属村", "村(居)"),
    "division_code": ("区划代码", "行政区划代码"),
    "responsible_person": ("责任人", "包案责任人", "化解责任人", "包案领导"),
    "screened_on": ("排查日期", "排查时间", "发现时间", "登记日期"),
    "due_on": ("化解期限", "办结期限", "化解时限", "期限"),
    "status": ("化解情况", "化解状态", "状态", "进展情况"),
    "outcome": ("化解结果", "化解措施及结果", "处理结果", "备注"),
}
REQUIRED = ("title", "parties", "responsible_person", "screened_on", "due_on")


def _key(header: str) -> str:
    return re.sub(r"\s+", "", header).replace("（", "(").replace("）", ")").casefold()


def resolve_columns(
    headers: tuple[str, ...], columns: Mapping[str, tuple[str, ...]] = LEDGER_COLUMNS
) -> dict[str, str]:
    by_key = {_key(h): h for h in headers}
    resolved: dict[str, str] = {}
    for target, candidates in columns.items():
        for candidate in candidates:
            if _key(candidate) in by_key:
                resolved[target] = by_key[_key(candidate)]
                break
    return resolved


@dataclass(kw_only=True)
class LedgerImportReport(RowsImportReport[RowError]):
    """A township's ledger sheet, with the header that fed each field (sheets name their columns many ways)."""

    columns: dict[str, str] = field(default_factory=dict)

    warnings_in_json: ClassVar[bool] = False  # the ledger import refuses or takes a row, never half-takes it

    def figures(self) -> dict[str, Any]:
        return {**self.row_figures(), "columns": self.columns}

    def done_line(self) -> str:
        return f"导入完成:共 {self.rows_total} 行,新增 {self.rows_added} 条,已存在 {self.rows_existing} 条"


def _cell(row: Mapping[str, CellValue], columns: dict[str, str], target: str) -> CellValue:
    header = columns.get(target)
    value = row.get(header) if header else None
    if isinstance(value, str):
        value = value.strip() or None
    return value


def _error(number: int, target: str, columns: dict[str, str], what: str, code: str = "invalid") -> RowError:
    column = columns.get(target)
    where = f"(列“{column}”)" if column else ""
    return RowError(
        number, target, f"第{number}行: {LEDGER_LABELS.get(target, target)}{what}{where}", column, code
    )


def _date(
    number: int, row: Mapping[str, CellValue], columns: dict[str, str], target: str, errors: list[RowError]
) -> date | None:
    value = _cell(row, columns, target)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        errors.append(_error(number, target, columns, "无法识别的日期", "bad_date"))
        return None
    return local_date(parsed) if parsed else None


def parse_row(
    number: int, row: Mapping[str, CellValue], columns: dict[str, str], divisions: Mapping[str, str]
) -> tuple[LedgerEntryIn | None, dict[str, str], list[RowError]]:
    errors: list[RowError] = []
    for target in REQUIRED:
        if _cell(row, columns, target) is None:
            errors.append(_error(number, target, columns, "不能为空", "required"))
    code = _cell(row, columns, "division_code")
    place: str | None = str(code) if code else None
    if place is None:
        town = _cell(row, columns, "township")
        village = _cell(row, columns, "village")
        if town is None:
            errors.append(_error(number, "township", columns, "不能为空", "required"))
        else:
            town_code = resolve_division(str(town), divisions)
            village_code = _village(divisions, town_code, str(village)) if village and town_code else None
            place = village_code or town_code
            if place is None:
                errors.append(_error(number, "township", columns, "不是本县的乡镇", "unknown_place"))
            elif village and village_code is None:
                errors.append(_error(number, "village", columns, "不是该乡镇的村(社区)", "unknown_place"))
    screened_on = _date(number, row, columns, "screened_on", errors)
    due_on = _date(number, row, columns, "due_on", errors)
    extra: dict[str, str] = {}
    status_label = _cell(row, columns, "status")
    if status_label is not None:
        status = STATUS_BY_LABEL.get(str(status_label))
        if status is None:
            errors.append(_error(number, "status", columns, "须为化解中、已化解或未化解", "bad_status"))
        else:
            extra["status"] = status
    outcome = _cell(row, columns, "outcome")
    if outcome is not None:
        extra["outcome"] = str(outcome)[:5000]
    if errors:
        return None, extra, errors
    title = str(_cell(row, columns, "title"))
    payload = {
        "title": title[:200],
        "summary": str(_cell(row, columns, "summary") or title)[:5000],
        "kind": str(_cell(row, columns, "kind") or "其他")[:30],
        "risk_level": str(_cell(row, columns, "risk_level") or "低").replace("风险", "") or "低",
        "parties": split_parties(str(_cell(row, columns, "parties"))),
        "division_code": place,
        "responsible_person": str(_cell(row, columns, "responsible_person"))[:50],
        "screened_on": screened_on,
        "due_on": due_on,
    }
    try:
        return LedgerEntryIn.model_validate(payload), extra, []
    except ValidationError as exc:
        for e in exc.errors():
            loc = str(e["loc"][0]) if e["loc"] else "title"
            target = loc if loc in LEDGER_LABELS else "due_on"
            reason = str(e.get("msg", "")).removeprefix("Value error, ")
            # The message names the rule, not the cell value (names and text stay out of reports).
            errors.append(
                _error(
                    number, target, columns, f"不符合要求:{reason}" if "input" not in reason else "不符合要求"
                )
            )
        return None, extra, errors


def _village(divisions: Mapping[str, str], town_code: str, village: str) -> str | None:
    """The village's code within that township (names are ambiguous across townships)."""
    for name in (village, village + "村"):
        for key, code in divisions.items():
            if len(code) == 12 and code.startswith(town_code) and key.endswith(name):
                return code
    return None


def import_ledger(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    now: datetime,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    is_demo: bool = False,
) -> LedgerImportReport:
    require(actor, "prevention.write")
    kwargs: dict[str, Any] = {}
    if max_bytes:
        kwargs["max_bytes"] = max_bytes
    if max_rows:
        kwargs["max_rows"] = max_rows
    table = read_table(data, filename=filename, **kwargs)
    columns = resolve_columns(table.headers)
    if "title" not in columns:
        raise InvalidInput(
            f"找不到纠纷名称列(可识别的表头如:{'、'.join(LEDGER_COLUMNS['title'][:4])})",
            code="prevention.no_title_column",
        )
    report = LedgerImportReport(filename=filename, rows_total=len(table), columns=columns)
    divisions = division_names(session)
    parsed: list[tuple[int, LedgerEntryIn, dict[str, str]]] = []
    for number, row in table.numbered_rows():
        entry_in, extra, errors = parse_row(number, row, columns, divisions)
        if errors or entry_in is None:
            report.errors.extend(errors)
            continue
        if actor.township_code and entry_in.division_code[:9] != actor.township_code:
            report.errors.append(_error(number, "township", columns, "不是本乡镇", "other_township"))
            continue
        parsed.append((number, entry_in, extra))
    if report.errors:
        return report
    for _number, data_in, extra in parsed:
        entry, created = create_entry(
            session, actor=actor, data=data_in, now=now, source="import", is_demo=is_demo
        )
        report.count(created)
        if created and extra:
            entry.status = extra.get("status", entry.status)
            entry.outcome = extra.get("outcome")
            if entry.status != "open":
                entry.closed_on = local_date(now)
    audit.record(
        session,
        actor=actor,
        action="prevention.ledger.import",
        at=now,
        object_type="ledger_import",
        object_id=None,
        details={"rows": len(table), "added": report.rows_added},
    )
    return report
