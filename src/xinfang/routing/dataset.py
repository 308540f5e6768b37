"""Reading labelled petitions from CSV/XLSX files with the column names found in practice.

Accepted text columns: `text`; `title` + `body`; 留言主题 + 留言详情; or `tokens` (already segmented,
space-joined).
Accepted label columns: `label`, 一级标签, 一级分类. Rows with an empty text or label are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xinfang.errors import InvalidInput

LABEL_COLUMNS = ("label", "一级标签", "一级分类")
TEXT_COLUMN_SETS: tuple[tuple[str, ...], ...] = (
    ("text",),
    ("title", "body"),
    ("留言主题", "留言详情"),
    ("tokens",),
)


@dataclass(frozen=True, slots=True)
class LabelledDoc:
    """A training/evaluation document: raw `text`, or `tokens` when the source was pre-segmented."""

    label: str
    text: str | None = None
    tokens: tuple[str, ...] | None = None

    def key(self) -> str:
        """Identity for de-duplication (the same message appears in several files)."""
        return " ".join(self.tokens) if self.tokens is not None else "".join((self.text or "").split())


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook  # imported lazily: only training reads spreadsheets

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        return header, [dict(zip(header, r, strict=False)) for r in rows]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return [h.strip() for h in (reader.fieldnames or [])], list(reader)


def _pick(header: Sequence[str], options: Iterable[Sequence[str]]) -> tuple[str, ...] | None:
    for cols in options:
        if all(c in header for c in cols):
            return tuple(cols)
    return None


def read_labelled(path: Path | str) -> list[LabelledDoc]:
    """Read one CSV/XLSX file; raises InvalidInput naming the columns it needs when they are missing."""
    path = Path(path)
    header, rows = _read_rows(path)
    text_cols = _pick(header, TEXT_COLUMN_SETS)
    label_col = _pick(header, [(c,) for c in LABEL_COLUMNS])
    if text_cols is None or label_col is None:
        raise InvalidInput(
            f"{path.name}: 需要文本列(text / title+body / 留言主题+留言详情 / tokens)和标签列(label / 一级标签 / 一级分类)",
            code="training.columns_missing",
            columns=list(header),
        )
    docs: list[LabelledDoc] = []
    for row in rows:
        label = str(row.get(label_col[0]) or "").strip()
        parts = [str(row.get(c) or "").strip() for c in text_cols]
        if not label or not any(parts):
            continue
        if text_cols == ("tokens",):
            docs.append(LabelledDoc(label=label, tokens=tuple(parts[0].split())))
        else:
            docs.append(LabelledDoc(label=label, text="\n".join(p for p in parts if p)))
    return docs


def dedupe(docs: Iterable[LabelledDoc]) -> list[LabelledDoc]:
    """Keep the first document of each identical text (later duplicates are dropped whatever their label)."""
    seen: set[str] = set()
    out: list[LabelledDoc] = []
    for doc in docs:
        key = doc.key()
        if key not in seen:
            seen.add(key)
            out.append(doc)
    return out
