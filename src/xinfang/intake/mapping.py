"""Map the columns of an import table onto PetitionIn, row by row, with errors a clerk can act on.

A ColumnMapping says which source headers feed which target field. Built-in profiles cover the headers
counties commonly use (`default`) and the 12345 hotline work-order export (`hotline12345`); a deployment can
define its own in YAML. parse_rows turns each row into a validated PetitionIn or into RowErrors that name the
row and the column but never repeat the cell's content (ID numbers and phones must not reach logs or screens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from xinfang.cases.enums import CHANNEL_BY_LABEL, Channel
from xinfang.cases.schemas import MAX_BODY, MAX_TITLE, PetitionIn
from xinfang.clock import ensure_aware
from xinfang.errors import InvalidInput
from xinfang.intake.files import CellValue, Table
from xinfang.intake.sources import SOURCE_PROFILES
from xinfang.text.ids import normalise_id_number, normalise_phone

# Target fields and their Chinese names (used in error messages).
FIELD_LABELS: dict[str, str] = {
    "title": "标题",
    "body": "内容",
    "received_at": "时间",
    "channel": "渠道",
    "external_id": "编号",
    "petitioner_name": "姓名",
    "petitioner_id_number": "身份证号码",
    "petitioner_phone": "联系电话",
    "petitioner_address": "信访人住址",
    "township": "乡镇",
    "division_code": "区划代码",
    "address": "地址",
    "lng": "经度",
    "lat": "纬度",
    "headcount": "人数",
    "category": "分类",
}

_DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title", "标题", "主题", "留言主题", "信访标题", "事项标题", "诉求标题", "工单标题"),
    "body": (
        "body",
        "content",
        "内容",
        "正文",
        "留言详情",
        "留言内容",
        "诉求内容",
        "信访内容",
        "反映内容",
        "来信内容",
        "主要内容",
        "事项内容",
        "工单内容",
    ),
    "received_at": (
        "received_at",
        "时间",
        "日期",
        "来信时间",
        "留言时间",
        "来电时间",
        "来访时间",
        "登记时间",
        "受理时间",
        "信访日期",
        "反映时间",
    ),
    "channel": ("channel", "渠道", "来源渠道", "信访形式", "信访方式", "来源"),
    "external_id": ("external_id", "编号", "留言编号", "工单编号", "信访件编号", "件号", "信件编号"),
    "petitioner_name": (
        "name",
        "petitioner_name",
        "姓名",
        "来电人",
        "留言用户",
        "信访人",
        "信访人姓名",
        "反映人",
    ),
    "petitioner_id_number": ("id_number", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "petitioner_phone": ("phone", "电话", "联系电话", "手机", "手机号码", "来电号码", "联系方式"),
    "petitioner_address": ("petitioner_address", "住址", "信访人住址", "家庭住址", "通讯地址"),
    "township": ("township", "乡镇", "所属乡镇", "乡镇街道", "所属乡镇街道", "乡镇(街道)", "所属乡镇(街道)"),
    "division_code": ("division_code", "区划代码", "行政区划代码"),
    "address": ("address", "地址", "详细地址", "问题发生地", "事发地址", "事发地点"),
    "lng": ("lng", "经度"),
    "lat": ("lat", "纬度"),
    "headcount": ("headcount", "人数", "来访人数", "涉及人数"),
    "category": ("category", "分类", "一级分类", "问题分类", "内容分类"),
}

_HOTLINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("工单编号", "工单号"),
    "received_at": ("来电时间", "受理时间", "登记时间"),
    "petitioner_name": ("来电人", "来电人姓名", "诉求人"),
    "petitioner_phone": ("联系电话", "来电号码", "联系方式"),
    "petitioner_id_number": ("身份证号", "身份证号码"),
    "title": ("诉求标题", "工单标题", "标题"),
    "body": ("诉求内容", "工单内容", "来电内容"),
    "township": ("所属乡镇", "乡镇街道", "所属乡镇(街道)"),
    "address": ("详细地址", "事发地址", "地址"),
}

_BUILTIN: dict[str, dict[str, Any]] = {
    "default": {"name": "default", "columns": _DEFAULT_COLUMNS},
    "hotline12345": {
        "name": "hotline12345",
        "columns": _HOTLINE_COLUMNS,
        "channel": "hotline",
        "source": "12345",
    },
}
_BUILTIN.update(SOURCE_PROFILES)  # grid, 110 and departmental complaint feeds (intake/sources.py)


def _header_key(header: str) -> str:
    """Headers are compared without spaces, full-width brackets or case: '来电时间 ' = '来电时间'."""
    return re.sub(r"\s+", "", header).replace("（", "(").replace("）", ")").casefold()


class ColumnMapping(BaseModel):
    """Which source headers feed which target field (first header present wins), plus feed-wide settings.

    `channel`, when set, is the channel of every row (a feed such as 12345); otherwise a row's channel column,
    then the caller's default, decide. `source` is the feed name written on each petition unless the caller
    passes one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    columns: dict[str, tuple[str, ...]]
    channel: Channel | None = None
    source: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _normalise_columns(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        unknown = [k for k in value if k not in FIELD_LABELS]
        if unknown:
            raise ValueError(
                f"未知的目标字段：{', '.join(map(str, unknown))}（可用：{', '.join(FIELD_LABELS)}）"
            )
        return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in value.items() if v}

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_label(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() in CHANNEL_BY_LABEL:
            return CHANNEL_BY_LABEL[value.strip()]
        return value

    def resolve(self, headers: Iterable[str]) -> dict[str, str]:
        """{target field: the header of this table that feeds it}, for the fields this table has."""
        by_key = {_header_key(h): h for h in headers}
        resolved: dict[str, str] = {}
        for target, candidates in self.columns.items():
            for candidate in candidates:
                header = by_key.get(_header_key(candidate))
                if header is not None:
                    resolved[target] = header
                    break
        return resolved


def builtin_profile(name: str) -> ColumnMapping:
    """A built-in mapping profile by name: `default` or `hotline12345`."""
    if name not in _BUILTIN:
        raise InvalidInput(
            f"没有名为{name}的导入配置（可用：{'、'.join(_BUILTIN)}）", code="intake.unknown_profile"
        )
    return ColumnMapping.model_validate(_BUILTIN[name])


def builtin_profiles() -> dict[str, ColumnMapping]:
    return {name: builtin_profile(name) for name in _BUILTIN}


def load_mapping(spec: Mapping[str, Any] | str) -> ColumnMapping:
    """A deployment's own mapping, from a dict or YAML text.

    `extends: default` starts from a built-in profile; the spec's columns then replace that profile's
    candidates field by field. Example:

        name: county_letters
        extends: default
        channel: 来信
        columns:
          title: [信件标题]
          petitioner_name: 写信人
    """
    data = yaml.safe_load(spec) if isinstance(spec, str) else dict(spec)
    if not isinstance(data, Mapping):
        raise InvalidInput("导入配置格式错误：应为键值对", code="intake.bad_mapping")
    data = dict(data)
    base = data.pop("extends", None)
    if base is not None:
        parent = builtin_profile(str(base))
        columns = dict(parent.columns) | dict(data.get("columns") or {})
        data = {"channel": parent.channel, "source": parent.source} | data | {"columns": columns}
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"导入配置格式错误：{details}", code="intake.bad_mapping") from None


