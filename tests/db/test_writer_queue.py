"""SQLite write transactions of one process queue on a semaphore (store.db._WriterQueue): all of them commit, and a
transaction that ends any way at all — commit, rollback, a connection handed back without either — frees the turn."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from xinfang.store.db import make_engine


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def _finishes(work, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Run `work` on a thread; True if it finished in time (a leaked turn would make it wait 30 s)."""
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


def test_concurrent_writers_all_commit(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(25):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": i * 100 + j})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT n) FROM t")).scalar_one() == 200
    engine.dispose()


def test_every_way_a_transaction_ends_frees_the_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as conn:  # rolled back
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.rollback()
    with (
        engine.connect() as conn
    ):  # handed back to the pool mid-transaction, neither committed nor rolled back
        conn.execute(text("INSERT INTO t VALUES (2)"))

    def failing() -> None:
        with contextlib.suppress(OperationalError), engine.begin() as conn:  # the statement fails on purpose
            conn.execute(text("INSERT INTO missing VALUES (3)"))

    assert _finishes(failing)

    def committing() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (4)"))

    assert _finishes(committing)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalars().all() == [4]
    engine.dispose()


def test_an_invalidated_connection_frees_the_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    conn = engine.connect()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    conn.invalidate()  # what a lost connection does
    conn.close()

    def committing() -> None:
        with engine.begin() as c:
            c.execute(text("INSERT INTO t VALUES (2)"))

    assert _finishes(committing)
    engine.dispose()


def test_the_turn_is_a_lock_on_a_file_beside_the_database(tmp_path: Path) -> None:
    """Another process sees the turn taken: it is an flock on `<database>.writer-lock`, held for the transaction."""
    engine = _engine(tmp_path)
    lock_file = tmp_path / "queue.db.writer-lock"

    def locked_elsewhere() -> bool:
        fd = os.open(lock_file, os.O_RDWR)  # a separate open file description, as another process has
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert locked_elsewhere()
    assert not locked_elsewhere()
    engine.dispose()


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    script = (
        "import sys, threading\n"
        "from sqlalchemy import text\n"
        "from xinfang.store.db import make_engine\n"
        "e = make_engine(sys.argv[1])\n"
        "def w(i):\n"
        "    for j in range(20):\n"
        "        with e.begin() as c:\n"
        "            c.execute(text('INSERT INTO t VALUES (:n)'), {'n': int(sys.argv[2]) * 1000 + i * 100 + j})\n"
        "ts = [threading.Thread(target=w, args=(i,)) for i in range(4)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
    )
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    procs = [subprocess.Popen([sys.executable, "-c", script, url, str(k)]) for k in (1, 2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT n) FROM t")).scalar_one() == 160
    engine.dispose()
