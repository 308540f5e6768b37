"""Throttling of guessable secrets (query codes, passwords): a fixed window of failures per key, in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinfang.errors import XinfangError
from xinfang.security.models import Throttle


class TooManyAttempts(XinfangError):
    code = "throttle.too_many_attempts"
    http_status = 429


def check(session: Session, *, key: str, now: datetime, limit: int, window: timedelta) -> None:
    """Refuse (429) while `key` has `limit` failures in the current window."""
    row = session.get(Throttle, key, with_for_update=True)
    if row is not None and now - row.window_start < window and row.failures >= limit:
        minutes = max(1, int((row.window_start + window - now).total_seconds() // 60))
        raise TooManyAttempts(f"尝试次数过多,请{minutes}分钟后再试", retry_after_minutes=minutes)


def fail(session: Session, *, key: str, now: datetime, window: timedelta) -> None:
    row = session.get(Throttle, key, with_for_update=True)
    if row is None:
        # Two app instances may count the first failure of a key at once: the loser of the INSERT race (a unique
        # violation, rolled back to the savepoint) counts on the row the winner created, under its row lock.
        try:
            with session.begin_nested():
                session.add(Throttle(key=key, window_start=now, failures=1))
            return
        except IntegrityError:
            row = session.get(Throttle, key, with_for_update=True, populate_existing=True)
            assert row is not None
    if now - row.window_start >= window:
        row.window_start, row.failures = now, 1
    else:
        row.failures += 1
