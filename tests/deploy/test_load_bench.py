"""The load benchmark runs end to end (tiny sizes): real server processes, real HTTP, every request answered.

Figures are not asserted (they depend on the machine); the benchmark prints them, and the closing notes quote the
full runs. What is checked: the JSON line's shape, no failed request, and the enrichment queue drained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*extra: str) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--n", "8", "--reads", "4", "--repeat", "1"]
    out = subprocess.run(
        [*cmd, "--concurrency", "2", "--server-workers", "1", "--dispatch", "--json", *extra],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _check(result: dict) -> None:
    assert result["intake_1_client"]["failures"] == 0 and result["intake_2_clients"]["failures"] == 0
    assert all(r["failures"] == 0 for r in result["reads"].values()), result["reads"]
    assert result["intake_1_client"]["per_s"] > 0 and result["baseline_inprocess_per_s"] > 0
    assert result["enrichment_jobs"] == 8 * 3  # every petition of the round (2 HTTP phases + in-process)


def test_the_load_benchmark_on_sqlite() -> None:
    result = _run()
    assert result["backend"] == "sqlite"
    _check(result)


@pytest.mark.postgres
def test_the_load_benchmark_on_postgresql() -> None:
    url = os.environ.get("XINFANG_TEST_DATABASE_URL")
    if not url:
        pytest.skip("XINFANG_TEST_DATABASE_URL not set")
    result = _run("--db", url)
    assert result["backend"] == "postgresql"
    _check(result)
