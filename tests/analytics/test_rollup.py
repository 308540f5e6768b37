"""The heat-map roll-up: kept in the same transaction as every write, equal to counting the petitions table.

Constructed history: petitions around month edges in China time (23:59 on the last day, 00:00 on the first, which
are different UTC dates), several townships and villages, categories (some missing), sources, petitions without a
place, and same-matter / same-person links at distances on both sides of the 90-day window. Then corrections —
category, place, receipt time across a month edge, link kinds, deletions — and, after each, the roll-up must equal
a fresh recount and the heat map from the roll-up must equal the heat map counted on the petitions table, for
periods aligned to months, cut inside months, shorter than a month and ten-odd months long.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import T0
from xinfang.analytics import forecast as fc
from xinfang.analytics import heatmap as hm
from xinfang.analytics import rollup
from xinfang.analytics.models import PetitionMonthCount
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.dispatch.models import PetitionLink
from xinfang.org.models import User
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM, Actor, actor_for

TOWNS = ("350428100", "350428101", "350428102")
VILLAGES = ("350428100201", "350428101201", "350428101202", "350428102201")
CATEGORIES = ("城乡建设", "劳动和社会保障", "教育文体", None)
SOURCES = ("desk", "12345", "grid")
START = date(2025, 6, 1)
DAYS = 280  # to early March 2026 (the clock is 2026-03-02)


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CHINA_TZ).astimezone(UTC)


def _petition(n: int, at: datetime, division: str | None, category: str | None, source: str) -> Petition:
    return Petition(
        channel="visit",
        status="registered",
        title="合成测试件",
        body="合成测试内容",
        received_at=at,
        registered_at=at,
        division_code=division,
        township_code=division[:9] if division else None,
        category=category,
        source=source,
        dedup_key=f"r{n}",
        is_demo=False,
    )


def _link(later: Petition, earlier: Petition, kind: str) -> PetitionLink:
    return PetitionLink(
        petition_id=later.id,
        earlier_id=earlier.id,
        kind=kind,
        similarity=0.8,
        reasons=[],
        created_at=later.received_at,
    )


def _build(rt: Runtime, seed: int = 5) -> list[int]:
    """~260 petitions and ~90 links; returns petition ids in order of receipt."""
    rng = random.Random(seed)
    rows: list[tuple[datetime, str | None]] = []
    for _ in range(220):
        day = START + timedelta(days=rng.randrange(DAYS))
        rows.append((_at(day, rng.randrange(24), rng.randrange(60)), rng.choice((*TOWNS, *VILLAGES, None))))
    # month edges in China time: the last second of a month and the first of the next (different UTC dates)
    for month_start in (date(2025, 8, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 2, 1)):
        last = month_start - timedelta(days=1)
        for division in (TOWNS[1], VILLAGES[1]):
            rows.append((_at(last, 23, 59, 59), division))
            rows.append((_at(month_start, 0, 0, 0), division))
            rows.append((_at(month_start, 7, 59, 59), division))  # still the previous UTC day
    rows.sort()
    petitions = []
    with rt.session() as s:
        for n, (at, division) in enumerate(rows):
            p = _petition(n, at, division, rng.choice(CATEGORIES), rng.choice(SOURCES))
            s.add(p)
            petitions.append(p)
        s.flush()
        for i, p in enumerate(petitions):
            if rng.random() < 0.35 and i > 0:
                earlier = petitions[rng.randrange(max(0, i - 60), i)]
                if earlier.received_at != p.received_at:
                    kind = rng.choice(("same_matter", "same_matter", "both", "same_person"))
                    s.add(_link(p, earlier, kind))
        # a repeat exactly at the window (90 days) and one just beyond it
        base = petitions[10]
        for k, delta in enumerate((timedelta(days=90), timedelta(days=90, seconds=1))):
            late = _petition(1000 + k, base.received_at + delta, base.division_code, base.category, "desk")
            s.add(late)
            s.flush()
            s.add(_link(late, base, "same_matter"))
            petitions.append(late)
        return [p.id for p in petitions]


def _periods(seed: int = 11) -> list[hm.Period]:
    fixed = [
        (date(2025, 6, 1), date(2026, 3, 1)),  # everything, months aligned at the start
        (date(2025, 7, 1), date(2025, 12, 31)),  # whole months only
        (date(2025, 8, 1), date(2025, 8, 31)),  # exactly one month
        (date(2025, 8, 2), date(2025, 8, 30)),  # inside one month
        (date(2025, 7, 31), date(2025, 9, 1)),  # one day either side of a whole month
        (date(2025, 9, 15), date(2026, 2, 14)),  # cut inside months at both ends
        (date(2025, 12, 31), date(2026, 1, 1)),  # two days across a year edge
        (date(2026, 1, 1), date(2026, 3, 1)),
    ]
    rng = random.Random(seed)
    out = [hm.Period(a, b) for a, b in fixed]
    for _ in range(14):
        a = START + timedelta(days=rng.randrange(DAYS))
        b = a + timedelta(days=rng.randrange(1, 250))
        out.append(hm.Period(a, min(b, date(2026, 3, 1))))
    return out


def _assert_heat_equal(s: Session, actor: Actor = SYSTEM) -> int:
    """Roll-up heat map == raw heat map for every period, level and filter; returns the petitions compared."""
    checked = 0
    for period in _periods():
        for level in ("township", "village"):
            for category, source in ((None, None), ("城乡建设", None), (None, "12345")):
                flt = hm.HeatFilter(period, category, source)
                fast = hm.heat_cells(s, actor=actor, level=level, flt=flt)
                raw = hm.heat_cells(s, actor=actor, level=level, flt=flt, use_rollup=False)
                assert [(c.code, c.count, c.distinct_count) for c in fast] == [
                    (c.code, c.count, c.distinct_count) for c in raw
                ], (period, level, category, source)
                checked += sum(c.count for c in raw)
    return checked


def _assert_rollup_exact(s: Session) -> None:
    report = rollup.rebuild(s, check_only=True)
    assert report.differing == 0
    assert report.petitions == s.execute(select(func.count()).select_from(Petition)).scalar_one()


def test_the_rollup_is_kept_at_every_write_and_equals_the_raw_heat_map(seeded: Runtime) -> None:
    ids = _build(seeded)
    with seeded.session() as s:
        _assert_rollup_exact(s)
        cells = s.execute(select(PetitionMonthCount)).scalars().all()
        assert sum(c.n for c in cells) == len(ids) and sum(c.n_repeat for c in cells) > 10
        # the month edge: 23:59:59 on 31 July and 07:59:59 on 1 August (China) are both 31 July in UTC
        edge = s.execute(
            select(PetitionMonthCount.month).where(PetitionMonthCount.township_code == TOWNS[1])
        ).scalars()
        assert {202507, 202508} <= set(edge)
        assert _assert_heat_equal(s) > 1000  # the comparisons were about petitions, not empty maps

    rng = random.Random(3)
    with seeded.session() as s:
        # corrections: category, place (another township, a village, no place), receipt time across a month edge
        for pid in rng.sample(ids, 40):
            p = s.get(Petition, pid)
            assert p is not None
            what = rng.randrange(4)
            if what == 0:
                p.category = rng.choice(CATEGORIES)
            elif what == 1:
                division = rng.choice((*TOWNS, *VILLAGES, None))
                p.division_code, p.township_code = division, division[:9] if division else None
            elif what == 2:
                p.received_at = p.received_at + timedelta(days=rng.choice((-31, -3, 3, 31)))
            else:
                p.source = rng.choice(SOURCES)
            if rng.random() < 0.5:
                s.flush()  # several flushes in one transaction, as registration does
        # links: a kind upgraded (same_person -> both), some removed, new ones added
        links = s.execute(select(PetitionLink)).scalars().all()
        for link in links[:8]:
            link.kind = "both" if link.kind == "same_person" else "same_person"
        for link in links[8:14]:
            s.delete(link)
        s.flush()
        for pid in ids[-20:]:
            later, earlier = s.get(Petition, pid), s.get(Petition, pid - 7)
            if later and earlier and earlier.received_at < later.received_at:
                exists = s.execute(
                    select(PetitionLink.id).where(
                        PetitionLink.petition_id == later.id, PetitionLink.earlier_id == earlier.id
                    )
                ).first()
                if not exists:
                    s.add(_link(later, earlier, "same_matter"))
        # a petition that others repeat is deleted (its links go with it, by the database's cascade)
        linked = s.execute(select(PetitionLink.earlier_id).limit(1)).scalar_one()
        s.delete(s.get(Petition, linked))
    with seeded.session() as s:
        _assert_rollup_exact(s)
        assert _assert_heat_equal(s) > 1000


def test_changes_flushed_only_by_the_commit_are_counted(seeded: Runtime) -> None:
    """A correction made and committed with no query in between: the commit's own flush is the first one."""
    ids = _build(seeded)
    with seeded.session() as s:
        p = s.get(Petition, ids[7])
        assert p is not None
    with seeded.session() as s:
        s.add(p)
        p.category = "教育文体" if p.category != "教育文体" else "城乡建设"
        s.add(_petition(9997, _at(date(2025, 11, 30), 23, 59), VILLAGES[0], None, "grid"))
    with seeded.session() as s:
        _assert_rollup_exact(s)