def detect_profile(
    headers: Iterable[str], profiles: Mapping[str, ColumnMapping] | None = None
) -> ColumnMapping:
    """The profile that recognises most of these headers.

    On a tie a feed profile (one that fixes the channel, like hotline12345) beats a general one: `default`
    knows nearly every header, so it would otherwise always win.
    """
    profiles = profiles or builtin_profiles()
    header_list = list(headers)
    return max(profiles.values(), key=lambda p: (len(p.resolve(header_list)), p.channel is not None))


# ---- division names ---------------------------------------------------------------------------------------

_DIVISION_SUFFIXES = ("街道", "镇", "乡")


def _strip_suffix(name: str) -> str:
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def resolve_division(value: str, divisions: Mapping[str, str]) -> str | None:
    """A township (or village) name, alias or code → its division code, using the {name: code} gazetteer.

    Tolerates a missing or different suffix (古镛 = 古镛镇; 光明乡 → 光明镇 when the gazetteer lists the old
    name as an alias) and a county prefix (将乐县古镛镇). Returns None when nothing matches: the caller
    decides.
    """
    name = re.sub(r"\s+", "", value)
    if not name:
        return None
    if name in divisions:
        return divisions[name]
    if name.isdigit() and name in divisions.values():
        return name
    stripped = _strip_suffix(name)
    for key, code in divisions.items():
        if _strip_suffix(key) == stripped:
            return code
    return find_division_in_text(name, divisions)


