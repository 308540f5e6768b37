"""`xinfang alerts scan` and `xinfang alerts deliver` against a database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.alerts.conftest import add_petition
from tests.alerts.test_alerts_service import DAY
from xinfang.cli import build_app
from xinfang.runtime import Runtime


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_scan_then_deliver_from_the_command_line(seeded: Runtime) -> None:
    with seeded.session() as s:
        add_petition(s, day=DAY, channel="visit", headcount=30)
    runner = CliRunner()
    url = seeded.settings.database_url
    result = runner.invoke(
        build_app(), ["alerts", "scan", "--db", url, "--date", DAY.isoformat(), "--replicates", "99"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["day"] == DAY.isoformat() and report["opened"] == 1 and report["deliveries_enqueued"] == 1
    result = runner.invoke(build_app(), ["alerts", "deliver", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["sent"] == 1
    result = runner.invoke(build_app(), ["alerts", "deliver", "--db", url])
    assert json.loads(result.output.strip().splitlines()[-1])["sent"] == 0
