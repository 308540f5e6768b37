"""The warning scan confined to one county (a database holding a province's counties is scanned county by county)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import select

from tests.alerts.conftest import add_petition
from xinfang.alerts.models import Alert
from xinfang.alerts.service import run_warning_scan
from xinfang.analytics.warning.combine import WarningConfig
from xinfang.cases.enums import OrgKind
from xinfang.errors import InvalidInput
from xinfang.org.service import OrgSpec, upsert_org_units
from xinfang.runtime import Runtime

DAY = date(2026, 3, 1)  # the clock fixture's "yesterday"
CFG = dataclasses.replace(WarningConfig(), scan_replicates=19)
HOME, OTHER = "350428101", "351101101"  # a township of the demo county, one of another county


@pytest.fixture
def two_counties(seeded: Runtime) -> Runtime:
    with seeded.session() as s:
        upsert_org_units(
            s, [OrgSpec(code=OTHER, name="邻县第一镇", kind=OrgKind.TOWNSHIP, lng=117.9, lat=26.9)]
        )
        for town in (HOME, OTHER):  # a group visit of 30 people in each county
            add_petition(s, day=DAY, township=town, channel="visit", headcount=30)
    return seeded


def _alerts(rt: Runtime) -> list[str]:
    with rt.session() as s:
        return sorted(s.execute(select(Alert.situation_key)).scalars())


def test_a_county_scan_reads_and_alerts_only_its_own_county(two_counties: Runtime) -> None:
    rt = two_counties
    with rt.session() as s:
        home = run_warning_scan(s, now=rt.clock.now(), config=CFG, county="350428")
    assert home.records_read == 1
    assert _alerts(rt) == [f"place:{HOME}:劳动和社会保障"]
    with rt.session() as s:
        other = run_warning_scan(s, now=rt.clock.now(), config=CFG, county="351101")
    assert other.records_read == 1 and other.opened == 1
    assert _alerts(rt) == [f"place:{HOME}:劳动和社会保障", f"place:{OTHER}:劳动和社会保障"]


def test_a_county_code_must_have_six_digits(two_counties: Runtime) -> None:
    with two_counties.session() as s, pytest.raises(InvalidInput):
        run_warning_scan(s, now=two_counties.clock.now(), config=CFG, county="3504")
