"""`xinfang import`: GBK/GB18030 CSV and XLSX import correctly; a bad row imports nothing and is named; twice adds
nothing. Run through the CLI against each database backend."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.factories import fake_id_number
from xinfang.cases.models import ImportBatch, Petition, Petitioner
from xinfang.cli import build_app
from xinfang.runtime import Runtime

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about files; analysis on intake is tested with the API."""
    monkeypatch.setenv("XINFANG_DISPATCH_ENABLED", "false")
    monkeypatch.setenv("XINFANG_DATA_KEY", "test-only-key-0123456789abcdef")


HEADERS = ["编号", "来信时间", "姓名", "身份证号", "联系电话", "所属乡镇", "标题", "内容"]


def _rows(n: int = 3) -> list[list[str]]:
    return [
        [
            f"XX-{i}",
            f"2026-02-{10 + i} 09:3{i}",
            f"测试人{i}",
            fake_id_number(seed=100 + i),
            f"1390000{i:04d}",
            "万安镇",
            f"反映事项{i}",
            f"万安镇某村道路损坏{i}处,群众出行不便,要求尽快修复。",
        ]
        for i in range(n)
    ]


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(rt: Runtime, path: Path, *extra: str) -> tuple[int, dict]:
    url = rt.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        build_app(), ["import", str(path), "--source", "县长信箱", "--json", "--db", url, *extra]
    )
    out = result.output.strip().splitlines()
    return result.exit_code, json.loads(out[-1]) if out and out[-1].startswith("{") else {
        "raw": result.output
    }


def _count(rt: Runtime) -> int:
    with rt.session() as s:
        return s.execute(select(func.count()).select_from(Petition)).scalar_one()


def test_a_gbk_csv_imports_correctly(seeded: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "来信.csv"
    rows = _rows()
    path.write_bytes(_csv_bytes(rows, "gbk"))
    code, report = _import(seeded, path)
    assert code == 0, report
    assert report["encoding"] in ("gb18030", "gbk") and report["rows_added"] == 3
    with seeded.session() as s:
        p = s.execute(select(Petition).where(Petition.external_id == "XX-1")).scalar_one()
        assert p.title == "反映事项1" and p.township_code == "350428101" and p.source == "县长信箱"
        assert p.received_at == datetime.fromisoformat("2026-02-11T01:31:00+00:00")  # 09:31 in China
        person = s.execute(select(Petitioner).where(Petitioner.petition_id == p.id)).scalar_one()
        assert person.name == "测试人1" and seeded.keyring.decrypt(person.id_number_enc or "") == rows[1][3]


def test_a_gb18030_csv_with_a_rare_character_imports(seeded: Runtime, tmp_path: Path) -> None:
    rows = _rows(1)
    rows[0][2] = "王䶮"
    path = tmp_path / "rare.csv"
    path.write_bytes(_csv_bytes(rows, "gb18030"))
    code, report = _import(seeded, path)
    assert code == 0, report
    with seeded.session() as s:
        assert s.execute(select(Petitioner.name)).scalar_one() == "王䶮"


def test_an_xlsx_imports_with_real_excel_dates(seeded: Runtime, tmp_path: Path) -> None:
    rows: list[list[object]] = [list(r) for r in _rows(2)]
    rows[0][1] = datetime(2026, 1, 5, 14, 0)  # an Excel date cell
    path = tmp_path / "工单.xlsx"
    path.write_bytes(_xlsx_bytes(rows))
    code, report = _import(seeded, path)
    assert code == 0 and report["rows_added"] == 2, report
    with seeded.session() as s:
        p = s.execute(select(Petition).where(Petition.external_id == "XX-0")).scalar_one()
        assert p.received_at == datetime.fromisoformat("2026-01-05T06:00:00+00:00")


def test_a_file_with_a_bad_row_imports_nothing_and_names_the_row(seeded: Runtime, tmp_path: Path) -> None:
    rows = _rows(4)
    rows[2][3] = "350428199001011235"  # wrong check digit, in the 4th line of the file (row 4)
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv_bytes(rows, "utf-8"))
    code, report = _import(seeded, path)
    assert code == 2
    assert report["ok"] is False and report["rows_added"] == 0
    assert [e["row"] for e in report["errors"]] == [4]
    assert "身份证" in report["errors"][0]["message"] and "350428199001011235" not in json.dumps(report)
    assert _count(seeded) == 0


def test_importing_twice_adds_nothing(seeded: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_bytes(_csv_bytes(_rows(), "gb18030"))
    assert _import(seeded, path)[1]["rows_added"] == 3
    code, report = _import(seeded, path)
    assert code == 0 and report["rows_added"] == 0 and report["rows_existing"] == 3
    assert _count(seeded) == 3
    with seeded.session() as s:
        assert s.execute(select(func.count()).select_from(ImportBatch)).scalar_one() == 2


def test_a_file_without_ids_is_still_idempotent(seeded: Runtime, tmp_path: Path) -> None:
    rows = [r[1:] for r in _rows()]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS[1:])
    w.writerows(rows)
    path = tmp_path / "noid.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    assert _import(seeded, path)[1]["rows_added"] == 3
    assert _import(seeded, path)[1]["rows_added"] == 0
    assert _count(seeded) == 3


def test_a_wrong_explicit_encoding_is_a_clear_error(seeded: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv_bytes(_rows(), "gbk"))
    url = seeded.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        build_app(), ["import", str(path), "--source", "x", "--encoding", "utf-8", "--db", url]
    )
    assert result.exit_code == 2 and "utf-8" in result.output.lower()
    assert _count(seeded) == 0


def test_a_hotline_export_imports_with_its_profile(seeded: Runtime, tmp_path: Path) -> None:
    from xinfang.demo.generator import generate_hotline_rows, rows_to_csv_bytes

    rows = generate_hotline_rows(seed=1, end=datetime(2026, 2, 28).date(), months=1, scale=0.3)
    path = tmp_path / "12345.csv"
    path.write_bytes(rows_to_csv_bytes(rows))
    code, report = _import(seeded, path, "--profile", "hotline12345", "--lenient-contacts")
    assert code == 0, report
    assert report["rows_added"] == len(rows) > 0
    with seeded.session() as s:
        channels = set(s.execute(select(Petition.channel)).scalars())
    assert channels == {"hotline"}