def find_division_in_text(text: str, divisions: Mapping[str, str]) -> str | None:
    """The longest gazetteer name contained in a text (an address), or None."""
    best: tuple[int, str] | None = None
    for key, code in divisions.items():
        if len(key) >= 2 and key in text and (best is None or len(key) > best[0]):
            best = (len(key), code)
    return best[1] if best else None


# ---- cell parsers -----------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans("０１２３４５６７８９：－／．　", "0123456789:-/. ")
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
_EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_datetime(value: CellValue) -> datetime | None:
    """A cell → aware UTC datetime. Naive values are China local time. ValueError when unreadable.

    Accepts Excel date cells, the usual text forms (2025-01-06 12:09, 2025/1/6 12:09:38, 2025年1月6日,
    20250106) and Excel serial numbers that lost their date format in a CSV export (45663.5).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _plausible(ensure_aware(value))
    text = value.translate(_FULLWIDTH).strip()
    if not text:
        return None
    try:
        return _plausible(ensure_aware(datetime.fromisoformat(text)))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return _plausible(ensure_aware(datetime.strptime(text, fmt)))
        except ValueError:
            continue
    if re.fullmatch(r"\d{5}(\.\d+)?", text) and 20_000 <= float(text) <= 80_000:
        return _plausible(ensure_aware(_EXCEL_EPOCH + timedelta(days=float(text))))
    raise ValueError("unreadable date")


def _plausible(instant: datetime) -> datetime:
    if not (1990 <= instant.year <= 2100):
        raise ValueError("implausible year")
    return instant.astimezone(UTC)


def parse_headcount(value: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,6})\s*(人|名|位)?\s*", value.translate(_FULLWIDTH))
    if not match:
        raise ValueError("not a count")
    return int(match.group(1))


def parse_phone(value: str) -> str:
    """The first valid number in a cell that may hold several (13812345678/0598-1234567)."""
    text = value.translate(_FULLWIDTH).strip()
    candidates = [text, *re.split(r"[,，/;；、]+", text), *re.split(r"[,，/;；、\s]+", text)]
    for token in candidates:
        if not token.strip():
            continue
        try:
            return normalise_phone(token)
        except ValueError:
            continue
    raise ValueError("no valid phone")


def _derive_title(body: str) -> str:
    """Files without a title column: the first sentence of the body, shortened, stands in."""
    first = re.split(r"[。！？!?\n]", body.strip(), maxsplit=1)[0].strip() or body.strip()
    return first[:30] + ("…" if len(first) > 30 else "")


# ---- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem with one row: which row (as in the file), which field and column, and a Chinese message.

    The message never contains the cell's value.
    """

    row_number: int
    field: str
    message: str
    column: str | None = None
    code: str = "invalid"

    def text(self) -> str:
        return self.message  # it names the row already

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row_number,
            "field": self.field,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True)
class ParsedRow:
    row_number: int
    petition: PetitionIn


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # each rejects its row
    warnings: list[RowError] = field(
        default_factory=list
    )  # the row was kept (a value was dropped or guessed)
    columns: dict[str, str] = field(default_factory=dict)  # target field -> header used
    unmapped_headers: list[str] = field(default_factory=list)

    @property
    def petitions(self) -> list[PetitionIn]:
        return [r.petition for r in self.rows]

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row_number for e in self.errors})


# ---- parsing ----------------------------------------------------------------------------------------------


