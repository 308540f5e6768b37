"""The province-scale read paths count in the database: the dashboard overview (SQL aggregates, the heat-map roll-up
for a reader who sees everything), the accountability figures (GROUP BY unit or township) and the 超期/临期 inbox
(the whole-province count read from the open clocks). Each must give exactly what a plain computation over the same
rows gives; the references below are that plain computation, written out row by row in Python.

The dataset is varied on purpose: several townships and villages (and places that are neither), categories with
none or an empty one, every status, petitions on China-month boundaries, an informant matter hidden from the
township it accuses, clocks of every kind (on time, late, open and overdue, petitioners' own windows, objections,
extensions, clocks of units with nothing in the period), events naming departments, evaluations.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from xinfang.analytics.accountability import Figures, accountability
from xinfang.analytics.models import PetitionMonthCount
from xinfang.cases.deadlines import ClockState, Rule, clock_state, is_duty
from xinfang.cases.enums import OrgKind, Role, Status
from xinfang.cases.models import Clock, Event, Petition
from xinfang.cases.service import PetitionFilter
from xinfang.clock import CHINA_TZ
from xinfang.dashboard.service import overview
from xinfang.dispatch.models import PetitionLink
from xinfang.inbox.service import Box, box_counts, list_inbox
from xinfang.org.models import OrgUnit, User
from xinfang.runtime import Runtime
from xinfang.security.actors import Actor, actor_for
from xinfang.security.permissions import scope_petitions

TODAY = date(2026, 3, 2)
TOWN = "350428101"
FINAL = {"concluded", "refused", "diverted", "informed", "recheck_replied"}
SATISFIED = ("满意", "基本满意")
CHANNELS = ("visit", "letter", "online", "hotline")
CATEGORIES = ("城乡建设", "劳动和社会保障", "环境保护", None, "")
DEPARTMENTS = ("rsj", "zjj", "xfj", None)
# Month boundaries in China time (UTC+8): 16:00 UTC on the last day is 00:00 of the next month there.
EDGES = (
    datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC),  # still January in China
    datetime(2026, 1, 31, 16, 0, tzinfo=UTC),  # February in China
    datetime(2025, 12, 31, 16, 30, tzinfo=UTC),  # 2026-01-01 in China
    datetime(2026, 3, 1, 15, 59, tzinfo=UTC),  # 2026-03-01 in China, the last local day of the period
    datetime(2026, 3, 1, 16, 0, tzinfo=UTC),  # 2026-03-02: after a period ending 2026-03-01
    datetime(2025, 3, 14, 16, 0, tzinfo=UTC),  # the first instant of a period starting 2025-03-15
    datetime(2025, 3, 14, 15, 59, 59, 999999, tzinfo=UTC),  # the last instant before it
    datetime(2026, 1, 9, 16, 0, 0, 1, tzinfo=UTC),  # just inside a period starting 2026-01-10
    datetime(2026, 1, 20, 15, 59, 59, 999999, tzinfo=UTC),  # the last instant of a period ending 2026-01-20
    datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC),  # the last second of 2026-03-02 (today)
)


# ---- the dataset ---------------------------------------------------------------------------------------------


def _places(units: dict[str, OrgUnit]) -> list[tuple[str | None, str | None]]:
    """(township_code, division_code) pairs: villages of three townships, a township itself, a county code (under
    9 digits: no township), nothing, and a village whose township column disagrees with its code."""
    towns = ["350428100", TOWN, "350428102"]
    villages = [c for c in units if len(c) == 12 and c[:9] in towns]
    out: list[tuple[str | None, str | None]] = [(c[:9], c) for c in villages]
    out += [(TOWN, TOWN), (None, "350428"), (None, None), ("350428100", villages[-1])]
    return out


def _build(rt: Runtime, seed: int = 7) -> None:
    rng = random.Random(seed)
    with rt.session() as s:
        units = {u.code: u for u in s.execute(select(OrgUnit)).scalars()}
        places = _places(units)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        span = (datetime(2026, 3, 2, tzinfo=UTC) - start).total_seconds()
        for i in range(240):
            at = EDGES[i] if i < len(EDGES) else start + timedelta(seconds=rng.random() * span)
            town, division = rng.choice(places)
            dept = rng.choice(DEPARTMENTS)
            status = rng.choice(list(Status)).value
            evaluated = rng.random() < 0.3
            p = Petition(
                channel=rng.choice(CHANNELS),
                status=status,
                title=f"测试{i}",
                body="测试",
                received_at=at,
                registered_at=at,
                township_code=town,
                division_code=division,
                category=rng.choice(CATEGORIES),
                department_id=units[dept].id if dept else None,
                source=rng.choice(("desk", "12345")),
                dedup_key=f"reads-{seed}-{i}",
                is_demo=False,
                evaluation=rng.choice(("满意", "基本满意", "不满意")) if evaluated else None,
                evaluated_at=at + timedelta(days=rng.randint(0, 40)) if evaluated else None,
                # an informant matter accusing the township government: never shown to it
                accused_unit_id=units[TOWN].id if i % 37 == 5 else None,
            )
            p.clocks = [_clock(rng, units, at) for _ in range(rng.randint(0, 3))]
            p.events = [_event(rng, at) for _ in range(rng.randint(0, 3))]
            s.add(p)
        # A unit bound only by clocks long before any period (still a row, with zeros), and one bound only by a
        # petitioner's window (no row).
        old = datetime(2023, 5, 1, tzinfo=UTC)
        for code, rule, binds in (("jyj", Rule.HANDLE, False), ("wjw", Rule.REVIEW_REQUEST_WINDOW, True)):
            p = Petition(
                channel="visit",
                status="concluded",
                title="旧件",
                body="旧件",
                received_at=old,
                registered_at=old,
                township_code="350428103",
                division_code="350428103201",
                source="desk",
                dedup_key=f"reads-old-{code}",
                is_demo=False,
            )
            day = old.date()
            p.clocks = [
                Clock(
                    rule=rule.value,
                    unit_id=units[code].id,
                    start_on=day,
                    due_on=day + timedelta(days=30),
                    statutory_due_on=day + timedelta(days=30),
                    binds_petitioner=binds,
                    closed_on=day + timedelta(days=3),
                )
            ]
            s.add(p)


def _clock(rng: random.Random, units: dict[str, OrgUnit], at: datetime) -> Clock:
    rule = rng.choice(
        [Rule.ACCEPT_NOTICE, Rule.HANDLE, Rule.HANDLE, Rule.FORWARD, Rule.OBJECT, Rule.REVIEW_REQUEST_WINDOW]
    )
    start = at.astimezone(CHINA_TZ).date() + timedelta(days=rng.randint(0, 20))
    due = start + timedelta(days=rng.choice((0, 5, 15, 60)))
    closed = rng.choice((None, due - timedelta(days=1), due, due + timedelta(days=rng.randint(1, 20))))
    if closed is not None and closed > TODAY:
        closed = None
    dept = rng.choice(DEPARTMENTS)
    return Clock(
        rule=rule.value,
        unit_id=units[dept].id if dept else None,
        start_on=start,
        due_on=due,
        statutory_due_on=due,
        binds_petitioner=rule == Rule.REVIEW_REQUEST_WINDOW,
        closed_on=closed,
        closed_by_action=rng.choice((None, "extend", "reply")) if closed else None,
    )


def _event(rng: random.Random, at: datetime) -> Event:
    kind = rng.choice(("forward", "assign", "object", "note"))
    details: dict[str, Any] = rng.choice(
        ({"department": "rsj"}, {"department": "zjj"}, {"department": "ghost"}, {})
    )
    return Event(kind=kind, at=at + timedelta(days=rng.randint(0, 10)), summary=kind, details=details)


def _users(rt: Runtime) -> dict[str, Actor]:
    with rt.session() as s:
        users = {u.username: actor_for(u) for u in s.execute(select(User)).scalars()}
    # a leader of a township government: sees only the township (and never what accuses it)
    users["township_leader"] = replace(users["township_wa"], role=Role.LEADER, user_id=-1)
    return users


# ---- the references: row by row, as the figures are defined ----------------------------------------------------


def _visible(s: Any, actor: Actor) -> list[Petition]:
    ids = set(s.execute(scope_petitions(select(Petition.id), actor)).scalars())
    return [p for p in s.execute(select(Petition)).scalars() if p.id in ids]


def _months(start: date, end: date) -> list[str]:
    out = []
    day = start.replace(day=1)
    while day <= end:
        out.append(f"{day.year}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _reference_overview(s: Any, actor: Actor, start: date, end: date) -> dict[str, Any]:
    months: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    townships: Counter[str] = Counter()
    villages: Counter[str] = Counter()
    total = open_count = 0
    for p in _visible(s, actor):
        local = p.received_at.astimezone(CHINA_TZ)
        if not start <= local.date() <= end:
            continue
        total += 1
        open_count += p.status not in FINAL
        months[local.strftime("%Y-%m")] += 1
        categories[p.category or "未分类"] += 1
        channels[p.channel] += 1
        if p.division_code and len(p.division_code) >= 9:
            townships[p.division_code[:9]] += 1
        if p.division_code and len(p.division_code) == 12:
            villages[p.division_code] += 1
    labels = _months(start, end)
    return {
        "total": total,
        "open": open_count,
        "trend": {"months": labels, "counts": [months[m] for m in labels]},
        "categories": dict(categories),
        "channels": dict(channels),
        "townships": dict(townships),
        "villages": dict(villages),
    }


def _reference_accountability(
    s: Any, *, start: date, end: date, today: date, by: str, repeats: set[int]
) -> list[dict[str, Any]]:
    units = {u.id: u for u in s.execute(select(OrgUnit)).scalars()}
    by_code = {u.code: u for u in units.values()}
    petitions = list(s.execute(select(Petition)).scalars())
    rows: dict[str, Figures] = {}

    def row(key: str | None) -> Figures | None:
        if key is None:
            return None
        if key not in rows:
            rows[key] = Figures(key=key, name=by_code[key].name if key in by_code else key)
        return rows[key]

    def key_of(p: Petition) -> str | None:
        if by == "township":
            return p.township_code
        return units[p.department_id].code if p.department_id in units else None

    def within(instant: datetime | None) -> bool:
        return instant is not None and start <= instant.astimezone(CHINA_TZ).date() <= end

    for p in petitions:
        if within(p.received_at) and (r := row(key_of(p))):
            r.petitions += 1
            r.repeats += p.id in repeats
        if within(p.evaluated_at) and (r := row(key_of(p))):
            r.evaluated += 1
            r.satisfied += p.evaluation in SATISFIED
        for c in p.clocks:
            if c.binds_petitioner:
                continue
            key = (units[c.unit_id].code if c.unit_id in units else None) if by == "department" else key_of(p)
            r = row(key)
            if r is None:
                continue
            counted = start <= c.start_on <= end and (c.closed_on is not None or c.due_on < today)
            on_time = c.closed_on is not None and c.closed_on <= c.due_on
            if counted and c.rule == Rule.ACCEPT_NOTICE.value:
                r.accept_due += 1
                r.accept_on_time += on_time
            if counted and c.rule == Rule.HANDLE.value and c.closed_by_action != "extend":
                r.handle_due += 1
                r.handle_on_time += on_time
            if is_duty(c.rule):
                late = c.closed_on is not None and c.closed_on > c.due_on and start <= c.closed_on <= end
                r.overdue += late or (c.closed_on is None and c.due_on < today)
        for e in p.events:
            if e.kind not in ("forward", "assign", "object") or not within(e.at):
                continue
            r = row((e.details or {}).get("department") if by == "department" else key_of(p))
            if r is not None:
                r.objections += e.kind == "object"
                r.transfers += e.kind != "object"
    ordered = sorted(rows.values(), key=lambda f: (-f.petitions, f.key))
    if by == "township":
        ordered = [f for f in ordered if f.key in by_code and by_code[f.key].kind == OrgKind.TOWNSHIP]
    return [f.to_dict() for f in ordered]


def _reference_clock_box(s: Any, actor: Actor, state: ClockState) -> list[Petition]:
    """The box's petitions, newest first: those the reader sees with an open duty clock in `state` today."""
    matching = [
        p
        for p in _visible(s, actor)
        if any(
            c.closed_on is None
            and not c.binds_petitioner
            and is_duty(c.rule)
            and clock_state(c.start_on, c.due_on, TODAY) == state
            for c in p.clocks
        )
    ]
    return sorted(matching, key=lambda p: (p.received_at, p.id), reverse=True)


