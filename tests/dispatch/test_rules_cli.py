"""`xinfang rules export/import`: the rules as an editable YAML file, validated when it comes back."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from xinfang.cli import build_app
from xinfang.dispatch.service import active_rules
from xinfang.runtime import Runtime


def test_exported_rules_edited_and_imported_become_the_active_version(
    seeded: Runtime, tmp_path: Path
) -> None:
    db, file = seeded.settings.database_url, tmp_path / "rules.yaml"
    runner = CliRunner()
    assert runner.invoke(build_app(), ["rules", "export", "--db", db, "--out", str(file)]).exit_code == 0
    content = yaml.safe_load(file.read_text(encoding="utf-8"))
    next(d for d in content["departments"] if d["code"] == "jyj")["keywords"].append(
        {"term": "校车接送", "weight": 2}
    )
    file.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")

    result = runner.invoke(build_app(), ["rules", "import", str(file), "--db", db, "--comment", "加校车"])
    assert result.exit_code == 0, result.output
    with seeded.session() as s:
        active = active_rules(s)
        assert active.version is not None and active.version.comment == "加校车"
        jyj = next(d for d in active.content["departments"] if d["code"] == "jyj")
        assert {"term": "校车接送", "weight": 2.0} in jyj["keywords"]


def test_an_invalid_file_is_refused_with_a_clear_message(seeded: Runtime, tmp_path: Path) -> None:
    file = tmp_path / "rules.yaml"
    file.write_text("departments:\n  - {code: nosuch, keywords: [某词]}\n", encoding="utf-8")
    result = CliRunner().invoke(
        build_app(), ["rules", "import", str(file), "--db", seeded.settings.database_url]
    )
    assert result.exit_code != 0
    assert "nosuch" in result.output and "routing.unknown_department" in result.output
