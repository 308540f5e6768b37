"""Time as a dependency: domain code receives `now` from a Clock and never reads the system clock itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests and backfills: always the same instant unless advanced."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def advance(self, **kwargs: float) -> None:
        self.instant = self.instant + timedelta(**kwargs)


def local_date(instant: datetime) -> date:
    """The calendar date in China for an aware instant: statutory periods are counted on local dates."""
    return instant.astimezone(CHINA_TZ).date()


def ensure_aware(instant: datetime) -> datetime:
    """Treat a naive datetime as China local time (what clerks and files mean) and return it in UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=CHINA_TZ)
    return instant.astimezone(UTC)
