"""Written notices to the petitioner (告知书、处理意见书 ...) as .docx files filled from editable Word templates.

Pure: data in, bytes out. The templates are ordinary .docx files in `xinfang/data/notices/<kind>.docx` (e.g.
`decision.docx` for the 处理意见书). A clerk edits them in Word or WPS like any document: letterhead, wording, fonts,
a 送达回证 table. Wherever case data belongs, the template says `{{field_name}}`; the fields each kind understands
are listed in `FIELDS` below and in `data/notices/README.md`. A deployment can keep its own edited copies in another
folder and pass `template_dir=`; the packaged defaults are rebuilt by `scripts/build_notice_templates.py`.

Safeguards, because these letters have legal effect:
- every field the regulation requires for a kind (`REQUIRED`, e.g. the refusal's reason, the decision's legal basis)
  must be supplied, and must still appear in the template: a template edited so that it drops one is refused;
- any other placeholder in the template must be supplied too, so a typo like `{{petitoner_name}}` fails loudly
  instead of printing braces to a citizen;
- personal identifiers (ID number, phone) are refused as fields: a notice names the petitioner, nothing more.

Word often splits a placeholder over several runs (spell-check marks, an edit in the middle); filling works on the
paragraph's joined text and rewrites only the runs a placeholder touched, so their formatting is kept.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import docx
from docx.document import Document as DocumentObject
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from xinfang.errors import InvalidInput
from xinfang.text.sanitize import clean_text

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
FieldValue = str | int | date | None


class NoticeKind(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理告知书
    REFUSAL = "refusal"  # 不予受理告知书
    REFERRAL = "referral"  # 告知书 (which body to approach)
    EXTENSION = "extension"  # 延期告知书
    DIVERSION = "diversion"  # 导入法定途径告知书
    DECISION = "decision"  # 处理意见书
    REVIEW_DECISION = "review_decision"  # 复查意见书
    RECHECK_DECISION = "recheck_decision"  # 复核意见书
    FINAL_REFUSAL = "final_refusal"  # 不再受理告知书 (after 复核: 三级终结)


NOTICE_TITLES: dict[NoticeKind, str] = {
    NoticeKind.ACCEPTANCE: "受理告知书",
    NoticeKind.REFUSAL: "不予受理告知书",
    NoticeKind.REFERRAL: "告知书",
    NoticeKind.EXTENSION: "延期告知书",
    NoticeKind.DIVERSION: "导入法定途径告知书",
    NoticeKind.DECISION: "处理意见书",
    NoticeKind.REVIEW_DECISION: "复查意见书",
    NoticeKind.RECHECK_DECISION: "复核意见书",
    NoticeKind.FINAL_REFUSAL: "不再受理告知书",
}

OUTCOMES = ("支持", "解释说明", "不予支持")
# The regulation's wording for each outcome, printed after it so the petitioner knows what it means.
OUTCOME_EXPLANATIONS: dict[str, str] = {
    "支持": "你的请求事实清楚，符合法律、法规、规章或者其他有关规定，予以支持，并督促有关机关、单位执行。",
    "解释说明": "你的请求事由合理，但缺乏法律依据，现作出解释说明。",
    "不予支持": "你的请求缺乏事实根据或者不符合法律、法规、规章或者其他有关规定，不予支持。",
}
DECISION_KINDS = frozenset({NoticeKind.DECISION, NoticeKind.REVIEW_DECISION, NoticeKind.RECHECK_DECISION})

COMMON = ("issuing_body", "number", "petitioner_name", "issued_on")
_DECISION = ("request", "facts", "outcome", "outcome_explanation", "opinion", "legal_basis")

# What the regulation requires each notice to say; these placeholders must be in the template and must be filled.
REQUIRED: dict[NoticeKind, tuple[str, ...]] = {
    NoticeKind.ACCEPTANCE: (*COMMON, "received_on", "matter", "accepted_on"),
    NoticeKind.REFUSAL: (*COMMON, "received_on", "matter", "reason"),
    NoticeKind.REFERRAL: (*COMMON, "received_on", "matter", "competent_body"),
    NoticeKind.EXTENSION: (*COMMON, "received_on", "matter", "reason", "extension_days", "new_due_on"),
    NoticeKind.DIVERSION: (*COMMON, "received_on", "matter", "legal_channel"),
    NoticeKind.DECISION: (*COMMON, "received_on", *_DECISION, "review_body"),
    NoticeKind.REVIEW_DECISION: (*COMMON, "review_requested_on", *_DECISION, "recheck_body"),
    NoticeKind.RECHECK_DECISION: (*COMMON, "recheck_requested_on", *_DECISION),
    NoticeKind.FINAL_REFUSAL: (*COMMON, "received_on", "matter", "final_body", "final_on"),
}

# Fields a template may use that have a lawful default when the caller has nothing more specific.
DEFAULTS: dict[NoticeKind, dict[str, str]] = {
    NoticeKind.REFERRAL: {"reason": "该事项不属于本机关职责范围"},
    NoticeKind.DIVERSION: {"competent_body": "有管辖权的机关", "reason": ""},
    NoticeKind.DECISION: {"review_body": "本机关的上一级机关"},
    NoticeKind.REVIEW_DECISION: {"recheck_body": "本机关的上一级机关"},
    NoticeKind.FINAL_REFUSAL: {"final_number": ""},
}

FORBIDDEN = frozenset({"id_number", "id_card", "identity_number", "phone", "mobile", "telephone"})
FIELDS: dict[NoticeKind, tuple[str, ...]] = {
    kind: tuple(dict.fromkeys((*REQUIRED[kind], *DEFAULTS.get(kind, {})))) for kind in NoticeKind
}


def render_notice(
    kind: NoticeKind | str, fields: Mapping[str, FieldValue], *, template_dir: Path | str | None = None
) -> bytes:
    """Fill the template for `kind` with `fields` and return the .docx bytes.

    Raises InvalidInput (code `notices.field_required`, param `field`) naming the first missing field.
    Why not python-docx per notice: parsing and re-saving a document costs ~15 ms, and a county issues notices in
    bulk (imports, the demo's year of history). The template is parsed once (placeholders merged into single runs
    by `fill_document`, with markers in their place) and each notice only substitutes escaped text into its XML.
    """
    kind = _kind(kind)
    values = prepare_fields(kind, fields)
    data = read_template(kind, template_dir)  # raises the clear "template missing" error
    prepared = _prepared(kind, hashlib.sha256(data).hexdigest(), data)
    missing = sorted(prepared.found - values.keys())
    if missing:
        raise _missing(kind, missing[0])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in prepared.members:
            archive.writestr(name, data)
        for name, xml in prepared.templated:
            archive.writestr(name, _substitute(xml, values))
    return out.getvalue()


_MARK = "⟦{}⟧"  # ⟦name⟧: cannot occur in a template, survives XML serialisation as is
_MARKED = re.compile("⟦([A-Za-z_][A-Za-z0-9_]*)⟧")
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'


@dataclass(frozen=True)
class _Prepared:
    found: frozenset[str]
    members: tuple[tuple[str, bytes], ...]  # parts without placeholders, copied as they are
    templated: tuple[tuple[str, str], ...]  # parts with markers, as XML text


@lru_cache(maxsize=64)
def _prepared(kind: NoticeKind, _sha256: str, data: bytes) -> _Prepared:
    """Parse a template once per content version. Why the content's digest and not the file's mtime: several app
    instances read one shared template folder, and a template replaced on one of them must be used by all at
    once — a digest changes with every edit, whatever the file system's timestamp granularity."""
    document = docx.Document(io.BytesIO(data))
    found = placeholders_in(document)
    _check_template(kind, found)
    fill_document(document, {name: _MARK.format(name) for name in found})
    document.core_properties.title = NOTICE_TITLES[kind]
    document.core_properties.author = _MARK.format("issuing_body")
    buffer = io.BytesIO()
    document.save(buffer)
    members, templated = [], []
    with zipfile.ZipFile(buffer) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if "⟦".encode() in data:
                xml = data.decode("utf-8").replace("<w:t>", '<w:t xml:space="preserve">')
                templated.append((info.filename, xml))
            else:
                members.append((info.filename, data))
    return _Prepared(frozenset(found), tuple(members), tuple(templated))


