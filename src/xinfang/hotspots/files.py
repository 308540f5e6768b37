"""Reading a file of messages for `xinfang hotspots FILE`: columns as in dispatch (text, or title + body, or
留言主题 + 留言详情), an id column (`id` or 留言编号) and a time column (`time` or 留言时间)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xinfang.errors import InvalidInput
from xinfang.hotspots.engine import MatterIndex, Record, cluster, summary
from xinfang.intake.files import CellValue, read_table
from xinfang.intake.mapping import parse_datetime

TEXT_COLUMNS = ("text", "文本", "内容")
TITLE_COLUMNS = ("title", "标题", "留言主题", "主题")
BODY_COLUMNS = ("body", "正文", "留言详情", "详情")
ID_COLUMNS = ("id", "留言编号", "编号")
TIME_COLUMNS = ("time", "留言时间", "时间")
PERSON_COLUMNS = ("user", "留言用户", "用户")
MAX_ROWS = 200_000


def _first(headers: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    lowered = {h.strip().lower(): h for h in headers}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def read_records(path: Path) -> list[Record]:
    table = read_table(path.read_bytes(), filename=path.name, max_rows=MAX_ROWS)
    headers = tuple(table.headers)
    text_col = _first(headers, TEXT_COLUMNS)
    title_col, body_col = _first(headers, TITLE_COLUMNS), _first(headers, BODY_COLUMNS)
    if text_col is None and title_col is None and body_col is None:
        raise InvalidInput(
            "找不到文本列(text,或 title + body,或 留言主题 + 留言详情)", code="hotspots.no_text_column"
        )
    id_col, time_col = _first(headers, ID_COLUMNS), _first(headers, TIME_COLUMNS)
    person_col = _first(headers, PERSON_COLUMNS)
    records = []
    for number, row in table.numbered_rows():
        if text_col is not None and title_col is None:
            text = _text(row.get(text_col))
            title, body = text[:40], text
        else:
            title = _text(row.get(title_col)) if title_col else ""
            body = _text(row.get(body_col)) if body_col else ""
        if not (title or body):
            continue
        try:
            at = parse_datetime(row.get(time_col)) if time_col else None
        except ValueError:
            at = None
        rid: Any = _text(row.get(id_col)) if id_col else str(number)
        person = _text(row.get(person_col)) if person_col else None
        records.append(Record(id=rid or str(number), title=title, body=body, at=at, person=person or None))
    return records


def hot_matters_of_file(path: Path, *, min_size: int = 1) -> list[dict[str, Any]]:
    """The matters of a file ranked by heat, as of the file's latest message time."""
    records = read_records(path)
    index: MatterIndex = cluster(records)
    times = [r.at for r in records if r.at is not None]
    now = max(times) if times else datetime(2000, 1, 1, tzinfo=UTC)  # no times: heat is 0, any instant does
    out = [summary(m, now=now) for m in index.matters if m.size >= min_size]
    out.sort(key=lambda m: (-m["heat"], -m["size"], m["label"]))
    return out
