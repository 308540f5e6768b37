"""`xinfang review replies FILE --json`: the contract on a small synthetic XLSX, and the shape on the real file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.conftest import SHARED_DATA
from xinfang.cli import build_app

runner = CliRunner()
HEADERS = [
    "留言编号",
    "留言用户",
    "留言主题",
    "留言时间",
    "留言详情",
    "答复意见",
    "答复时间",
    "完整性指标",
    "可解释性指标",
]
SECRET = "独一无二的测试句子甲乙丙"  # must never reach the output
ROWS = [
    [
        "101",
        "U1",
        "幸福小区电梯长期停运",
        "2019/4/25 9:32:09",
        f"\n\t\t\t\n\t\t幸福小区电梯坏了三个月，{SECRET}，要求物业公司尽快维修电梯。\n\t\t",
        "经调查核实，幸福小区电梯于2019年5月3日修复，维修费用1.2万元由维修基金列支。依据《物业管理条例》第五十三条，"
        "你的请求予以支持。",
        "2019/5/10 14:56:53",
        "1",
        "1",
    ],
    [
        "102",
        "U2",
        "学校门口交通拥堵",
        datetime(2019, 3, 1, 8, 0),
        "每天放学时学校门口严重拥堵，希望增设交警疏导。",
        "您好，您反映的问题已收悉，我们已转交相关部门处理，请耐心等待。感谢您对我们工作的关心和支持。",
        "2019/6/20 10:00:00",
        "0",
        "0",
    ],
    [
        "103",
        "U3",
        "路灯不亮",
        "2019/7/1 10:00:00",
        "村口路灯不亮，希望修理路灯。",
        "经现场查看，村口路灯线路老化，已于2019年6月30日更换线路。",
        "2019/6/30 12:00:00",
        None,
        None,
    ],
]


def _xlsx(path: Path, rows: list[list[object]], headers: list[str] = HEADERS) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(build_app(), ["review", "replies", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_json_contract(tmp_path: Path) -> None:
    out = _run(str(_xlsx(tmp_path / "r.xlsx", ROWS)), "--json")
    assert set(out) == {"cases", "summary"}
    assert [c["id"] for c in out["cases"]] == ["101", "102", "103"]
    for case in out["cases"]:
        assert set(case) == {"id", "score", "findings"} and 0 <= case["score"] <= 100
        for f in case["findings"]:
            assert set(f) == {"rule", "ok", "evidence"} and isinstance(f["ok"], bool)
    good, boiler, early = out["cases"]
    assert good["score"] == 100 and boiler["score"] < good["score"]
    late = next(f for f in boiler["findings"] if f["rule"] == "timing.reply_limit")
    assert late["ok"] is False and late["evidence"]["problem"] == "late" and late["evidence"]["days"] == 111
    before = next(f for f in early["findings"] if f["rule"] == "timing.reply_limit")
    assert before["evidence"]["problem"] == "reply_before_message"
    summary = out["summary"]
    assert summary["n"] == 3 and sum(summary["score"]["histogram"].values()) == 3
    assert summary["rules"]["timing.reply_limit"] == {"applicable": 3, "failing": 2, "share_failing": 0.6667}
    agreement = summary["labelled_agreement"]["completeness"]
    assert agreement["n"] == 2 and agreement["matrix"]["label_1"]["auto_1"] == 1
    assert agreement["accuracy"] == 1.0 and agreement["kappa"] == 1.0


def test_no_message_text_reaches_the_output(tmp_path: Path) -> None:
    result = runner.invoke(
        build_app(), ["review", "replies", str(_xlsx(tmp_path / "r.xlsx", ROWS)), "--json"]
    )
    assert SECRET not in result.stdout and "维修基金列支" not in result.stdout
    plain = runner.invoke(build_app(), ["review", "replies", str(tmp_path / "r.xlsx")])
    assert plain.exit_code == 0 and "评查件数 3" in plain.stdout and SECRET not in plain.stdout


def test_without_label_columns_there_is_no_agreement_and_missing_columns_are_refused(tmp_path: Path) -> None:
    headers = HEADERS[:7]
    out = _run(str(_xlsx(tmp_path / "a.xlsx", [r[:7] for r in ROWS], headers)), "--json")
    assert "labelled_agreement" not in out["summary"]
    result = runner.invoke(
        build_app(),
        ["review", "replies", str(_xlsx(tmp_path / "b.xlsx", [r[:5] for r in ROWS], HEADERS[:5]))],
    )
    assert result.exit_code == 2 and "答复意见" in result.output


@pytest.mark.shared_data
def test_the_real_replies_file() -> None:
    path = SHARED_DATA / "teddy2020c" / "messages_with_replies_1408.xlsx"
    out = _run(str(path), "--json")
    assert len(out["cases"]) == 1408 and out["summary"]["n"] == 1408
    assert all(0 <= c["score"] <= 100 and c["findings"] for c in out["cases"])
    assert out["summary"]["labelled_agreement"]["completeness"]["n"] == 100
    assert out["summary"]["labelled_agreement"]["explainability"]["n"] == 100
    assert sum(out["summary"]["score"]["histogram"].values()) == 1408