def _substitute(xml: str, values: Mapping[str, str]) -> bytes:
    def value(match: re.Match[str]) -> str:
        # control characters are not allowed in XML at all: Word would refuse the file (text.sanitize)
        text = xml_escape(clean_text(values.get(match.group(1), "")))
        return text.replace("\r\n", "\n").replace("\n", _BREAK)

    return _MARKED.sub(value, xml).encode("utf-8")


def prepare_fields(kind: NoticeKind, fields: Mapping[str, FieldValue]) -> dict[str, str]:
    """Validate and format the caller's fields: defaults, dates in Chinese, the outcome and its explanation."""
    leaked = FORBIDDEN & set(fields)
    if leaked:
        raise InvalidInput(
            f"告知书不得载明身份证号、电话等个人信息（{'、'.join(sorted(leaked))}）",
            code="notices.personal_data_refused",
            field=sorted(leaked)[0],
        )
    values = dict(DEFAULTS.get(kind, {}))
    values.update({k: _text(k, v) for k, v in fields.items() if v is not None and _text(k, v)})
    if kind in DECISION_KINDS and "outcome" in values:
        if values["outcome"] not in OUTCOMES:
            raise InvalidInput(
                f"处理结果只能是{'、'.join(OUTCOMES)}之一", code="notices.bad_outcome", field="outcome"
            )
        values.setdefault("outcome_explanation", OUTCOME_EXPLANATIONS[values["outcome"]])
    for name in REQUIRED[kind]:
        if name not in values:
            raise _missing(kind, name)
    return values


