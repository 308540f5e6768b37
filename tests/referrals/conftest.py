"""Fixtures for the referral tests: two fake platforms on real sockets, a runtime configured for them, the API
client (shared with tests/api), and helpers to register, forward and accept petitions through the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest as api_fixtures
from tests.conftest import make_settings
from tests.factories import fake_id_number, petition_payload
from tests.referrals.fakes import FakePlatform
from xinfang.clock import FixedClock
from xinfang.runtime import Runtime
from xinfang.store.jobs import JobRegistry, RetryPolicy, Worker

client = api_fixtures.client
auth = api_fixtures.auth

SECRETS = {"mediation": "test-mediation-secret-0123456789", "court": "test-court-secret-0123456789ab"}


@pytest.fixture
def platform_options() -> dict[str, dict[str, Any]]:
    """Override in a test module to make a platform misbehave (fail_first, slow_first, hold_first ...)."""
    return {}


@pytest.fixture
def platforms(
    platform_options: dict[str, dict[str, Any]], clock: FixedClock
) -> Iterator[dict[str, FakePlatform]]:
    started = {
        name: FakePlatform(name, secret=SECRETS[name], **platform_options.get(name, {})).start()
        for name in ("mediation", "court")
    }
    for p in started.values():
        p.now = lambda: clock.now().timestamp()
    yield started
    for p in started.values():
        p.stop()


@pytest.fixture
def runtime(
    db_url: str, tmp_path: Path, clock: FixedClock, platforms: dict[str, FakePlatform]
) -> Iterator[Runtime]:
    """The shared `runtime`, configured with the fake platforms (the api fixtures build on it)."""
    settings = make_settings(
        db_url,
        tmp_path,
        referral_platforms={name: p.config() for name, p in platforms.items()},
        job_max_attempts=6,
        job_backoff_seconds=60,
        job_backoff_max_seconds=600,
        job_lease_seconds=60,
    )
    rt = Runtime(settings=settings, clock=clock)
    yield rt
    rt.dispose()


def make_test_worker(rt: Runtime, worker_id: str = "test-worker") -> Worker:
    from xinfang.cli.jobs import build_registry

    registry: JobRegistry = build_registry(rt)
    s = rt.settings
    return Worker(
        sessions=rt.sessions,
        registry=registry,
        now=rt.clock.now,
        worker_id=worker_id,
        policy=RetryPolicy(base_seconds=s.job_backoff_seconds, max_seconds=s.job_backoff_max_seconds),
        poll_seconds=0.05,
    )


def drain(worker: Worker, clock: FixedClock, *, rounds: int = 20) -> int:
    """Run every job to its end: when nothing is due, move the clock past the longest back-off and try again."""
    ran = 0
    for _ in range(rounds):
        n = worker.run_until_idle(limit=100)
        ran += n
        if n == 0:
            from sqlalchemy import func, select

            from xinfang.store.jobs import Job

            with worker.sessions() as s:
                waiting = s.execute(
                    select(func.count()).select_from(Job).where(Job.state.in_(["pending", "running"]))
                ).scalar_one()
            if not waiting:
                return ran
            clock.advance(seconds=700)
    raise AssertionError("jobs did not settle")


Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def new_petition(client: TestClient, auth: Auth, run_jobs: Callable[[], int]) -> Callable[..., int]:
    """new_petition(status="registered"|"accepted") -> id, registered by the clerk with synthetic contacts; the
    enrichment intake queues is run at once, so that the referral's delivery is the next job a worker takes."""

    def make(status: str = "registered", seed: int = 1) -> int:
        payload = petition_payload(id_number=fake_id_number(seed=seed), phone="13800000000")
        r = client.post("/api/petitions", json=payload, headers=auth("clerk"))
        assert r.status_code == 201, r.text
        pid = int(r.json()["id"])
        run_jobs()
        if status == "accepted":
            act(client, auth, "clerk", pid, "forward", {"department": "rsj"})
            act(client, auth, "handler_rsj", pid, "accept", {})
        return pid

    return make


def act(
    client: TestClient, auth: Auth, user: str, pid: int, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    r = client.post(f"/api/petitions/{pid}/actions/{action}", json=payload, headers=auth(user))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def consent_for(client: TestClient, auth: Auth, pid: int) -> dict[str, Any]:
    petition = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    return {
        "petitioner_ids": [p["id"] for p in petition["petitioners"]],
        "method": "书面",
        "given_at": "2026-03-02T09:00:00+08:00",
    }


def refer(
    client: TestClient,
    auth: Auth,
    pid: int,
    platform: str,
    kind: str = "诉前调解",
    user: str = "clerk",
    **extra: Any,
) -> dict[str, Any]:
    body = {"platform": platform, "kind": kind, "consent": consent_for(client, auth, pid)} | extra
    r = client.post(f"/api/petitions/{pid}/referrals", json=body, headers=auth(user))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