# ---- the tests --------------------------------------------------------------------------------------------------

PERIODS = (
    (date(2025, 3, 15), TODAY),  # the dashboard's default shape: partial months at both edges
    (date(2025, 4, 1), date(2026, 2, 28)),  # whole months only
    (date(2026, 2, 1), date(2026, 3, 1)),  # one whole month and one partial
    (date(2026, 1, 10), date(2026, 1, 20)),  # inside one month: no whole month
    (date(2026, 3, 5), date(2026, 3, 1)),  # reversed: nothing
)


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """The overview without the referral summary (tested elsewhere), the ranked lists as dicts; checks they are
    ranked (largest first, ties by name)."""
    for name in ("categories", "channels"):
        assert data[name] == sorted(data[name], key=lambda kv: (-kv[1], kv[0]))
    return {
        "total": data["total"],
        "open": data["open"],
        "trend": data["trend"],
        "categories": dict(data["categories"]),
        "channels": dict(data["channels"]),
        "townships": data["townships"],
        "villages": data["villages"],
    }


@pytest.mark.parametrize("who", ["leader", "township_leader"])
def test_the_overview_equals_a_row_by_row_count(seeded: Runtime, who: str) -> None:
    _build(seeded)
    actor = _users(seeded)[who]
    with seeded.session() as s:
        for start, end in PERIODS:
            expected = _reference_overview(s, actor, start, end)
            for use_rollup in (True, False):
                got = overview(s, actor=actor, start=start, end=end, use_rollup=use_rollup)
                assert _comparable(got) == expected, (start, end, use_rollup)
    if who == "leader":
        assert expected["total"] == 0  # the reversed period
        with seeded.session() as s:
            assert _reference_overview(s, actor, *PERIODS[0])["total"] > 150