def parse_rows(
    table: Table,
    mapping: ColumnMapping,
    *,
    source: str | None = None,
    default_channel: Channel | None = None,
    divisions: Mapping[str, str] | None = None,
    lenient_contacts: bool = False,
) -> ParseResult:
    """Validate every row of a table into PetitionIn, collecting per-row errors instead of stopping.

    - `source` (else mapping.source) is written on every petition; external_id comes from the file or stays
      None (the importer derives a content hash for idempotency).
    - Channel: mapping.channel if the profile fixes it, else the row's channel column, else `default_channel`.
    - `divisions` is the {name or alias: code} gazetteer (e.g. DemoCounty.division_names()); a township name
      that is not found is a warning, not an error, because routing can still place the petition by its text.
    - `lenient_contacts`: an invalid ID number or phone is dropped with a warning instead of rejecting the row
      (for feeds that mask numbers).
    Raises InvalidInput when the table has neither a title nor a body column: nothing could be imported.
    """
    columns = mapping.resolve(table.headers)
    if "title" not in columns and "body" not in columns:
        expected = "、".join(mapping.columns.get("title", ())[:4] + mapping.columns.get("body", ())[:4])
        raise InvalidInput(
            f"找不到标题或内容列（可识别的表头如：{expected}；文件表头：{'、'.join(table.headers)}）",
            code="intake.no_text_column",
        )
    result = ParseResult(
        columns=columns, unmapped_headers=[h for h in table.headers if h not in columns.values()]
    )
    context = _Context(
        columns=columns,
        source=source if source is not None else mapping.source,
        fixed_channel=mapping.channel,
        default_channel=default_channel,
        divisions=divisions or {},
        lenient_contacts=lenient_contacts,
    )
    seen_ids: dict[str, int] = {}
    for number, row in table.numbered_rows():
        errors: list[RowError] = []
        warnings: list[RowError] = []
        petition = _parse_row(number, row, context, errors, warnings)
        result.warnings.extend(warnings)
        if errors or petition is None:
            result.errors.extend(errors)
            continue
        if petition.external_id is not None:
            first = seen_ids.setdefault(petition.external_id, number)
            if first != number:
                result.warnings.append(
                    _issue(number, "external_id", context, f"编号与第{first}行重复", code="duplicate_id")
                )
        result.rows.append(ParsedRow(number, petition))
    return result


@dataclass(frozen=True)
class _Context:
    columns: dict[str, str]
    source: str | None
    fixed_channel: Channel | None
    default_channel: Channel | None
    divisions: Mapping[str, str]
    lenient_contacts: bool


def _issue(number: int, target: str, context: _Context, what: str, *, code: str = "invalid") -> RowError:
    column = context.columns.get(target)
    where = f"（列“{column}”）" if column else ""
    return RowError(
        number, target, f"第{number}行: {FIELD_LABELS.get(target, target)}{what}{where}", column, code
    )


def _text(row: Mapping[str, CellValue], context: _Context, target: str) -> str | None:
    header = context.columns.get(target)
    value = row.get(header) if header else None
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    value = value.strip()
    return value or None


def _parse_row(
    number: int,
    row: Mapping[str, CellValue],
    context: _Context,
    errors: list[RowError],
    warnings: list[RowError],
) -> PetitionIn | None:
    title, body = _text(row, context, "title"), _text(row, context, "body")
    if title is None and body is None:
        errors.append(_issue(number, "body", context, "为空（标题和内容至少填写一项）", code="missing"))
        return None
    body = body or title or ""
    title = (title or _derive_title(body))[:MAX_TITLE]
    if len(body) > MAX_BODY:
        errors.append(_issue(number, "body", context, f"超过{MAX_BODY}字", code="too_long"))
    fields: dict[str, Any] = {
        "title": title,
        "body": body,
        "received_at": _received_at(number, row, context, errors),
        "channel": _channel(number, row, context, errors),
        "external_id": _text(row, context, "external_id"),
        "source": context.source,
        "category": _text(row, context, "category"),
        "headcount": _headcount(number, row, context, errors),
        "petitioners": _petitioners(number, row, context, errors, warnings),
        "location": _location(number, row, context, errors, warnings),
    }
    if errors:
        return None
    try:
        return PetitionIn(**fields)
    except ValidationError as exc:
        for error in exc.errors():
            target = _target_of(error["loc"])
            errors.append(
                _issue(number, target, context, f"不符合要求（{error['type']}）", code=error["type"])
            )
        return None


_LOC_TARGETS = {"name": "petitioner_name", "address": "address", "division_code": "division_code"}


def _target_of(loc: tuple[int | str, ...]) -> str:
    """Map a pydantic error location back to a target field (so the message can name the column)."""
    head = str(loc[0]) if loc else "body"
    if head == "petitioners":
        last = str(loc[-1]) if loc else ""
        return {"name": "petitioner_name", "address": "petitioner_address"}.get(last, "petitioner_name")
    if head == "location":
        return _LOC_TARGETS.get(str(loc[-1]), "address")
    return head if head in FIELD_LABELS else "body"


