"""The synthetic demo history: deterministic, realistic in shape, and valid as intake input."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from importlib import resources

import pytest
import yaml

from xinfang.cases.enums import Channel
from xinfang.cases.schemas import PetitionIn
from xinfang.demo.county import county_from_dict, load_demo_county
from xinfang.demo.generator import (
    HOTLINE_HEADERS,
    generate_history,
    generate_hotline_rows,
    hotline_rows,
    spring_festival,
    surges_of,
)
from xinfang.demo.templates import CATEGORIES, TEMPLATES
from xinfang.text.ids import MOBILE_RE, id_birth_date, is_valid_id_number

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def county():
    return load_demo_county()


@pytest.fixture(scope="module")
def history(county):
    return generate_history(seed=7, end=END, county=county)


def _department_codes() -> set[str]:
    text = resources.files("xinfang").joinpath("data/departments.yaml").read_text(encoding="utf-8")
    return {d["code"] for d in yaml.safe_load(text)["departments"]}


def test_the_same_seed_gives_the_same_history(county):
    first = generate_history(seed=11, end=END, months=3, county=county)
    second = generate_history(seed=11, end=END, months=3, county=county)
    assert [r.petition.model_dump() for r in first] == [r.petition.model_dump() for r in second]
    assert [(r.matter_key, r.expected_department) for r in first] == [
        (r.matter_key, r.expected_department) for r in second
    ]


def test_another_seed_gives_another_history(county):
    first = generate_history(seed=11, end=END, months=3, county=county)
    other = generate_history(seed=12, end=END, months=3, county=county)
    assert [r.petition.body for r in first] != [r.petition.body for r in other]


def test_it_is_fast(county):
    started = time.perf_counter()
    generate_history(seed=3, end=END, county=county)
    assert time.perf_counter() - started < 2.0


def test_a_year_has_the_expected_volume_and_every_channel(history):
    assert 1500 <= len(history) <= 2500
    channels = Counter(r.petition.channel for r in history)
    assert set(channels) == set(Channel)
    assert channels[Channel.HOTLINE] > channels[Channel.LETTER]
    assert channels[Channel.ONLINE] > channels[Channel.SYSTEM]


def test_records_are_sorted_and_inside_the_window(history):
    times = [r.petition.received_at for r in history]
    assert times == sorted(times)
    assert all(t is not None and t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    assert min(r.received_on for r in history) >= date(2025, 7, 1)
    assert max(r.received_on for r in history) <= END


def test_feeds_carry_their_source_and_number(history):
    for r in history:
        p = r.petition
        if p.channel == Channel.HOTLINE:
            assert p.source == "12345" and p.external_id
        elif p.channel == Channel.GRID:
            assert p.source == "grid" and p.external_id
        elif p.channel in (Channel.ONLINE, Channel.LETTER, Channel.VISIT, Channel.PHONE):
            assert p.source is None and p.external_id is None
    hotline_ids = [r.petition.external_id for r in history if r.petition.channel == Channel.HOTLINE]
    assert len(hotline_ids) == len(set(hotline_ids))


def test_only_assignments_from_above_have_an_upper_deadline(history):
    for r in history:
        if r.petition.channel == Channel.ASSIGNED:
            assert r.petition.upper_due_on is not None and r.petition.upper_due_on > r.received_on
        else:
            assert r.petition.upper_due_on is None


def test_every_id_number_is_valid_and_local(history):
    ids = [(r, p.id_number) for r in history for p in r.petition.petitioners if p.id_number]
    assert len(ids) > 1000
    for record, number in ids:
        assert is_valid_id_number(number)
        assert number[:4] == "3504"
        born = id_birth_date(number)
        assert born is not None and 18 <= (record.received_on - born).days // 365 <= 90


def test_every_phone_is_a_well_formed_mobile(history):
    phones = [p.phone for r in history for p in r.petition.petitioners if p.phone]
    assert phones and all(MOBILE_RE.match(phone) for phone in phones)


def test_some_hotline_callers_are_anonymous(history):
    callers = [p for r in history if r.petition.channel == Channel.HOTLINE for p in r.petition.petitioners]
    anonymous = [p for p in callers if p.id_number is None and p.name.endswith(("先生", "女士"))]
    assert 0.1 < len(anonymous) / len(callers) < 0.5


def test_every_record_validates_as_petition_input(history):
    for r in history:
        again = PetitionIn.model_validate(r.petition.model_dump())
        assert again == r.petition


def test_groups_have_at_most_five_representatives(history):
    groups = [r for r in history if r.petition.channel == Channel.VISIT and (r.petition.headcount or 0) >= 5]
    assert len(groups) >= 10
    for r in groups:
        representatives = sum(p.is_representative for p in r.petition.petitioners)
        assert 1 <= representatives <= 5
        assert r.is_group
    assert any(len(r.petition.petitioners) > 5 for r in groups)


def test_some_petitioners_come_back_about_the_same_matter(history):
    by_matter = Counter(r.matter_key for r in history if not r.is_surge)
    repeated = [key for key, n in by_matter.items() if n >= 2]
    assert len(repeated) >= 30
    for key in repeated[:20]:
        records = [r for r in history if r.matter_key == key]
        assert len({r.petitioner_key for r in records}) == 1
        assert all(r.is_repeat for r in records[1:])
        assert not records[0].is_repeat


def test_three_surges_with_their_ground_truth(history):
    surges = surges_of(history)
    assert sorted(s.kind for s in surges) == ["estate", "pollution", "wage"]
    for surge in surges:
        records = [r for r in history if r.surge == surge]
        assert all(r.is_surge and r.matter_key == surge.key for r in records)
        assert len(records) == surge.size >= 12
        assert {r.township_code for r in records} == {surge.township_code}
        assert min(r.received_on for r in records) == surge.start_on
        assert max(r.received_on for r in records) <= surge.end_on + timedelta(days=4)
        assert {r.expected_department for r in records} == {surge.department}
    wage = next(s for s in surges if s.kind == "wage")
    assert 25 <= wage.size <= 41
    assert (wage.end_on - wage.start_on).days == 9
    # counts rise: the second half of the surge has more records than the first
    records = [r for r in history if r.surge == wage]
    middle = wage.start_on + timedelta(days=5)
    assert sum(r.received_on >= middle for r in records) > sum(r.received_on < middle for r in records)
    assert wage.start_on < spring_festival(wage.start_on.year) < wage.start_on + timedelta(days=40)


def test_surges_can_be_switched_off(county):
    records = generate_history(seed=7, end=END, months=2, county=county, surges=False)
    assert not any(r.is_surge for r in records)


def test_wage_arrears_peak_before_spring_festival(history):
    wages = Counter(r.received_on.month for r in history if r.template_key.startswith("wage"))
    assert wages[1] > 2 * wages[7]
    assert wages[1] > 2 * wages[5]


def test_school_enrolment_peaks_in_summer(history):
    enrolment = Counter(r.received_on.month for r in history if r.template_key == "school_enrolment")
    assert enrolment[7] + enrolment[8] > 3 * (enrolment[11] + enrolment[12])


def test_visits_happen_on_working_days(history):
    visits = Counter(r.received_on.weekday() for r in history if r.petition.channel == Channel.VISIT)
    assert visits[0] > 5 * max(visits[5], visits[6], 1) or (visits[5] + visits[6]) * 10 < sum(visits.values())


def test_places_are_in_the_gazetteer_and_near_their_village(history, county):
    villages = {v.code: v for t in county.townships for v in t.villages}
    townships = {t.code: t for t in county.townships}
    for r in history:
        location = r.petition.location
        assert location is not None and location.division_code is not None
        code = location.division_code
        assert code in villages or code in townships
        assert code.startswith(r.township_code)
        assert abs(location.lng - townships[r.township_code].lng) < 0.5
        assert abs(location.lat - townships[r.township_code].lat) < 0.5


def test_answers_name_known_departments_and_categories(history, county):
    known = _department_codes() | {t.code for t in county.townships}
    assert {r.expected_department for r in history} <= known
    assert {r.category for r in history} <= set(CATEGORIES)
    assert set(CATEGORIES[:7]) <= {r.category for r in history}
    assert "xfj" not in {r.expected_department for r in history}
    # territorial matters go to the township where they arise
    village_matters = [r for r in history if r.template_key == "village_affairs"]
    assert village_matters and all(r.expected_department == r.township_code for r in village_matters)


def test_every_template_appears(history):
    assert {t.key for t in TEMPLATES} <= {r.template_key for r in history}


def test_texts_have_no_unfilled_slots_and_vary(history):
    for r in history:
        assert "{" not in r.petition.title + r.petition.body
    assert len({r.petition.body for r in history}) > 0.95 * len(history)


def test_a_few_texts_carry_signals_and_noise(history):
    n = len(history)
    assert 0.01 < sum(r.has_risk_signal for r in history) / n < 0.1
    assert 0.02 < sum(r.has_legal_channel for r in history) / n < 0.2
    assert 0.03 < sum(r.has_noise for r in history) / n < 0.15
    assert any("北京" in r.petition.body or "横幅" in r.petition.body for r in history if r.has_risk_signal)
    assert any("仲裁" in r.petition.body for r in history if r.has_legal_channel)
    assert any("\n\t" in r.petition.body for r in history)
    assert any(ch in r.petition.body for r in history for ch in "０１２３４５６７８９")
    assert any("們" in r.petition.body or "請" in r.petition.body for r in history)


def test_accusations_never_come_through_the_hotline(history):
    accusations = [r for r in history if r.kind == "accusation"]
    assert accusations and all(r.expected_department == "jw" for r in accusations)
    assert not any(r.petition.channel == Channel.HOTLINE for r in accusations if not r.is_repeat)


def test_scale_changes_the_volume(county):
    small = generate_history(seed=5, end=END, months=6, county=county, scale=0.3)
    full = generate_history(seed=5, end=END, months=6, county=county, scale=1.0)
    assert len(small) < 0.6 * len(full)


def test_it_works_for_a_tiny_county_without_villages():
    tiny = county_from_dict(
        {
            "county": {"code": "999999", "name": "测试县"},
            "townships": [
                {"code": "999999100", "name": "甲镇", "lng": 110.0, "lat": 30.0, "population": 1000},
                {"code": "999999200", "name": "乙乡", "lng": 110.1, "lat": 30.1, "population": 500},
            ],
        }
    )
    records = generate_history(seed=1, end=END, months=2, county=tiny)
    assert records
    assert {r.petition.location.division_code for r in records} <= {"999999100", "999999200"}


def test_it_refuses_nonsense_arguments(county):
    with pytest.raises(ValueError):
        generate_history(end=END, months=0, county=county)
    with pytest.raises(ValueError):
        generate_history(end=END, scale=0, county=county)


def test_hotline_rows_look_like_a_work_order_export(county):
    rows = generate_hotline_rows(seed=4, end=END, months=1, county=county)
    assert len(rows) > 20
    township_names = {t.name for t in county.townships}
    for row in rows:
        assert tuple(row) == HOTLINE_HEADERS
        assert row["工单编号"].startswith("JL")
        assert row["所属乡镇"] in township_names
        assert row["诉求内容"] and row["诉求标题"]
        assert row["来电时间"].startswith("2026-0")


def test_hotline_rows_only_take_hotline_records(history, county):
    rows = hotline_rows(history, county=county)
    assert len(rows) == sum(r.petition.channel == Channel.HOTLINE for r in history)