def test_a_rolled_back_write_leaves_the_rollup_as_it_was(seeded: Runtime) -> None:
    _build(seeded)
    with pytest.raises(RuntimeError), seeded.session() as s:
        s.add(_petition(9999, _at(date(2025, 9, 9), 9), TOWNS[0], "城乡建设", "desk"))
        s.flush()
        raise RuntimeError("the request failed after the flush")
    with seeded.session() as s:
        _assert_rollup_exact(s)


def test_a_rolled_back_savepoint_is_not_counted(seeded: Runtime) -> None:
    ids = _build(seeded)
    with seeded.session() as s:
        kept = s.get(Petition, ids[3])
        assert kept is not None
        kept.category = "教育文体" if kept.category != "教育文体" else "城乡建设"
        s.flush()
        with pytest.raises(RuntimeError), s.begin_nested():
            s.add(_petition(9998, _at(date(2025, 9, 9), 9), TOWNS[0], "城乡建设", "desk"))
            moved = s.get(Petition, ids[5])
            assert moved is not None
            moved.division_code, moved.township_code = TOWNS[2], TOWNS[2]
            s.flush()
            raise RuntimeError("the savepoint's work is undone")
    with seeded.session() as s:
        _assert_rollup_exact(s)


def test_scoped_readers_are_counted_on_the_petitions_table(seeded: Runtime) -> None:
    """A township government sees its township's petitions (and those it handles): the roll-up, which knows no
    scope, must not serve it. Corrupt the roll-up: the county-wide reader sees the damage, the township does not."""
    _build(seeded)
    with seeded.session() as s:
        township = actor_for(s.execute(select(User).where(User.username == "township_wa")).scalar_one())
        assert _assert_heat_equal(s, township) > 50
        flt = hm.HeatFilter(hm.Period(date(2025, 7, 1), date(2025, 12, 31)))
        before = {c.code: c.count for c in hm.heat_cells(s, actor=township, level="township", flt=flt)}
        county_before = {c.code: c.count for c in hm.heat_cells(s, actor=SYSTEM, level="township", flt=flt)}
        s.execute(update(PetitionMonthCount).values(n=PetitionMonthCount.n + 100))
        after = {c.code: c.count for c in hm.heat_cells(s, actor=township, level="township", flt=flt)}
        county_after = {c.code: c.count for c in hm.heat_cells(s, actor=SYSTEM, level="township", flt=flt)}
    assert set(before) == {TOWNS[1]} and before == after and before[TOWNS[1]] > 0
    assert county_after[TOWNS[1]] > county_before[TOWNS[1]]


