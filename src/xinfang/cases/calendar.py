"""The official work calendar: public holidays and the adjusted working weekends (调休) the State Council announces.

Why a data file rather than a rule: China's holidays move with the lunar calendar and the State Council re-arranges
weekends around them every year (国务院办公厅关于XXXX年部分节假日安排的通知). No formula reproduces that, so the
calendar is data that a deployment updates once a year, in `xinfang/data/calendar/cn_holidays.yaml`.

File format (YAML, `format: 1`)::

    format: 1
    years:
      2026:
        source: 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）
        holidays:                        # the 放假 blocks as the notice states them
          - {name: 春节, from: 2026-02-15, to: 2026-02-23}
          - {name: 端午节, from: 2026-06-19, to: 2026-06-21}
        workdays:                        # the weekend days declared working days (调休上班)
          - {name: 春节, date: 2026-02-14}

`to` may be omitted for a one-day holiday. A year is *covered* only when it has a block: a calendar silently missing
2027 would count the Spring Festival week as working days, so uncovered dates are treated as plain Monday-Friday
weeks **and** reported (a `CalendarCoverageWarning`, or `CalendarNotCovered` when the calendar is strict); callers
can ask `covers(year)` and mark such deadlines provisional (暂定).

Local overrides (a county's own holiday, a correction before the package is updated) go in a second file of the same
format passed as `load_calendar(overrides=...)`. An override wins over the base file for the same date: a date listed
under `workdays` there turns a base holiday into a working day, and vice versa. Years defined in the override file
count as covered, so a deployment can add next year before a release ships it.

Why not the `chinesecalendar` package at run time: it is a fine cross-check (tests compare against it when it is
installed) but it is updated by a third party on its own schedule and ships as code; a deployment that must enter
next year's notice in a hurry can edit a YAML file but not a wheel.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xinfang.errors import InvalidInput, XinfangError

FORMAT_VERSION = 1
DEFAULT_FILE = "cn_holidays.yaml"
SATURDAY = 5


class CalendarNotCovered(XinfangError):
    """A date falls in a year for which no official holiday arrangement is loaded (strict calendars only)."""

    code = "calendar.year_not_covered"
    http_status = 409


class CalendarCoverageWarning(UserWarning):
    """A date was judged by the plain weekend rule because its year's holiday arrangement is not loaded."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days in mainland China, for the years the data covers.

    A day is a rest day when it is a public holiday, or a Saturday/Sunday that is not an adjusted working day.
    `strict=True` turns a look-up in an uncovered year into an error instead of a warning.
    """

    holidays: frozenset[date] = field(default=frozenset(), repr=False)
    extra_workdays: frozenset[date] = field(default=frozenset(), repr=False)
    years: frozenset[int] = frozenset()
    sources: Mapping[int, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    strict: bool = False

    def covers(self, year: int) -> bool:
        """True when the official arrangement for `year` is loaded."""
        return year in self.years

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """The years between two dates (inclusive) that the data does not cover."""
        return [y for y in range(min(start, end).year, max(start, end).year + 1) if not self.covers(y)]

    def is_workday(self, day: date) -> bool:
        """A working day: a weekday that is not a holiday, or a weekend day declared a working day (调休)."""
        self._check_covered(day)
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < SATURDAY

    def is_rest_day(self, day: date) -> bool:
        return not self.is_workday(day)

    def next_workday(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day + timedelta(days=1)
        while not self.is_workday(candidate):
            candidate += timedelta(days=1)
        return candidate

    def workday_on_or_after(self, day: date) -> date:
        """`day` itself when it is a working day, else the next one: how a period ending on a rest day moves."""
        return day if self.is_workday(day) else self.next_workday(day)

    def _check_covered(self, day: date) -> None:
        if self.covers(day.year):
            return
        if self.strict:
            message = f"{day.year}年的节假日安排未载入，{day.isoformat()} 暂按周一至周五工作日计算"
            raise CalendarNotCovered(message, year=day.year, date=day.isoformat())
        _warn_uncovered(day.year)


def _warn_uncovered(year: int) -> None:
    """The message names the year, not the date: Python's default warning filter then reports it once per year
    (a year of provisional dates is one fact, not one per date), while tests that ask for it still see it."""
    warnings.warn(
        f"{year}年的节假日安排未载入，该年的期限暂按周一至周五工作日计算（更新 data/calendar 后即为正式期限）",
        CalendarCoverageWarning,
        stacklevel=4,
    )


@lru_cache(maxsize=8)
def load_calendar(
    path: Path | str | None = None, *, overrides: Path | str | None = None, strict: bool = False
) -> WorkCalendar:
    """Load the holiday file (the packaged one by default), apply local overrides, and build a calendar.

    Cached per argument set, since the files change only on deployment; call `load_calendar.cache_clear()` after
    editing one in a running process.
    """
    base = _read_yaml(Path(path)) if path is not None else _read_packaged()
    marks, sources = parse_calendar_data(base, origin=str(path) if path is not None else DEFAULT_FILE)
    if overrides is not None:
        extra_marks, extra_sources = parse_calendar_data(_read_yaml(Path(overrides)), origin=str(overrides))
        marks |= extra_marks
        sources |= {
            y: f"{sources[y]}；本地调整：{s}" if y in sources else s for y, s in extra_sources.items()
        }
    return WorkCalendar(
        holidays=frozenset(d for d, is_work in marks.items() if not is_work),
        extra_workdays=frozenset(d for d, is_work in marks.items() if is_work),
        years=frozenset(sources),
        sources=dict(sorted(sources.items())),
        strict=strict,
    )


def parse_calendar_data(data: Any, *, origin: str = "<data>") -> tuple[dict[date, bool], dict[int, str]]:
    """Validate one file's content; return {date: is_workday} marks and {year: source}.

    Errors name the file, year and entry, because the person fixing them is a clerk with a text editor.
    """
    if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION:
        raise _bad(origin, f"缺少或不支持的 format（应为 {FORMAT_VERSION}）")
    years = data.get("years")
    if not isinstance(years, Mapping) or not years:
        raise _bad(origin, "缺少 years")
    marks: dict[date, bool] = {}
    sources: dict[int, str] = {}
    for year, block in years.items():
        if not isinstance(year, int) or not isinstance(block, Mapping):
            raise _bad(origin, f"年份 {year!r} 的格式不正确")
        source = block.get("source")
        if not isinstance(source, str) or not source.strip():
            raise _bad(origin, f"{year} 年缺少 source（国务院办公厅通知的名称和文号）")
        sources[year] = source.strip()
        for day in _holiday_days(block.get("holidays") or [], origin, year):
            marks[day] = False
        for day in _workdays(block.get("workdays") or [], origin, year):
            if day in marks:
                raise _bad(origin, f"{year} 年：{day} 同时列为放假日和调休上班日")
            marks[day] = True
    return marks, sources


def _holiday_days(entries: Iterable[Any], origin: str, year: int) -> Iterable[date]:
    for entry in entries:
        start = _as_date(entry.get("from") if isinstance(entry, Mapping) else None, origin, year)
        end = _as_date(entry.get("to", start), origin, year)
        if end < start or (end - start).days > 15:
            raise _bad(origin, f"{year} 年：放假区间 {start}～{end} 不合理")
        yield from (start + timedelta(days=i) for i in range((end - start).days + 1))


def _workdays(entries: Iterable[Any], origin: str, year: int) -> Iterable[date]:
    for entry in entries:
        day = _as_date(entry.get("date") if isinstance(entry, Mapping) else entry, origin, year)
        if day.weekday() < SATURDAY:
            raise _bad(origin, f"{year} 年：调休上班日 {day} 不是周末")
        yield day


def _as_date(value: Any, origin: str, year: int) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _bad(origin, f"{year} 年：日期 {value!r} 应写作 YYYY-MM-DD")


def _bad(origin: str, detail: str) -> InvalidInput:
    return InvalidInput(f"节假日数据文件 {origin} 有误：{detail}", code="calendar.bad_data", file=origin)


def _read_packaged() -> Any:
    text = resources.files("xinfang").joinpath("data", "calendar", DEFAULT_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _bad(str(path), "文件不存在") from exc
    except yaml.YAMLError as exc:
        raise _bad(str(path), f"YAML 语法错误：{exc}") from exc
