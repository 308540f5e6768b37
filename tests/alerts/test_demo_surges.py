"""After `load_demo`, daily warning scans over each injected surge find it: an alert at its township, opened
between its start and a week after its end."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import seed_org_and_users  # noqa: F401  (the demo loader seeds its own organisation)
from xinfang.alerts.models import Alert
from xinfang.alerts.service import run_warning_scan
from xinfang.analytics.warning.combine import WarningConfig
from xinfang.clock import local_date
from xinfang.demo.generator import generate_history, surges_of
from xinfang.demo.loader import load_demo
from xinfang.runtime import Runtime

SCALE = 0.3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_scan_finds_the_injected_demo_surges(runtime: Runtime) -> None:
    load_demo(runtime, scale=SCALE)
    end = local_date(runtime.clock.now()) - timedelta(days=1)
    surges = surges_of(generate_history(seed=2026, end=end, scale=SCALE))
    assert len(surges) == 3
    config = dataclasses.replace(WarningConfig(), scan_replicates=999)
    found = {}
    for surge in surges:
        day = surge.start_on
        while day <= surge.end_on + timedelta(days=3):
            with runtime.session() as s:
                run_warning_scan(s, now=runtime.clock.now(), day=day, config=config)
            day += timedelta(days=1)
        with runtime.session() as s:
            alerts = (
                s.execute(
                    select(Alert).where(
                        Alert.first_signal_on >= surge.start_on,
                        Alert.first_signal_on <= surge.end_on + timedelta(days=7),
                    )
                )
                .scalars()
                .all()
            )
            found[surge.key] = [
                (a.tier, a.methods, a.first_signal_on)
                for a in alerts
                if a.township_code == surge.township_code
                or any(surge.township_code in e.get("townships", []) for e in a.evidence.values())
            ]
    assert all(found.values()), found
    assert sum(any(t == "red" for t, _m, _d in v) for v in found.values()) >= 2, found