def test_the_township_sees_only_its_own_and_not_what_accuses_it(seeded: Runtime) -> None:
    _build(seeded)
    users = _users(seeded)
    with seeded.session() as s:
        whole = overview(s, actor=users["leader"], start=PERIODS[0][0], end=TODAY)
        own = overview(s, actor=users["township_leader"], start=PERIODS[0][0], end=TODAY)
        accusing = s.execute(
            select(Petition.id).where(Petition.accused_unit_id.is_not(None), Petition.township_code == TOWN)
        ).all()
    assert 0 < own["total"] < whole["total"]
    assert set(own["townships"]) <= {TOWN}
    assert accusing  # the dataset has matters the township must not see


def test_the_leader_s_whole_months_come_from_the_roll_up(seeded: Runtime) -> None:
    """Proof that the roll-up path is the one taken: a cell changed behind the ORM's back shows in the overview of
    whole months, and not in the petitions-table count nor in a township government's view."""
    _build(seeded)
    users = _users(seeded)
    start, end = date(2025, 4, 1), date(2026, 2, 28)
    with seeded.session() as s:
        before = overview(s, actor=users["leader"], start=start, end=end)
        s.execute(
            update(PetitionMonthCount)
            .where(PetitionMonthCount.month == 202601)
            .values(n=PetitionMonthCount.n + 5)
        )
        s.flush()
        after = overview(s, actor=users["leader"], start=start, end=end)
        plain = overview(s, actor=users["leader"], start=start, end=end, use_rollup=False)
    january = before["trend"]["months"].index("2026-01")
    assert after["trend"]["counts"][january] > before["trend"]["counts"][january]
    assert plain["trend"] == before["trend"]


