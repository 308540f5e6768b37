"""Build the default notice templates in src/xinfang/data/notices/ (one .docx per kind).

The .docx files are binary, so this script is their source: change the wording here, run

    .venv/bin/python scripts/build_notice_templates.py            # rewrites src/xinfang/data/notices/*.docx
    .venv/bin/python scripts/build_notice_templates.py --out DIR  # somewhere else (a deployment's starting copy)

and commit both. Output is byte-for-byte reproducible (fixed document properties and zip timestamps), so a rebuild
without changes shows no diff. Layout follows the usual official-document conventions (GB/T 9704): A4, 仿宋_GB2312
三号 body, 黑体 headings, 宋体 title, first-line indent of two characters, 28 pt line spacing; Chinese fonts are set
on the w:eastAsia attribute so Word, WPS and LibreOffice pick a CJK face.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import docx
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "xinfang" / "data" / "notices"
BODY_FONT, HEADING_FONT, TITLE_FONT, LATIN_FONT = "仿宋_GB2312", "黑体", "宋体", "Times New Roman"
FIXED_TIME = datetime(2026, 1, 1)

# A block is (style, text). Styles: org (issuing body line), title, ref (number, right), salute, body, heading,
# sign (right-aligned signature lines). Placeholders are {{field}}; see xinfang.cases.notices.FIELDS.
Block = tuple[str, str]

HEAD: list[Block] = [("org", "{{issuing_body}}"), ("title", "{title}"), ("ref", "信访件编号：{{number}}")]
SIGN: list[Block] = [("sign", "{{issuing_body}}"), ("sign", "{{issued_on}}")]
OPENING = "你（单位）于{{received_on}}提出的关于“{{matter}}”的信访事项，"

TEMPLATES: dict[str, tuple[str, list[Block]]] = {
    "acceptance": (
        "受理告知书",
        [
            ("body", OPENING + "本机关已于{{accepted_on}}依法受理。"),
            (
                "body",
                "根据《信访工作条例》的规定，本机关将自受理之日起60日内办结，并向你出具书面处理意见；"
                "情况复杂的，经批准可以适当延长办理期限，但延长期限不超过30日，届时将另行书面告知延期理由。",
            ),
            ("body", "办理期间，你可以通过信访信息系统或者向本机关查询办理进展。"),
        ],
    ),
    "refusal": (
        "不予受理告知书",
        [
            ("body", OPENING + "经审查，本机关决定不予受理。"),
            ("heading", "不予受理的理由"),
            ("body", "{{reason}}"),
            ("body", "特此告知。"),
        ],
    ),
    "referral": (
        "告知书",
        [
            ("body", OPENING + "本机关已收悉。经审查，{{reason}}。"),
            (
                "body",
                "根据《信访工作条例》关于属地管理、分级负责，谁主管、谁负责的规定，请你向{{competent_body}}提出。",
            ),
            ("body", "特此告知。"),
        ],
    ),
    "extension": (
        "延期告知书",
        [
            ("body", OPENING + "本机关已依法受理并正在办理。"),
            (
                "body",
                "因{{reason}}，经本机关负责人批准，办理期限延长{{extension_days}}日，将于{{new_due_on}}前办结并出具书面处理意见。",
            ),
            ("body", "根据《信访工作条例》的规定，延长期限不超过30日。特此告知。"),
        ],
    ),
    "diversion": (
        "导入法定途径告知书",
        [
            ("body", OPENING + "本机关已收悉。"),
            (
                "body",
                "经审查，你反映的事项属于应当通过{{legal_channel}}等法定途径解决的事项。{{reason}}"
                "根据《信访工作条例》关于依法分类处理的规定，请你依照有关法律、行政法规规定的程序向{{competent_body}}提出，"
                "本机关不再按信访程序办理。",
            ),
            ("body", "特此告知。"),
        ],
    ),
    "decision": (
        "信访事项处理意见书",
        [
            (
                "body",
                "你（单位）于{{received_on}}提出的信访事项，本机关已依法受理并办理完毕。现将处理意见告知如下：",
            ),
            ("heading", "一、信访事项和请求"),
            ("body", "{{request}}"),
            ("heading", "二、查明的事实"),
            ("body", "{{facts}}"),
            ("heading", "三、处理意见"),
            ("body", "处理结果：{{outcome}}。{{outcome_explanation}}"),
            ("body", "{{opinion}}"),
            ("heading", "四、依据"),
            ("body", "{{legal_basis}}"),
            (
                "body",
                "如对本处理意见不服，可以自收到本处理意见书之日起30日内，向{{review_body}}请求复查。",
            ),
        ],
    ),
    "review_decision": (
        "信访事项复查意见书",
        [
            (
                "body",
                "你（单位）于{{review_requested_on}}提出的复查请求，本机关已依法受理并复查完毕。现将复查意见告知如下：",
            ),
            ("heading", "一、复查请求"),
            ("body", "{{request}}"),
            ("heading", "二、复查查明的事实"),
            ("body", "{{facts}}"),
            ("heading", "三、复查意见"),
            ("body", "复查结果：{{outcome}}。{{outcome_explanation}}"),
            ("body", "{{opinion}}"),
            ("heading", "四、依据"),
            ("body", "{{legal_basis}}"),
            (
                "body",
                "如对本复查意见不服，可以自收到本复查意见书之日起30日内，向{{recheck_body}}请求复核。",
            ),
        ],
    ),
    "recheck_decision": (
        "信访事项复核意见书",
        [
            (
                "body",
                "你（单位）于{{recheck_requested_on}}提出的复核请求，本机关已依法受理并复核完毕。现将复核意见告知如下：",
            ),
            ("heading", "一、复核请求"),
            ("body", "{{request}}"),
            ("heading", "二、复核查明的事实"),
            ("body", "{{facts}}"),
            ("heading", "三、复核意见"),
            ("body", "复核结果：{{outcome}}。{{outcome_explanation}}"),
            ("body", "{{opinion}}"),
            ("heading", "四、依据"),
            ("body", "{{legal_basis}}"),
            (
                "body",
                "本复核意见为该信访事项的最终处理意见。根据《信访工作条例》的规定，"
                "你（单位）仍以同一事实和理由提出信访事项的，各级机关不再受理。",
            ),
        ],
    ),
    "final_refusal": (
        "不再受理告知书",
        [
            ("body", OPENING + "本机关已收悉。"),
            (
                "body",
                "经审查，该信访事项已经{{final_body}}于{{final_on}}作出复核意见{{final_number}}，信访程序已经终结。"
                "根据《信访工作条例》的规定，信访人对复核意见不服，仍以同一事实和理由提出信访事项的，不再受理。",
            ),
            ("body", "特此告知。"),
        ],
    ),
}


def build_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (title, blocks) in TEMPLATES.items():
        path = out_dir / f"{kind}.docx"
        path.write_bytes(build_template(title, blocks))
        written.append(path)
    return written


def build_template(title: str, blocks: Sequence[Block]) -> bytes:
    """One notice template: head, salutation, body blocks, signature, then a 送达回证 on its own page."""
    document = docx.Document()
    _page_setup(document)
    _styles(document)
    for style, text in [*HEAD, ("salute", "{{petitioner_name}}："), *blocks, *SIGN]:
        _add(document, style, text.replace("{title}", title))
    _service_receipt(document, title)
    props = document.core_properties
    props.author = props.last_modified_by = "xinfang"
    props.title, props.created, props.modified, props.revision = title, FIXED_TIME, FIXED_TIME, 1
    return _reproducible_zip(document)


def _page_setup(document: DocumentObject) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def _styles(document: DocumentObject) -> None:
    styles = document.styles
    _font(styles["Normal"], BODY_FONT, 16)
    styles["Normal"].paragraph_format.line_spacing = Pt(28)
    styles["Normal"].paragraph_format.space_after = Pt(0)
    for name, font, size, bold, align in (
        ("Notice Org", TITLE_FONT, 22, True, WD_ALIGN_PARAGRAPH.CENTER),
        ("Notice Title", TITLE_FONT, 22, True, WD_ALIGN_PARAGRAPH.CENTER),
        ("Notice Heading", HEADING_FONT, 16, False, WD_ALIGN_PARAGRAPH.LEFT),
        ("Notice Body", BODY_FONT, 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
        ("Notice Right", BODY_FONT, 16, False, WD_ALIGN_PARAGRAPH.RIGHT),
    ):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        _font(style, font, size, bold)
        style.paragraph_format.alignment = align
    styles["Notice Body"].paragraph_format.first_line_indent = Pt(32)
    styles["Notice Heading"].paragraph_format.first_line_indent = Pt(32)


def _font(style: object, east_asia: str, size: int, bold: bool = False) -> None:
    font = style.font  # type: ignore[attr-defined]
    font.name, font.size, font.bold = LATIN_FONT, Pt(size), bold
    rpr = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


STYLE_OF = {
    "org": "Notice Org",
    "title": "Notice Title",
    "ref": "Notice Right",
    "salute": "Normal",
    "body": "Notice Body",
    "heading": "Notice Heading",
    "sign": "Notice Right",
}


def _add(document: DocumentObject, kind: str, text: str) -> None:
    if kind == "sign" and text == "{{issuing_body}}":
        document.add_paragraph("", style="Normal")  # a blank line above the signature, where the seal goes
    document.add_paragraph(text, style=STYLE_OF[kind])


def _service_receipt(document: DocumentObject, title: str) -> None:
    """送达回证: who received which document when; the clerk brings it back signed."""
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph("送达回证", style="Notice Title")
    rows = [
        ("信访件编号", "{{number}}"),
        ("送达文书", title),
        ("受送达人", "{{petitioner_name}}"),
        ("送达机关", "{{issuing_body}}"),
        ("送达日期", "{{issued_on}}"),
        ("受送达人签收", ""),
        ("送达人", ""),
    ]
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].text, row.cells[1].text = label, value


def _reproducible_zip(document: DocumentObject) -> bytes:
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: (i.filename != "[Content_Types].xml", i.filename)):
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write the .docx templates to")
    args = parser.parse_args(argv)
    for path in build_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
