"""The periods and keys of recurring jobs: a daily job at a China-local morning hour starts its period at that hour
(not at UTC midnight), the key names the period's start and changes exactly at the boundary, and a job without an
offset keeps the keys it had before offsets existed (so a running deployment does not run its purge twice)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from xinfang.clock import CHINA_TZ
from xinfang.config import Settings
from xinfang.ops import scheduled
from xinfang.store.jobs import EPOCH, ClaimedJob, Recurring

TICK = timedelta(microseconds=1)
REMIND = Recurring.daily_at("clocks.remind", time(6, 30), tz=CHINA_TZ)


def local(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


def test_a_local_morning_hour_is_the_utc_evening_before() -> None:
    assert REMIND.offset == timedelta(hours=22, minutes=30) and REMIND.period == timedelta(days=1)
    assert Recurring.daily_at("k", time(8, 0), tz=CHINA_TZ).offset == timedelta(0)  # 08:00 China = 00:00 UTC
    assert Recurring.daily_at("k", time(0, 0), tz=CHINA_TZ).offset == timedelta(hours=16)
    assert Recurring.daily_at("k", time(7, 59, 30), tz=CHINA_TZ).offset == timedelta(
        hours=23, minutes=59, seconds=30
    )


def test_the_period_turns_exactly_at_the_local_hour() -> None:
    boundary = local(2026, 3, 2, 6, 30)
    before, after = boundary - TICK, boundary + TICK
    assert REMIND.period_start(before) == local(
        2026, 3, 1, 6, 30
    )  # 06:29:59.999999: still yesterday's period
    assert REMIND.period_start(boundary) == boundary  # the boundary itself belongs to the new period
    assert REMIND.period_start(after) == boundary
    assert REMIND.period_start(boundary + timedelta(days=1) - TICK) == boundary
    assert REMIND.key(before) == "clocks.remind@2026-02-28T22:30:00+00:00"
    assert REMIND.key(boundary) == REMIND.key(after) == "clocks.remind@2026-03-01T22:30:00+00:00"
    assert REMIND.period_start(boundary).astimezone(CHINA_TZ).time() == time(6, 30)


def test_the_key_does_not_depend_on_the_clocks_time_zone() -> None:
    now = local(2026, 3, 2, 9, 30)
    assert REMIND.key(now) == REMIND.key(now.astimezone(UTC))
    assert REMIND.period_start(now).tzinfo == UTC


def test_a_job_without_offset_keeps_its_utc_midnight_keys() -> None:
    purge = Recurring("jobs.purge")
    now = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    # the format of the keys before offsets existed: the UTC start of the day
    start = int(now.timestamp()) // 86400 * 86400
    assert purge.key(now) == f"jobs.purge@{datetime.fromtimestamp(start, UTC).isoformat()}"
    assert purge.key(now) == "jobs.purge@2026-03-02T00:00:00+00:00"
    assert purge.key(datetime(2026, 3, 2, 0, 0, tzinfo=UTC) - TICK) == "jobs.purge@2026-03-01T00:00:00+00:00"


def test_every_instant_lies_in_exactly_one_period_and_each_period_has_its_own_key() -> None:
    every_10 = Recurring("alerts.deliver", period=timedelta(minutes=10))
    hourly_at_15 = Recurring("x", period=timedelta(hours=1), offset=timedelta(minutes=15))
    for r in (REMIND, every_10, hourly_at_15):
        starts_by_key: dict[str, datetime] = {}
        instant = datetime(2026, 3, 1, tzinfo=UTC)
        while instant < datetime(2026, 3, 4, tzinfo=UTC):
            start = r.period_start(instant)
            assert start <= instant < start + r.period
            assert (start - EPOCH - r.offset) % r.period == timedelta(0)
            assert starts_by_key.setdefault(r.key(instant), start) == start  # one period per key
            instant += timedelta(minutes=7)
        assert len(set(starts_by_key.values())) == len(starts_by_key)  # one key per period
    assert every_10.key(local(2026, 3, 2, 6, 39)) == every_10.key(local(2026, 3, 2, 6, 30))
    assert every_10.key(local(2026, 3, 2, 6, 40)) != every_10.key(local(2026, 3, 2, 6, 40) - TICK)
    assert hourly_at_15.period_start(local(2026, 3, 2, 7, 14)) == local(2026, 3, 2, 6, 15)


def test_a_period_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Recurring("x", period=timedelta(0))


def test_the_schedule_follows_the_settings_and_can_be_switched_off() -> None:
    s = Settings(schedule_clocks_remind_at="07:15", schedule_referrals_poll_minutes=30)  # type: ignore[arg-type]
    by_kind = {r.kind: r for r in scheduled.recurring(s)}
    assert set(by_kind) == set(scheduled.KINDS)
    assert by_kind["clocks.remind"].period_start(local(2026, 3, 2, 9, 0)) == local(2026, 3, 2, 7, 15)
    assert by_kind["alerts.scan"].period_start(local(2026, 3, 2, 9, 0)) == local(2026, 3, 2, 6, 40)
    assert by_kind["referrals.poll"].period == timedelta(minutes=30)
    assert by_kind["alerts.deliver"].period == timedelta(minutes=10)
    assert scheduled.recurring(Settings(schedule_enabled=False)) == ()  # type: ignore[call-arg]


def test_a_late_scan_still_covers_the_day_before_its_period() -> None:
    def job(payload: dict[str, str]) -> ClaimedJob:
        return ClaimedJob(1, "alerts.scan", payload, 1, 3)

    period = Recurring.daily_at("alerts.scan", time(6, 40), tz=CHINA_TZ).period_start(local(2026, 3, 3, 2, 0))
    assert period == local(2026, 3, 2, 6, 40)  # at 02:00 on the 3rd the current period is the 2nd's
    assert scheduled.day_before_period(job({"period": period.isoformat()})) == date(2026, 3, 1)
    assert scheduled.day_before_period(job({})) is None  # enqueued by hand: the scan's own default


def test_the_shipped_env_example_and_the_manual_show_the_schedule_settings_as_they_are() -> None:
    """Uncommenting a line of deploy/xinfang.env.example keeps the default; the manual names every variable."""
    root = Path(__file__).resolve().parents[3]
    example = (root / "deploy" / "xinfang.env.example").read_text(encoding="utf-8")
    manual = (root / "docs" / "manual" / "operations.md").read_text(encoding="utf-8")
    lines = dict(re.findall(r"^# (XINFANG_SCHEDULE_\w+)=(\S+)$", example, re.M))
    fields = {f"XINFANG_{name.upper()}" for name in Settings.model_fields if name.startswith("schedule_")}
    assert set(lines) == fields and all(f"`{var}" in manual for var in fields)
    shown = Settings(**{k.removeprefix("XINFANG_").lower(): v for k, v in lines.items()})  # type: ignore[arg-type]
    defaults = Settings()  # type: ignore[call-arg]
    for name in Settings.model_fields:
        if name.startswith("schedule_") and name != "schedule_enabled":
            assert getattr(shown, name) == getattr(defaults, name), name
    assert shown.schedule_enabled is False and defaults.schedule_enabled is True
