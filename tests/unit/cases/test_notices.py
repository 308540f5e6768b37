"""Written notices: each kind rendered, opened with python-docx and read; required fields; editable templates."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from xinfang.cases.notices import (
    FIELDS,
    NOTICE_TITLES,
    OUTCOME_EXPLANATIONS,
    REQUIRED,
    NoticeKind,
    chinese_date,
    fill_paragraph,
    render_notice,
    template_path,
)
from xinfang.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[3]
K = NoticeKind

COMMON: dict[str, Any] = {
    "issuing_body": "某县人力资源和社会保障局",
    "number": "XF202603020000001",
    "petitioner_name": "张三",
    "issued_on": date(2026, 3, 2),
}
ANSWER: dict[str, Any] = {
    "request": "请求督促某建筑公司支付拖欠的工资二万元",
    "facts": "经调查，某建筑公司拖欠张三等五人工资属实。\n该公司已承认欠薪事实。",
    "outcome": "支持",
    "opinion": "责令某建筑公司于2026年3月31日前足额支付。",
    "legal_basis": "《保障农民工工资支付条例》第三条",
}
FIELDS_BY_KIND: dict[NoticeKind, dict[str, Any]] = {
    K.ACCEPTANCE: {
        "received_on": date(2026, 1, 5),
        "matter": "讨要拖欠工资",
        "accepted_on": date(2026, 1, 8),
    },
    K.REFUSAL: {
        "received_on": date(2026, 1, 5),
        "matter": "讨要拖欠工资",
        "reason": "该事项已经人民法院判决",
    },
    K.REFERRAL: {"received_on": "2026-01-05", "matter": "宅基地纠纷", "competent_body": "某镇人民政府"},
    K.EXTENSION: {
        "received_on": date(2026, 1, 5),
        "matter": "讨要拖欠工资",
        "reason": "涉及多家单位，需进一步调查核实",
        "extension_days": 30,
        "new_due_on": date(2026, 4, 8),
    },
    K.DIVERSION: {
        "received_on": date(2026, 1, 5),
        "matter": "劳动合同解除争议",
        "legal_channel": "劳动人事争议仲裁",
        "competent_body": "某县劳动人事争议仲裁委员会",
    },
    K.DECISION: {"received_on": date(2026, 1, 5), **ANSWER},
    K.REVIEW_DECISION: {"review_requested_on": date(2026, 4, 1), **ANSWER, "outcome": "不予支持"},
    K.RECHECK_DECISION: {"recheck_requested_on": date(2026, 5, 6), **ANSWER, "outcome": "解释说明"},
    K.FINAL_REFUSAL: {
        "received_on": date(2026, 7, 1),
        "matter": "讨要拖欠工资",
        "final_body": "某市人民政府",
        "final_on": date(2026, 6, 1),
    },
}
# What each notice must say, beyond the common head: the legal facts of regulation.md.
MUST_SAY: dict[NoticeKind, tuple[str, ...]] = {
    K.ACCEPTANCE: ("受理告知书", "2026年1月5日", "讨要拖欠工资", "2026年1月8日", "60日内"),
    K.REFUSAL: ("不予受理告知书", "不予受理", "该事项已经人民法院判决"),
    K.REFERRAL: ("告知书", "宅基地纠纷", "请你向某镇人民政府提出", "不属于本机关职责范围"),
    K.EXTENSION: ("延期告知书", "涉及多家单位", "延长30日", "2026年4月8日前", "不超过30日"),
    K.DIVERSION: ("导入法定途径告知书", "劳动人事争议仲裁", "某县劳动人事争议仲裁委员会"),
    K.DECISION: (
        "处理意见书",
        "信访事项和请求",
        "请求督促某建筑公司支付",
        "查明的事实",
        "拖欠张三等五人工资属实",
        "处理结果：支持。" + OUTCOME_EXPLANATIONS["支持"],
        "依据",
        "《保障农民工工资支付条例》第三条",
        "自收到本处理意见书之日起30日内，向本机关的上一级机关请求复查",
    ),
    K.REVIEW_DECISION: (
        "复查意见书",
        "2026年4月1日",
        "复查结果：不予支持。",
        "30日内，向本机关的上一级机关请求复核",
    ),
    K.RECHECK_DECISION: ("复核意见书", "复核结果：解释说明。", "最终处理意见", "不再受理"),
    K.FINAL_REFUSAL: ("不再受理告知书", "某市人民政府于2026年6月1日作出复核意见", "不再受理"),
}


def _fields(kind: NoticeKind, **changes: Any) -> dict[str, Any]:
    return {**COMMON, **FIELDS_BY_KIND[kind], **changes}


def _text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [p.text for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_each_notice_kind_renders_a_docx_with_the_case_and_the_legal_facts(kind: NoticeKind) -> None:
    data = render_notice(kind, _fields(kind))
    assert data[:2] == b"PK"
    text = _text(data)
    for expected in (
        "某县人力资源和社会保障局",
        "XF202603020000001",
        "张三：",
        "2026年3月2日",
        *MUST_SAY[kind],
    ):
        assert expected in text, (kind, expected)
    assert "{{" not in text and "}}" not in text
    assert NOTICE_TITLES[kind] in text
    assert "送达回证" in text  # the table on the last page is filled too
    document = docx.Document(io.BytesIO(data))
    assert document.tables[0].rows[2].cells[1].text == "张三"
    assert document.core_properties.title == NOTICE_TITLES[kind]


def test_multi_line_facts_keep_their_line_break() -> None:
    document = docx.Document(io.BytesIO(render_notice(K.DECISION, _fields(K.DECISION))))
    facts = next(p for p in document.paragraphs if "属实" in p.text)
    assert "属实。\n该公司已承认" in facts.text


def test_dates_print_in_the_official_chinese_form() -> None:
    assert chinese_date(date(2026, 3, 2)) == "2026年3月2日"
    assert chinese_date(date(2025, 10, 14)) == "2025年10月14日"


def test_chinese_text_carries_an_east_asian_font() -> None:
    document = docx.Document(io.BytesIO(render_notice(K.REFUSAL, _fields(K.REFUSAL))))
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert document.styles["Notice Title"].element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert document.styles["Notice Heading"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert document.styles["Normal"].font.size == Pt(16)


@pytest.mark.parametrize("name", REQUIRED[K.DECISION])
def test_a_missing_required_field_is_named(name: str) -> None:
    fields = _fields(K.DECISION)
    fields.pop(name, None)
    if name == "outcome_explanation":  # derived from the outcome; missing only when the outcome is
        fields.pop("outcome")
        name = "outcome"
    if name == "review_body":  # has a lawful default
        assert render_notice(K.DECISION, fields)
        return
    with pytest.raises(InvalidInput) as err:
        render_notice(K.DECISION, fields)
    assert err.value.code == "notices.field_required" and err.value.params["field"] == name
    assert name in err.value.message


def test_a_refusal_without_its_reason_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        render_notice(K.REFUSAL, _fields(K.REFUSAL, reason="  "))
    assert err.value.params["field"] == "reason"


def test_the_outcome_must_be_one_of_the_three() -> None:
    with pytest.raises(InvalidInput) as err:
        render_notice(K.DECISION, _fields(K.DECISION, outcome="部分支持"))
    assert err.value.code == "notices.bad_outcome"


@pytest.mark.parametrize("name", ["id_number", "phone"])
def test_personal_identifiers_never_go_into_a_notice(name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        render_notice(K.ACCEPTANCE, _fields(K.ACCEPTANCE, **{name: "350428199001011234"}))
    assert err.value.code == "notices.personal_data_refused"


def test_an_unknown_kind_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as err:
        render_notice("summons", COMMON)
    assert err.value.code == "notices.unknown_kind"


# --- editable templates --------------------------------------------------------------------------------------------


def _split_run_template(path: Path, *, drop: str | None = None, extra: str = "") -> None:
    """A template as Word leaves it after editing: placeholders split over runs, one in a table cell."""
    document = docx.Document(str(template_path(K.REFUSAL)))
    for paragraph in document.paragraphs:
        paragraph._p.getparent().remove(paragraph._p)
    head = document.add_paragraph()
    for piece, bold in (("尊敬的{", False), ("{petitioner", True), ("_name}", False), ("}：", False)):
        head.add_run(piece).bold = bold
    body = document.add_paragraph("")
    pieces = ["你于{{received_on}}反映的“{{mat", "ter}}”，因{{re", "ason", "}}不予受理。" + extra]
    if drop == "reason":
        pieces = ["你于{{received_on}}反映的“{{matter}}”不予受理。"]
    for piece in pieces:
        body.add_run(piece)
    for name in ("issuing_body", "number", "issued_on"):
        document.add_paragraph("{{" + name + "}}")
    cell = document.tables[0].rows[0].cells[1]
    cell.paragraphs[0].text = ""
    cell.paragraphs[0].add_run("{{num")
    cell.paragraphs[0].add_run("ber}}")
    document.save(str(path))


def test_placeholders_split_across_runs_and_in_table_cells_are_filled(tmp_path: Path) -> None:
    _split_run_template(tmp_path / "refusal.docx")
    data = render_notice(K.REFUSAL, _fields(K.REFUSAL), template_dir=tmp_path)
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == "尊敬的张三："
    assert document.paragraphs[0].runs[0].bold is not True and document.paragraphs[0].runs[1].bold is True
    assert (
        document.paragraphs[1].text
        == "你于2026年1月5日反映的“讨要拖欠工资”，因该事项已经人民法院判决不予受理。"
    )
    assert document.tables[0].rows[0].cells[1].text == "XF202603020000001"


def test_a_template_that_drops_a_legally_required_field_is_refused(tmp_path: Path) -> None:
    _split_run_template(tmp_path / "refusal.docx", drop="reason")
    with pytest.raises(InvalidInput) as err:
        render_notice(K.REFUSAL, _fields(K.REFUSAL), template_dir=tmp_path)
    assert err.value.code == "notices.template_incomplete" and err.value.params["field"] == "reason"


def test_a_misspelt_placeholder_fails_loudly_instead_of_printing_braces(tmp_path: Path) -> None:
    _split_run_template(tmp_path / "refusal.docx", extra="{{petitoner_name}}")
    with pytest.raises(InvalidInput) as err:
        render_notice(K.REFUSAL, _fields(K.REFUSAL), template_dir=tmp_path)
    assert err.value.params["field"] == "petitoner_name"


def test_a_missing_template_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        render_notice(K.REFUSAL, _fields(K.REFUSAL), template_dir=tmp_path)
    assert err.value.code == "notices.template_missing"


def test_fill_paragraph_leaves_text_without_placeholders_alone() -> None:
    paragraph = docx.Document().add_paragraph("没有占位符 {not one}")
    fill_paragraph(paragraph, {})
    assert paragraph.text == "没有占位符 {not one}"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_notice_templates", ROOT / "scripts/build_notice_templates.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_templates_are_what_the_script_builds(tmp_path: Path) -> None:
    builder = _builder()
    builder.main(["--out", str(tmp_path)])
    for kind in NoticeKind:
        built = docx.Document(str(tmp_path / f"{kind.value}.docx"))
        committed = docx.Document(str(template_path(kind)))
        assert [p.text for p in built.paragraphs] == [p.text for p in committed.paragraphs], kind
    again = tmp_path / "again"
    builder.main(["--out", str(again)])
    assert (again / "decision.docx").read_bytes() == (tmp_path / "decision.docx").read_bytes()


def test_the_template_readme_documents_every_field() -> None:
    readme = (ROOT / "src/xinfang/data/notices/README.md").read_text(encoding="utf-8")
    for kind in NoticeKind:
        assert f"{kind.value}.docx" in readme
        for name in FIELDS[kind]:
            assert f"`{name}`" in readme, name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_a_generated_notice(tmp_path: Path) -> None:
    source = tmp_path / "decision.docx"
    source.write_bytes(render_notice(K.DECISION, _fields(K.DECISION)))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",  # own profile: parallel runs cannot lock each other
            "--headless",
            "--convert-to",
            "txt:Text",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = (tmp_path / "decision.txt").read_text(encoding="utf-8-sig")
    assert "处理意见书" in text and "张三" in text and "请求复查" in text