@pytest.mark.parametrize("by", ["department", "township"])
def test_accountability_equals_a_row_by_row_count(seeded: Runtime, by: str) -> None:
    _build(seeded)
    with seeded.session() as s:
        ids = sorted(s.execute(select(Petition.id)).scalars())
        # Repeat links as the dispatch slice writes them: by the same person (counted) or the same matter only
        # (a mass event of different people: not a repeat of anyone's petition).
        kinds = {**{i: "same_person" for i in ids[1::3]}, **{i: "both" for i in ids[2::9]}}
        kinds |= {i: "same_matter" for i in ids[3::3] if i not in kinds}
        for i, kind in kinds.items():
            s.add(
                PetitionLink(
                    petition_id=i, earlier_id=ids[0], kind=kind, similarity=0.9, created_at=datetime.now(UTC)
                )
            )
        s.flush()
        repeats = {i for i, kind in kinds.items() if kind != "same_matter"}
        for start, end in (*PERIODS[:4], (date(2026, 2, 1), TODAY)):
            expected = _reference_accountability(s, start=start, end=end, today=TODAY, by=by, repeats=repeats)
            got = accountability(s, start=start, end=end, today=TODAY, by=by)
            assert got == expected, (start, end)
        # the dataset exercises every figure
        figures = _reference_accountability(
            s, start=PERIODS[0][0], end=TODAY, today=TODAY, by=by, repeats=repeats
        )
    for name in (
        "accept_due",
        "accept_on_time",
        "handle_due",
        "handle_on_time",
        "overdue",
        "evaluated",
        "satisfied",
    ):
        assert sum(r[name] for r in figures) > 0, name
    assert any(r["petitions"] and r["repeats"] for r in figures)
    if by == "department":
        assert sum(r["objections"] for r in figures) and sum(r["transfers"] for r in figures)
        keys = {r["key"] for r in figures}
        assert "jyj" in keys and "wjw" not in keys and "ghost" in keys


