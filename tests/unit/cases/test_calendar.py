"""The work calendar: official holidays and 调休 working weekends, coverage, overrides, and the data file itself."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from xinfang.cases.calendar import (
    CalendarCoverageWarning,
    CalendarNotCovered,
    WorkCalendar,
    load_calendar,
    parse_calendar_data,
)
from xinfang.errors import InvalidInput

CAL = load_calendar()
D = date.fromisoformat


def test_it_covers_2020_to_2026_and_says_2027_is_not_covered() -> None:
    assert all(CAL.covers(year) for year in range(2020, 2027))
    assert not CAL.covers(2027)
    assert not CAL.covers(2019)
    assert CAL.uncovered_years(D("2026-11-01"), D("2027-02-01")) == [2027]


@pytest.mark.parametrize("day", ["2026-02-14", "2026-02-28"])  # 春节调休: two Saturdays are working days
def test_spring_festival_2026_adjusted_saturdays_are_workdays(day: str) -> None:
    assert D(day).weekday() == 5
    assert CAL.is_workday(D(day))


def test_spring_festival_2026_holiday_runs_15_to_23_february() -> None:
    days = [D("2026-02-15") + timedelta(days=i) for i in range(9)]
    assert all(CAL.is_rest_day(d) for d in days)
    assert CAL.is_workday(D("2026-02-13"))  # Friday before
    assert CAL.is_workday(D("2026-02-24"))  # first day back
    assert CAL.next_workday(D("2026-02-14")) == D("2026-02-24")


def test_national_day_2025_includes_mid_autumn_and_two_adjusted_weekend_days() -> None:
    assert CAL.is_workday(D("2025-09-28"))  # Sunday, 调休上班
    assert all(CAL.is_rest_day(D("2025-10-01") + timedelta(days=i)) for i in range(8))
    assert CAL.is_workday(D("2025-10-09"))
    assert CAL.is_workday(D("2025-10-11"))  # Saturday, 调休上班
    assert CAL.is_rest_day(D("2025-10-12"))  # an ordinary Sunday
    assert CAL.next_workday(D("2025-09-30")) == D("2025-10-09")


def test_national_day_2026_and_its_adjusted_days() -> None:
    assert CAL.is_workday(D("2026-09-20")) and CAL.is_workday(D("2026-10-10"))
    assert all(CAL.is_rest_day(D("2026-10-01") + timedelta(days=i)) for i in range(7))
    assert CAL.is_rest_day(D("2026-09-25"))  # 中秋节 2026 is its own break


def test_ordinary_weeks_follow_the_weekend_rule() -> None:
    assert CAL.is_workday(D("2026-03-02"))  # Monday
    assert CAL.is_rest_day(D("2026-03-07"))  # Saturday
    assert CAL.workday_on_or_after(D("2026-03-02")) == D("2026-03-02")
    assert CAL.workday_on_or_after(D("2026-03-07")) == D("2026-03-09")


def test_2020_spring_festival_extension_is_in_the_data() -> None:
    assert CAL.is_rest_day(D("2020-01-31")) and CAL.is_rest_day(D("2020-02-02"))
    assert CAL.is_rest_day(D("2020-02-01"))  # a 调休 Saturday until the extension cancelled it
    assert CAL.is_workday(D("2020-02-03"))


def test_an_uncovered_year_warns_and_falls_back_to_weekdays() -> None:
    with pytest.warns(CalendarCoverageWarning, match="2027"):
        assert CAL.is_workday(D("2027-02-08"))


def test_a_strict_calendar_refuses_an_uncovered_year() -> None:
    strict = load_calendar(strict=True)
    with pytest.raises(CalendarNotCovered) as err:
        strict.is_workday(D("2027-01-04"))
    assert err.value.code == "calendar.year_not_covered"
    assert strict.is_workday(D("2026-02-14"))


def test_every_year_names_its_state_council_notice_and_the_seven_holidays() -> None:
    raw = yaml.safe_load(
        Path(__file__).parents[3].joinpath("src/xinfang/data/calendar/cn_holidays.yaml").read_text()
    )
    for year, block in raw["years"].items():
        assert f"国务院办公厅关于{year}年部分节假日安排的通知" in CAL.sources[year]
        names = "".join(h["name"] for h in block["holidays"])
        for holiday in ("元旦", "春节", "清明", "劳动", "端午", "中秋", "国庆"):
            assert holiday in names, (year, holiday)


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_local_overrides_add_a_holiday_cancel_one_and_can_add_a_year(tmp_path: Path) -> None:
    overrides = _write(
        tmp_path,
        "local.yaml",
        {
            "format": 1,
            "years": {
                2026: {
                    "source": "县人民政府关于民族节日放假的通知",
                    "holidays": [{"name": "三月三", "from": "2026-04-20"}],
                    "workdays": [],
                },
                2027: {
                    "source": "国务院办公厅关于2027年部分节假日安排的通知（本地先行录入）",
                    "holidays": [],
                },
            },
        },
    )
    cal = load_calendar(overrides=overrides)
    assert cal.is_rest_day(D("2026-04-20"))  # Monday, local holiday
    assert cal.is_rest_day(D("2026-02-16"))  # the national data is still there
    assert cal.covers(2027)
    assert "本地调整" in cal.sources[2026]


def test_an_override_workday_beats_a_base_holiday(tmp_path: Path) -> None:
    base = _write(
        tmp_path,
        "base.yaml",
        {"format": 1, "years": {2026: {"source": "s", "holidays": [{"name": "x", "from": "2026-05-02"}]}}},
    )
    over = _write(
        tmp_path, "over.yaml", {"format": 1, "years": {2026: {"source": "t", "workdays": ["2026-05-02"]}}}
    )
    assert load_calendar(base).is_rest_day(D("2026-05-02"))
    assert load_calendar(base, overrides=over).is_workday(D("2026-05-02"))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"years": {}}, "format"),
        ({"format": 1, "years": {2026: {"holidays": []}}}, "source"),
        ({"format": 1, "years": {2026: {"source": "s", "workdays": ["2026-03-02"]}}}, "不是周末"),
        ({"format": 1, "years": {2026: {"source": "s", "holidays": [{"from": "2026-13-01"}]}}}, "YYYY-MM-DD"),
        (
            {
                "format": 1,
                "years": {2026: {"source": "s", "holidays": [{"from": "2026-03-09", "to": "2026-03-01"}]}},
            },
            "不合理",
        ),
        (
            {
                "format": 1,
                "years": {
                    2026: {"source": "s", "holidays": [{"from": "2026-03-07"}], "workdays": ["2026-03-07"]}
                },
            },
            "同时",
        ),
    ],
)
def test_bad_data_is_refused_with_a_message_a_clerk_can_act_on(data: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_calendar_data(data, origin="x.yaml")
    assert err.value.code == "calendar.bad_data"
    assert fragment in err.value.message and "x.yaml" in err.value.message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="文件不存在"):
        load_calendar(tmp_path / "none.yaml")


def test_the_packaged_data_agrees_with_the_chinesecalendar_package_on_every_day() -> None:
    """Independent cross-check: our file was written from the notices; the package is maintained separately."""
    chinese_calendar = pytest.importorskip("chinese_calendar")
    day, differences = date(2020, 1, 1), []
    while day <= date(2026, 12, 31):
        if CAL.is_workday(day) != chinese_calendar.is_workday(day):
            differences.append(day)
        day += timedelta(days=1)
    assert differences == []


def test_an_empty_calendar_is_just_weekends_and_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert WorkCalendar().is_workday(D("2026-02-16"))
    assert caught and issubclass(caught[0].category, CalendarCoverageWarning)
