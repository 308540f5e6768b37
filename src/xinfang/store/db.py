"""Engine and session handling.

SQLite runs in WAL mode with synchronous=FULL so that a petition acknowledged with 201 survives a crash or power
loss; foreign keys are on and a busy timeout lets concurrent writers queue instead of failing.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        _WriterQueue(_writer_lock_path(url)).install(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", _postgres_session_settings)
    return engine


def _postgres_session_settings(dbapi_conn: Any, _record: Any) -> None:
    """JIT compilation off for the app's connections, where the server has it (PostgreSQL 11+; openGauss and
    KingbaseES may not know the setting). The app's queries are short; PostgreSQL compiles any query whose
    estimated cost passes jit_above_cost, and on a 10-million-petition database that compilation took 300-500 ms
    of a heat-map request whose query ran in 7 ms. Analysts' long ad-hoc queries on their own connections keep it."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_settings WHERE name = 'jit'")
        known = cur.fetchone() is not None
        if known:
            cur.execute("SET jit = off")
    dbapi_conn.commit()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; the "begin" listener issues BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class _WriterQueue:
    """SQLite write transactions take turns in a queue before asking SQLite for the write lock.

    Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: BEGIN IMMEDIATE takes the write lock up
    front, so two writers never deadlock upgrading a read lock. But SQLite's busy handler polls, sleeping up to
    100 ms between tries, and grants the lock to whoever polls first: with a dozen waiting threads in two server
    processes, some waited seconds while the lock sat free (the p99 of bench/load.py). Here the threads of a
    process wait on a semaphore, woken as soon as the previous transaction ends, and the one thread per process at
    the head of its queue takes an exclusive lock on a file beside the database, polled every half millisecond, so
    the turn passes between processes at once too. A crashed process's file lock goes with it.
    """

    def __init__(self, lock_path: Path | None, timeout: float = 30.0) -> None:
        self._turn = threading.BoundedSemaphore(1)
        self._timeout = timeout
        self._holders: set[Connection] = set()  # the connection whose transaction has the turn (one at most)
        self._lock_path = lock_path
        self._fd: int | None = None

    def install(self, engine: Engine) -> None:
        # Every end of a transaction reaches one of these: Connection.close() and an invalidated connection roll
        # back through the Connection, and its events fire then too. (They fire just before the COMMIT or
        # ROLLBACK itself: the next writer's BEGIN IMMEDIATE may wait the millisecond that takes, in SQLite.)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn: Connection) -> None:
        deadline = time.monotonic() + self._timeout
        if not self._turn.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError("database is locked (waited for the other transactions)")
        try:
            self._lock_file(deadline)
            self._holders.add(conn)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if conn in self._holders:
                self._end(conn)
            else:
                self._turn.release()
            raise

    def _lock_file(self, deadline: float) -> None:
        if self._lock_path is None:
            return
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (another process kept its turn)"
                    ) from None
                time.sleep(0.0005)

    def _end(self, conn: Connection) -> None:
        try:
            self._holders.remove(conn)
        except KeyError:  # a rollback with no transaction begun, or a second end of the same one
            return
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._turn.release()


def _writer_lock_path(url: str) -> Path | None:
    """The file beside a SQLite database file that writers lock; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".writer-lock")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from xinfang.store import text_guard

    factory = sessionmaker(engine, expire_on_commit=False)
    text_guard.install(factory)  # issue 8: NUL and lone surrogates refused alike on both backends
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Services never commit; this boundary does."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"