def test_accountability_without_clocks_in_the_period_keeps_the_bound_units(seeded: Runtime) -> None:
    _build(seeded)
    with seeded.session() as s:
        got = accountability(s, start=date(2020, 1, 1), end=date(2020, 1, 31), today=TODAY)
        expected = _reference_accountability(
            s, start=date(2020, 1, 1), end=date(2020, 1, 31), today=TODAY, by="department", repeats=set()
        )
    assert got == expected
    assert {"jyj", "rsj", "zjj", "xfj"} <= {r["key"] for r in got}


@pytest.mark.parametrize("who", ["supervisor", "handler_rsj", "township_wa"])
@pytest.mark.parametrize("box", [Box.OVERDUE, Box.DUE_SOON])
def test_the_clock_boxes_equal_a_row_by_row_selection(seeded: Runtime, who: str, box: Box) -> None:
    _build(seeded)
    actor = _users(seeded)[who]
    state = ClockState.OVERDUE if box == Box.OVERDUE else ClockState.DUE_SOON
    with seeded.session() as s:
        expected = _reference_clock_box(s, actor, state)
        assert expected or who != "supervisor"
        page = list_inbox(s, actor=actor, box=box, filters=PetitionFilter(), today=TODAY, page=2, page_size=7)
        assert page.total == len(expected)
        assert [p.id for p in page.rows] == [p.id for p in expected[7:14]]
        assert box_counts(s, actor=actor, boxes=(box,), today=TODAY)[box] == len(expected)
        # with a filter the count is the filtered one
        filtered = list_inbox(s, actor=actor, box=box, filters=PetitionFilter(channel="visit"), today=TODAY)
        assert filtered.total == sum(p.channel == "visit" for p in expected)


def test_the_whole_province_count_counts_petitions_not_clocks(seeded: Runtime) -> None:
    """The supervisor's count comes from the open clocks alone: several overdue clocks of one petition count it
    once, a petitioner's window or an objection period past due counts nothing, and closing a petition's clocks
    takes it out."""
    _build(seeded)
    supervisor = _users(seeded)["supervisor"]

    def count(s: Any) -> int:
        return box_counts(s, actor=supervisor, boxes=(Box.OVERDUE,), today=TODAY)[Box.OVERDUE]

    past = {"start_on": date(2026, 1, 1), "due_on": date(2026, 1, 2), "statutory_due_on": date(2026, 1, 2)}
    with seeded.session() as s:
        before = count(s)
        boxed = _reference_clock_box(s, supervisor, ClockState.OVERDUE)
        other = next(p for p in s.execute(select(Petition)).scalars() if p not in boxed)
        for rule in (Rule.HANDLE, Rule.ACCEPT_NOTICE):
            s.add(Clock(petition_id=boxed[0].id, rule=rule.value, **past))
        s.add(
            Clock(petition_id=other.id, rule=Rule.REVIEW_REQUEST_WINDOW.value, binds_petitioner=True, **past)
        )
        s.add(Clock(petition_id=other.id, rule=Rule.OBJECT.value, **past))
        s.flush()
        assert count(s) == before
        s.execute(update(Clock).where(Clock.petition_id == boxed[0].id).values(closed_on=TODAY))
        s.flush()
        assert count(s) == before - 1 == len(_reference_clock_box(s, supervisor, ClockState.OVERDUE))
