"""The monthly report: a .docx that opens, with the expected headings, tables and embedded charts."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from xinfang.analytics.report import HEADINGS
from xinfang.cli import build_app
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]


def _history(seeded: Runtime, reg: Any) -> None:
    with seeded.session() as s:
        for i in range(4):
            reg(s, title="小区停车", body=f"翠湖花园开发商捆绑销售车位,第{i}位业主投诉", days_ago=10 + i)
        reg(
            s,
            title="欠薪",
            body="工地拖欠工资",
            days_ago=12,
            category="劳动和社会保障",
            channel="hotline",
            source="12345",
        )
        reg(s, title="往月", body="去年的事", days_ago=60)


def _check(data: bytes) -> None:
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert any("信访形势分析报告" in t and "2026年2月" in t for t in texts)
    for heading in HEADINGS:
        assert heading in texts
    assert len(doc.tables) >= 5
    assert any("城乡建设" in c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert len(doc.inline_shapes) >= 3  # category chart, heat map, forecast chart
    assert any("本月共收到信访及诉求记录 5 件" in t for t in texts)


def test_the_api_returns_the_monthly_docx(seeded: Runtime, reg: Any, client: TestClient, auth: Auth) -> None:
    _history(seeded, reg)
    r = client.get("/api/analytics/report.docx?month=2026-02", headers=auth("leader"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    _check(r.content)


def test_the_cli_writes_the_monthly_docx(seeded: Runtime, reg: Any, tmp_path: Path) -> None:
    _history(seeded, reg)
    out = tmp_path / "report.docx"
    result = CliRunner().invoke(
        build_app(),
        ["report", "monthly", "--month", "2026-02", "--out", str(out), "--db", seeded.settings.database_url],
        env={
            "XINFANG_DATA_KEY": seeded.settings.data_key.get_secret_value()
            if hasattr(seeded.settings.data_key, "get_secret_value")
            else str(seeded.settings.data_key)
        },
    )
    assert result.exit_code == 0, result.output
    _check(out.read_bytes())
