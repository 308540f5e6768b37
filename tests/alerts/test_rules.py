"""Rule alerts on plain records: one matter with many petitioners, group visits, risk signals with a place."""

from __future__ import annotations

from datetime import date, timedelta

from xinfang.analytics.warning.combine import RED, YELLOW, WarningConfig
from xinfang.analytics.warning.rules import RuleRecord, group_visit_rule, matter_rule, risk_rule

DAY = date(2026, 3, 1)
CFG = WarningConfig()


def _rec(i: int, *, day: date = DAY, people: tuple[str, ...] | None = None, **kw: object) -> RuleRecord:
    return RuleRecord(
        i,
        day,
        kw.pop("township", "350428101"),
        "劳动和社会保障",
        kw.pop("channel", "hotline"),  # type: ignore[arg-type]
        kw.pop("headcount", None),
        people if people is not None else (f"k{i}",),
        **kw,
    )  # type: ignore[arg-type]


def test_five_distinct_petitioners_on_one_matter_within_seven_days_raise_a_red_alert() -> None:
    records = [_rec(i, day=DAY - timedelta(days=i)) for i in range(1, 6)]
    links = [(i, i + 1) for i in range(1, 5)]  # a chain through the matter
    [signal] = matter_rule(records, links, day=DAY, config=CFG)
    assert signal.tier == RED and signal.petition_ids == [1, 2, 3, 4, 5] and signal.observed == 5
    assert signal.matter_key == "m1"


def test_four_petitioners_or_an_older_fifth_are_not_enough() -> None:
    records = [_rec(i, day=DAY - timedelta(days=i)) for i in range(1, 5)]
    records.append(_rec(5, day=DAY - timedelta(days=8)))  # outside the 7-day window
    assert matter_rule(records, [(i, i + 1) for i in range(1, 5)], day=DAY, config=CFG) == []


def test_the_same_person_calling_five_times_is_one_petitioner() -> None:
    records = [_rec(i, people=("same",)) for i in range(1, 6)]
    assert matter_rule(records, [(i, 1) for i in range(2, 6)], day=DAY, config=CFG) == []


def test_petitioners_without_id_number_or_phone_are_distinct_people() -> None:
    """Anonymous records (no petitioner key at all) each stand for one unknown person: five of them on one
    matter are five people, not zero and not one."""
    anonymous = [_rec(i, people=()) for i in range(1, 6)]
    [signal] = matter_rule(anonymous, [(i, i + 1) for i in range(1, 5)], day=DAY, config=CFG)
    assert signal.observed == 5 and signal.details["distinct_petitioners"] == 5
    mixed = [_rec(1, people=()), _rec(2, people=()), _rec(3, people=("k3", "k4")), _rec(4, people=("k3",))]
    assert matter_rule(mixed, [(1, 2), (2, 3), (3, 4)], day=DAY, config=CFG) == []  # 2 unknown + 2 known = 4
    mixed.append(_rec(5, people=()))
    [signal] = matter_rule(mixed, [(1, 2), (2, 3), (3, 4), (4, 5)], day=DAY, config=CFG)
    assert signal.observed == 5


def test_links_through_an_earlier_petition_join_one_matter() -> None:
    records = [_rec(i) for i in range(1, 6)]
    links = [(i, 99) for i in range(1, 6)]  # each repeats old petition 99, outside the window
    [signal] = matter_rule(records, links, day=DAY, config=CFG)
    assert signal.petition_ids == [1, 2, 3, 4, 5]


def test_one_joint_petition_with_many_signatures_is_left_to_the_group_rule() -> None:
    records = [_rec(1, people=tuple(f"p{i}" for i in range(8)))]
    assert matter_rule(records, [], day=DAY, config=CFG) == []


def test_group_visits_are_yellow_and_large_ones_red() -> None:
    records = [
        _rec(1, channel="visit", headcount=6),
        _rec(2, channel="visit", headcount=30),
        _rec(3, channel="letter", headcount=40),
        _rec(4, channel="visit", headcount=3),
    ]
    tiers = {s.petition_ids[0]: s.tier for s in group_visit_rule(records, day=DAY, config=CFG)}
    assert tiers == {1: YELLOW, 2: RED}


def test_risk_signals_with_a_place_raise_alerts_by_kind() -> None:
    records = [
        _rec(1, risk_types=("self_harm",)),
        _rec(2, risk_types=("escalation",)),
        _rec(3, risk_types=("self_harm",), township=None),
        _rec(4, risk_types=("urgency",)),
    ]
    tiers = {s.petition_ids[0]: s.tier for s in risk_rule(records, day=DAY, config=CFG)}
    assert tiers == {1: RED, 2: YELLOW}