def test_rebuild_repairs_a_stale_rollup_from_the_command_line(seeded: Runtime) -> None:
    from xinfang.cli import build_app

    _build(seeded)
    with seeded.session() as s:  # writes that bypass the ORM (bulk SQL, a manual fix) leave it stale
        s.execute(delete(PetitionMonthCount).where(PetitionMonthCount.month == 202509))
        s.execute(update(PetitionMonthCount).where(PetitionMonthCount.month == 202511).values(n=0))
        s.execute(
            text(
                "INSERT INTO petition_month_counts (month, township_code, division_code, category, source, n,"
                " n_repeat) VALUES (201001, '350428100', '', '', 'desk', 7, 0)"
            )
        )
    runner = CliRunner()
    url = seeded.settings.database_url
    result = runner.invoke(build_app(), ["analytics", "rebuild-rollup", "--check", "--db", url])
    assert result.exit_code == 1, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["differing"] > 3
    result = runner.invoke(build_app(), ["analytics", "rebuild-rollup", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["written"] is True
    result = runner.invoke(build_app(), ["analytics", "rebuild-rollup", "--check", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["differing"] == 0
    with seeded.session() as s:
        _assert_heat_equal(s)


def test_forecast_streams_from_the_rollup_equal_the_raw_streams(seeded: Runtime) -> None:
    _build(seeded)
    this = fc.month_index(T0.astimezone(CHINA_TZ).date())
    with seeded.session() as s:
        fast = fc.monthly_streams(s, actor=SYSTEM, first_month=this - 12, last_month=this)
        raw = fc.monthly_streams(s, actor=SYSTEM, first_month=this - 12, last_month=this, use_rollup=False)
    assert set(fast) == set(raw) and len(raw) >= 6
    for key, series in raw.items():
        assert np.array_equal(series, fast[key]), key