def chinese_date(day: date) -> str:
    """2026年3月2日: the form used in official documents (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def template_path(kind: NoticeKind | str, template_dir: Path | str | None = None) -> Path:
    """Where a deployment's template for `kind` lives (its own folder, or the packaged defaults)."""
    if template_dir is not None:
        return Path(template_dir) / f"{_kind(kind).value}.docx"
    return Path(str(resources.files("xinfang").joinpath("data", "notices", f"{_kind(kind).value}.docx")))


def read_template(kind: NoticeKind, template_dir: Path | str | None = None) -> bytes:
    path = template_path(kind, template_dir)
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(
            f"找不到{NOTICE_TITLES[kind]}模板：{path.name}", code="notices.template_missing", kind=kind.value
        ) from exc


def placeholders_in(document: DocumentObject) -> set[str]:
    """Every `{{name}}` in the document's body, tables, headers and footers."""
    return {m.group(1) for p in iter_paragraphs(document) for m in PLACEHOLDER.finditer(_joined(p))}


def fill_document(document: DocumentObject, values: Mapping[str, str]) -> None:
    for paragraph in iter_paragraphs(document):
        fill_paragraph(paragraph, values)


def fill_paragraph(paragraph: Paragraph, values: Mapping[str, str]) -> None:
    """Replace placeholders in one paragraph, even when Word split one across runs.

    Works right to left over the joined text so earlier offsets stay valid: the replacement goes into the run
    where the placeholder starts, and the placeholder's remaining characters are cut from the runs it spans.
    """
    runs = _runs(paragraph)
    texts = [run.text for run in runs]
    joined = "".join(texts)
    matches = list(PLACEHOLDER.finditer(joined))
    if not matches:
        return
    bounds = _run_bounds(texts)
    for match in reversed(matches):
        first, first_offset = _locate(bounds, match.start())
        last, last_offset = _locate(bounds, match.end() - 1)
        value = values[match.group(1)]
        if first == last:
            texts[first] = texts[first][:first_offset] + value + texts[first][last_offset + 1 :]
            continue
        texts[first] = texts[first][:first_offset] + value
        for middle in range(first + 1, last):
            texts[middle] = ""
        texts[last] = texts[last][last_offset + 1 :]
    for run, text in zip(runs, texts, strict=True):
        if run.text != text:
            run.text = text


def iter_paragraphs(document: DocumentObject) -> Iterator[Paragraph]:
    """Body paragraphs, table cells (nested too), and every section's headers and footers."""
    yield from _walk(document.paragraphs, document.tables)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            if not part.is_linked_to_previous:
                yield from _walk(part.paragraphs, part.tables)


def _walk(paragraphs: Iterable[Paragraph], tables: Iterable[Table]) -> Iterator[Paragraph]:
    yield from paragraphs
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                yield from _walk(cell.paragraphs, cell.tables)


def _runs(paragraph: Paragraph) -> list[Run]:
    """Runs directly in the paragraph and inside hyperlinks, tracked insertions and smart tags (Word/WPS edits)."""
    elements: list[Any] = paragraph._p.xpath(
        "./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:smartTag/w:r | ./w:customXml/w:r | ./w:fldSimple/w:r"
    )
    return [Run(element, paragraph) for element in elements]


def _joined(paragraph: Paragraph) -> str:
    return "".join(run.text for run in _runs(paragraph))


def _run_bounds(texts: list[str]) -> list[int]:
    bounds, position = [], 0
    for text in texts:
        bounds.append(position)
        position += len(text)
    return bounds


def _locate(bounds: list[int], index: int) -> tuple[int, int]:
    """(run number, offset in that run) of a character of the joined text."""
    run = max(i for i, start in enumerate(bounds) if start <= index)
    return run, index - bounds[run]


def _check_template(kind: NoticeKind, found: set[str]) -> None:
    dropped = [name for name in REQUIRED[kind] if name not in found]
    if dropped:
        raise InvalidInput(
            f"{NOTICE_TITLES[kind]}模板缺少法定内容的占位符 {{{{{dropped[0]}}}}}",
            code="notices.template_incomplete",
            kind=kind.value,
            field=dropped[0],
        )


def _text(name: str, value: FieldValue) -> str:
    """Dates (and ISO date strings in `*_on` fields, as JSON payloads carry them) in Chinese; the rest as text."""
    if isinstance(value, date):
        return chinese_date(value)
    text = str(value).strip()
    if name.endswith("_on"):
        try:
            return chinese_date(date.fromisoformat(text))
        except ValueError:
            pass
    return text


def _kind(kind: NoticeKind | str) -> NoticeKind:
    try:
        return NoticeKind(kind)
    except ValueError as exc:
        raise InvalidInput(f"未知的文书种类：{kind}", code="notices.unknown_kind", kind=str(kind)) from exc


def _missing(kind: NoticeKind, name: str) -> InvalidInput:
    return InvalidInput(
        f"生成{NOTICE_TITLES[kind]}缺少字段：{name}",
        code="notices.field_required",
        field=name,
        kind=kind.value,
    )
