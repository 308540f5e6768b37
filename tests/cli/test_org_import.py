"""Loading a county's organisation from a file (`xinfang org import / export / template`), and the dispatch engine
reading its places and departments from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import make_settings
from xinfang.administration.organisation import template, to_xlsx
from xinfang.cli import build_app
from xinfang.dispatch.engine import base_pipeline, shipped_pipeline
from xinfang.org.geography import county_name
from xinfang.org.loader import org_specs
from xinfang.org.models import OrgUnit
from xinfang.org.service import upsert_org_units
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry
from xinfang.text.gazetteer import data_path

runner = CliRunner()

# A fictional organisation of a real county code (长汀县, 350821; outside the shipped national list, which names
# provinces, prefectures and the demo city's counties only, so its name comes from the file): names made up.
COUNTY: dict[str, Any] = {
    "county": {"code": "350821", "name": "长汀县"},
    "units": [
        {"code": "xfj", "name": "长汀县信访局", "kind": "信访局"},
        {"code": "rsj", "name": "长汀县人力资源和社会保障局", "short": "人社局", "kind": "部门"},
        {"code": "sthjj", "name": "长汀县生态环境局", "kind": "部门"},
    ],
    "divisions": [
        {"code": "350821100000", "name": "杉溪镇", "level": "乡镇", "population": 30000, "lng": 117.17, "lat": 26.9,
         "aliases": ["杉溪乡"]},
        {"code": "350821100201", "name": "青石村", "level": "村", "population": 1200, "lng": 117.18, "lat": 26.91},
        {"code": "350821101", "name": "梅岭乡", "level": "乡镇"},
        {"code": "350821101202", "name": "竹源社区", "level": "社区", "parent": "350821101"},
    ],
}  # fmt: skip


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.output


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _units(db_url: str) -> dict[str, OrgUnit]:
    rt = Runtime(settings=make_settings(db_url, Path("/nonexistent")))
    with rt.session() as s:
        units = {u.code: u for u in s.execute(select(OrgUnit)).scalars()}
        for u in units.values():
            _ = u.parent  # load before the session closes
        s.expunge_all()
    rt.dispose()
    return units


def test_import_creates_units_and_divisions_then_changes_nothing_on_reimport(
    db_url: str, tmp_path: Path
) -> None:
    file = _write_yaml(tmp_path / "org.yaml", COUNTY)
    code, out = _invoke("org", "import", str(file), "--json", "--db", db_url)
    assert code == 0, out
    report = json.loads(out)
    assert report["county"] == "350821"
    assert (report["units"], report["townships"], report["villages"], report["created"]) == (3, 2, 2, 8)
    units = _units(db_url)
    assert units["350821100"].kind == "township" and units["350821100"].aliases == ["杉溪乡"]  # 12 digits → 9
    assert units["350821100201"].parent.code == "350821100" and units["350821100201"].population == 1200
    assert units["350821101202"].kind == "village" and units["350821101202"].parent.code == "350821101"
    assert units["rsj"].short_name == "人社局" and units["xfj"].kind == "bureau"
    assert (units["350821"].kind, units["350821"].name) == ("county", "长汀县")
    rt = Runtime(settings=make_settings(db_url, tmp_path))
    with rt.session() as s:
        assert county_name(s) == "长汀县"  # from the file: the shipped national list does not name counties
    rt.dispose()

    code, out = _invoke("org", "import", str(file), "--json", "--db", db_url)
    again = json.loads(out)
    assert code == 0 and (again["created"], again["updated"], again["unchanged"]) == (0, 0, 8)

    changed = json.loads(json.dumps(COUNTY))
    changed["divisions"][2]["population"] = 8000
    code, out = _invoke(
        "org", "import", str(_write_yaml(tmp_path / "v2.yaml", changed)), "--json", "--db", db_url
    )
    assert code == 0 and json.loads(out)["updated"] == 1
    assert _units(db_url)["350821101"].population == 8000


def test_export_round_trips_through_xlsx_and_yaml(db_url: str, tmp_path: Path) -> None:
    _invoke("org", "import", str(_write_yaml(tmp_path / "org.yaml", COUNTY)), "--db", db_url)
    for name in ("org.xlsx", "org.yaml"):
        code, out = _invoke("org", "export", "--out", str(tmp_path / name), "--db", db_url)
        assert code == 0, out
        code, out = _invoke("org", "import", str(tmp_path / name), "--json", "--db", db_url)
        report = json.loads(out)
        assert code == 0 and (report["created"], report["updated"], report["unchanged"]) == (0, 0, 8), out
    exported = yaml.safe_load((tmp_path / "org.yaml").read_text(encoding="utf-8"))
    assert exported["county"] == {"code": "350821", "name": "长汀县"}
    assert [d["code"] for d in exported["divisions"]] == [
        "350821100",
        "350821100201",
        "350821101",
        "350821101202",
    ]


def test_a_file_with_any_error_imports_nothing_and_names_every_row(db_url: str, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(COUNTY))
    bad["units"].append({"code": "9zz", "name": "数字开头", "kind": "部门"})
    bad["units"].append({"code": "jyj", "name": "教育局", "kind": "科室"})
    bad["divisions"] += [
        {"code": "350430100201", "name": "外县村", "level": "村"},  # under another county
        {"code": "350821105201", "name": "孤村", "level": "村"},  # its township does not exist
        {"code": "350821100202", "name": "青石村", "level": "村"},  # same name in the same township
        {"code": "35082110", "name": "短码镇", "level": "乡镇"},
        {"code": "350821102", "name": "坐标镇", "level": "乡镇", "lng": 26.9, "lat": 117.1},  # swapped
        {"code": "350821100201", "name": "重复", "level": "村"},
    ]
    code, out = _invoke(
        "org", "import", str(_write_yaml(tmp_path / "bad.yaml", bad)), "--json", "--db", db_url
    )
    assert code == 2
    errors = {(e["sheet"], e["row"], e["column"]) for e in json.loads(out)["errors"]}
    assert errors == {
        ("units", 4, "代码"),
        ("units", 5, "类型"),
        ("divisions", 5, "区划代码"),
        ("divisions", 6, "区划代码"),
        ("divisions", 7, "名称"),
        ("divisions", 8, "区划代码"),
        ("divisions", 9, "经度"),
        ("divisions", 10, "区划代码"),
    }
    assert _units(db_url) == {}  # all or nothing

    code, out = _invoke("org", "import", str(_write_yaml(tmp_path / "ok.yaml", COUNTY)), "--db", db_url)
    assert code == 0, out
    other = {
        "county": {"code": "350430", "name": "建宁县"},
        "divisions": [{"code": "350430100", "name": "濉溪镇", "level": "乡镇"}],
    }
    code, out = _invoke("org", "import", str(_write_yaml(tmp_path / "other.yaml", other)), "--db", db_url)
    assert code == 2 and "一套系统只载入一个县" in out
    second_bureau = {"units": [{"code": "xfj2", "name": "又一个信访局", "kind": "信访局"}]}
    code, out = _invoke("org", "import", str(_write_yaml(tmp_path / "b.yaml", second_bureau)), "--db", db_url)
    assert code == 2 and "只能有一个信访局" in out


def test_the_xlsx_template_reports_sheet_rows_and_the_shipped_sample_imports(
    db_url: str, tmp_path: Path
) -> None:
    data = template()
    data["divisions"].append({"code": "123", "name": "坏码", "level": "村"})
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(to_xlsx(data))
    code, out = _invoke("org", "import", str(bad), "--db", db_url)
    assert code == 2 and "区划第7行【区划代码】" in out  # header row 1, county row 2, then the divisions

    sample = data_path("samples", "organisation_template.xlsx")
    code, out = _invoke("org", "import", str(sample), "--json", "--db", db_url)
    assert code == 0, out
    assert json.loads(out)["townships"] == 2
    code, out = _invoke("org", "template", "--out", str(tmp_path / "t.xlsx"))
    assert code == 0 and (tmp_path / "t.xlsx").stat().st_size > 0
    # the template written now is the shipped sample: importing it changes nothing but is audited
    assert _invoke("org", "import", str(tmp_path / "t.xlsx"), "--db", db_url)[0] == 0
    rt = Runtime(settings=make_settings(db_url, tmp_path))
    with rt.session() as s:
        assert s.execute(select(func.count()).where(AuditEntry.action == "org.import")).scalar_one() == 2
    rt.dispose()


def test_the_engine_recognises_the_imported_places_and_names_the_imported_departments(
    db_url: str, tmp_path: Path
) -> None:
    rt = Runtime(settings=make_settings(db_url, tmp_path, dispatch_enabled=True))
    text = "杉溪乡青石村的工厂排放污水,异味很大,要求处理。"

    def analyse() -> dict[str, Any]:
        with rt.session() as s:
            analyser = rt.intake_analyser(s)
            assert analyser is not None
            return analyser("排放污水", text)

    before = analyse()
    assert before["location"]["township_code"] is None  # the demo county knows no 杉溪
    code, out = _invoke("org", "import", str(_write_yaml(tmp_path / "org.yaml", COUNTY)), "--db", db_url)
    assert code == 0, out
    after = analyse()  # the same process, on its next request
    assert after["location"]["township_code"] == "350821100"  # by the alias 杉溪乡
    assert after["location"]["village_code"] == "350821100201"
    names = {d["code"]: d["name"] for d in after["departments"]}
    assert names.get("350821100") == "杉溪镇人民政府"
    assert names.get("sthjj") == "长汀县生态环境局"  # the imported name, not the demo county's
    rt.dispose()


def test_the_demo_organisation_in_the_database_gives_the_shipped_gazetteer(
    db_url: str, tmp_path: Path
) -> None:
    rt = Runtime(settings=make_settings(db_url, tmp_path))
    with rt.session() as s:
        upsert_org_units(s, org_specs())
    with rt.session() as s:
        key, pipeline = base_pipeline(s)
    shipped = shipped_pipeline()
    assert key != "shipped"  # built from the database ...
    assert pipeline.gazetteer.places == shipped.gazetteer.places  # ... to the same places, aliases included
    assert pipeline.departments == shipped.departments
    rt.dispose()


@pytest.mark.parametrize("suffix", [".csv"])
def test_a_csv_holds_one_table(db_url: str, tmp_path: Path, suffix: str) -> None:
    units = tmp_path / f"units{suffix}"
    units.write_text("代码,名称,简称,类型\nxfj,县信访局,,信访局\nrsj,县人社局,人社局,部门\n", encoding="gbk")
    divisions = tmp_path / f"divisions{suffix}"
    divisions.write_text(
        "区划代码,名称,级别\n350821,长汀县,县\n350821100,杉溪镇,乡镇\n350821100201,青石村,村\n",
        encoding="utf-8",
    )
    assert _invoke("org", "import", str(units), "--db", db_url)[0] == 0
    code, out = _invoke("org", "import", str(divisions), "--json", "--db", db_url)
    assert code == 0 and json.loads(out)["villages"] == 1, out
    assert set(_units(db_url)) == {"xfj", "rsj", "350821", "350821100", "350821100201"}
