"""Multi-source ingest: every sample file imports through its profile, keeps its source, and the matters reported in
several feeds are linked so that distinct counts are not inflated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xinfang.analytics import heatmap as hm
from xinfang.cases.models import Petition
from xinfang.dispatch.models import PetitionLink
from xinfang.intake.importer import import_petitions
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

SAMPLES = Path(str(resources.files("xinfang") / "data" / "samples"))
FILES = {
    "hotline12345.csv": ("12345", "hotline12345"),
    "grid_events.xlsx": ("grid", "grid_event"),
    "police110.csv": ("110", "police110"),
    "housing_complaints.xlsx": ("zjj", "housing_complaint"),
    "hrss_complaints.csv": ("rsj", "hrss_complaint"),
    "market_complaints.xlsx": ("scjgj", "market_complaint"),
}


def _import_all(rt: Runtime) -> dict[str, int]:
    added = {}
    with rt.session() as s:
        for name, (source, profile) in FILES.items():
            report = import_petitions(
                s,
                runtime=rt,
                actor=SYSTEM,
                data=(SAMPLES / name).read_bytes(),
                filename=name,
                source=source,
                profile=profile,
            )
            assert report.ok, report.summary()
            added[source] = report.rows_added
    return added


def test_every_sample_file_imports_with_its_source(seeded: Runtime) -> None:
    added = _import_all(seeded)
    assert all(n >= 12 for n in added.values())
    with seeded.session() as s:
        by_source = dict(s.execute(select(Petition.source, func.count()).group_by(Petition.source)).all())
        placed = s.execute(select(func.count()).where(Petition.township_code.is_not(None))).scalar_one()
    assert by_source == added
    assert placed == sum(added.values())  # every record found its township from the file's township column
    assert _import_all(seeded) == dict.fromkeys(added, 0)  # idempotent


def test_a_matter_in_several_feeds_is_linked_and_counted_once(
    seeded: Runtime, run_jobs: Callable[[], int]
) -> None:
    _import_all(seeded)
    assert run_jobs() > 0  # the worker links each record to the others after the import
    with seeded.session() as s:
        wage = (
            s.execute(select(Petition).where(Petition.title.like("%安置房工地拖欠农民工工资%")))
            .scalars()
            .all()
        )
        assert sorted(p.source for p in wage) == ["110", "12345", "rsj"]
        ids = {p.id for p in wage}
        links = s.execute(select(PetitionLink).where(PetitionLink.petition_id.in_(ids))).scalars().all()
        among = [lk for lk in links if lk.earlier_id in ids]
        assert len(among) >= 2 and all(lk.kind in ("same_person", "same_matter", "both") for lk in among)
        assert any(lk.kind == "both" for lk in among)
        flt = hm.HeatFilter(hm.Period(date(2026, 1, 1), date(2026, 3, 1)))
        cells = {c.code: c for c in hm.heat_cells(s, actor=SYSTEM, level="township", flt=flt)}
    wanan = cells["350428101"]
    assert wanan.distinct_count <= wanan.count - 2  # the three wage reports count once


@pytest.mark.parametrize("name", sorted(FILES))
def test_sample_files_are_small(name: str) -> None:
    assert (SAMPLES / name).stat().st_size < 50_000