def _received_at(number: int, row: Mapping[str, CellValue], context: _Context, errors: list[RowError]) -> Any:
    header = context.columns.get("received_at")
    if header is None:
        return None
    try:
        return parse_datetime(row.get(header))
    except ValueError:
        errors.append(_issue(number, "received_at", context, "无法识别为日期时间", code="bad_date"))
        return None


def _channel(number: int, row: Mapping[str, CellValue], context: _Context, errors: list[RowError]) -> Any:
    if context.fixed_channel is not None:
        return context.fixed_channel
    value = _text(row, context, "channel")
    if value is not None:
        if value in CHANNEL_BY_LABEL:
            return CHANNEL_BY_LABEL[value]
        try:
            return Channel(value.lower())
        except ValueError:
            errors.append(_issue(number, "channel", context, "不是已知的信访渠道", code="bad_channel"))
            return None
    if context.default_channel is None:
        errors.append(_issue(number, "channel", context, "未填写，且没有指定默认渠道", code="missing"))
    return context.default_channel


def _headcount(number: int, row: Mapping[str, CellValue], context: _Context, errors: list[RowError]) -> Any:
    value = _text(row, context, "headcount")
    if value is None:
        return None
    try:
        count = parse_headcount(value)
    except ValueError:
        errors.append(_issue(number, "headcount", context, "应为正整数", code="bad_number"))
        return None
    if count < 1:
        errors.append(_issue(number, "headcount", context, "应为正整数", code="bad_number"))
    return count


def _petitioners(
    number: int,
    row: Mapping[str, CellValue],
    context: _Context,
    errors: list[RowError],
    warnings: list[RowError],
) -> list[dict[str, Any]]:
    name = _text(row, context, "petitioner_name")
    id_number = _checked(number, row, context, "petitioner_id_number", normalise_id_number, errors, warnings)
    phone = _checked(number, row, context, "petitioner_phone", parse_phone, errors, warnings)
    address = _text(row, context, "petitioner_address")
    if not any((name, id_number, phone, address)):
        return []
    # Plain dicts, so that PetitionIn validates them like any other input.
    return [{"name": (name or "匿名")[:100], "id_number": id_number, "phone": phone, "address": address}]


def _checked(
    number: int,
    row: Mapping[str, CellValue],
    context: _Context,
    target: str,
    normalise: Any,
    errors: list[RowError],
    warnings: list[RowError],
) -> str | None:
    value = _text(row, context, target)
    if value is None:
        return None
    try:
        return normalise(value)
    except ValueError:
        issue = _issue(number, target, context, "无效", code="invalid_contact")
        if context.lenient_contacts:
            warnings.append(
                RowError(issue.row_number, target, issue.message + "，已忽略", issue.column, issue.code)
            )
        else:
            errors.append(issue)
        return None


def _location(
    number: int,
    row: Mapping[str, CellValue],
    context: _Context,
    errors: list[RowError],
    warnings: list[RowError],
) -> dict[str, Any] | None:
    address = _text(row, context, "address")
    code = _text(row, context, "division_code")
    if code is not None and not re.fullmatch(r"\d{6}(\d{3}(\d{3})?)?", code):
        errors.append(_issue(number, "division_code", context, "应为6、9或12位数字", code="bad_division"))
        code = None
    township = _text(row, context, "township")
    if code is None and township is not None:
        code = resolve_division(township, context.divisions)
        if code is None:
            warnings.append(
                _issue(number, "township", context, "不在本县乡镇名录中，未定位", code="unknown_township")
            )
    if code is None and address is not None and context.divisions:
        code = find_division_in_text(address, context.divisions)
    lng, lat = (
        _coordinate(number, row, context, "lng", errors),
        _coordinate(number, row, context, "lat", errors),
    )
    if code is None and address is None and lng is None and lat is None:
        return None
    return {"division_code": code, "address": address, "lng": lng, "lat": lat}


def _coordinate(
    number: int, row: Mapping[str, CellValue], context: _Context, target: str, errors: list[RowError]
) -> float | None:
    value = _text(row, context, target)
    if value is None:
        return None
    limit = 180 if target == "lng" else 90
    try:
        number_value = float(value.translate(_FULLWIDTH))
    except ValueError:
        number_value = float("nan")
    if not -limit <= number_value <= limit:
        errors.append(_issue(number, target, context, "不是有效的坐标", code="bad_coordinate"))
        return None
    return number_value
