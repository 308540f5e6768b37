"""Crash safety: SIGKILL the server while clients submit petitions and an import runs.

After a restart, every petition acknowledged with 201 is present exactly once, and the import is either whole or
absent. Runs against a real server process on loopback, on SQLite (WAL, synchronous=FULL) and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from tests.conftest import PASSWORDS, TEST_KEY
from tests.factories import petition_payload
from xinfang.cases.models import Petition
from xinfang.intake.enrichment import ENRICH_JOB
from xinfang.runtime import Runtime
from xinfang.store.jobs import Job

XF = str(Path(sys.executable).with_name("xinfang"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, port: int, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [XF, "serve", "--db", url, "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def _import_file(tmp: Path, n: int) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["编号", "标题", "内容", "来信时间"])
    for i in range(n):
        w.writerow(
            [f"CRASH-{i}", f"批量导入{i}", f"批量导入的信访内容第{i}条,要求处理。", "2026-02-01 10:00"]
        )
    path = tmp / "batch.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_acknowledged_petitions_survive_a_sigkill(seeded: Runtime, tmp_path: Path) -> None:
    url = seeded.engine.url.render_as_string(hide_password=False)
    seeded.dispose()
    env = os.environ | {
        "XINFANG_DATA_KEY": TEST_KEY,
        "XINFANG_DISPATCH_ENABLED": "false",
        "XINFANG_ATTACHMENTS_DIR": str(tmp_path / "att"),
    }
    port = _free_port()
    server = _start(url, port, env)
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        base + "/api/auth/token", data={"username": "clerk", "password": PASSWORDS["clerk"]}
    ).json()["access_token"]
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(worker: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=5) as c:
            for i in range(10_000):
                if stop.is_set():
                    return
                title = f"崩溃测试-{worker}-{i}"
                try:
                    r = c.post("/api/petitions", json=petition_payload(title=title))
                except httpx.HTTPError:
                    return  # the server died mid-request: this one was never acknowledged
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(title)

    threads = [threading.Thread(target=client_loop, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    importer = subprocess.Popen(
        [XF, "import", str(_import_file(tmp_path, 400)), "--source", "批量", "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(acknowledged) < 25 and time.monotonic() < deadline:  # kill under load, however slow the machine
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)
    importer.send_signal(signal.SIGKILL)
    server.wait(10)
    importer.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acknowledged) > 10, "the load generator should have had petitions acknowledged before the kill"

    # Restart, this time with the background worker: recovery happens on open (WAL replay / PostgreSQL crash
    # recovery), then the worker runs the enrichment queued with each petition that committed.
    server = _start(url, port, env, "--with-worker")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            titles = [row[0] for row in conn.execute(select(Petition.title).where(Petition.source == "api"))]
            imported = conn.execute(
                select(func.count()).select_from(Petition).where(Petition.source == "批量")
            )
            n_imported = imported.scalar_one()
            batches = conn.execute(text("SELECT count(*) FROM import_batches")).scalar_one()
        waiting = _wait_for_enrichment(engine, timeout=180)
        with engine.connect() as conn:
            petitions = conn.execute(select(func.count()).select_from(Petition)).scalar_one()
            jobs = dict(
                conn.execute(
                    select(Job.state, func.count()).where(Job.kind == ENRICH_JOB).group_by(Job.state)
                ).all()
            )
    finally:
        engine.dispose()
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    assert waiting == 0, f"{waiting} petitions never enriched after the restart; jobs: {jobs}"
    assert jobs == {"done": petitions}, f"one enrichment job per stored petition expected: {jobs}"
    missing = set(acknowledged) - set(titles)
    assert not missing, f"{len(missing)} acknowledged petitions lost"
    assert len(titles) == len(set(titles)), "a petition was stored twice"
    assert (n_imported, batches) in ((0, 0), (400, 1)), (
        f"half an import: {n_imported} rows, {batches} batches"
    )


def _wait_for_enrichment(engine: Any, *, timeout: float) -> int:
    """Petitions still waiting for the worker when it finished or the timeout ran out."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            waiting = conn.execute(
                select(func.count()).select_from(Petition).where(Petition.enriched_at.is_(None))
            ).scalar_one()
        if waiting == 0 or time.monotonic() > deadline:
            return int(waiting)
        time.sleep(0.5)


@pytest.fixture(autouse=True)
def _sqlite_or_postgres(db_url: str) -> None:
    """Runs on both lanes (the db_url fixture parametrises it)."""
