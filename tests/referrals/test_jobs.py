"""The generic job queue / outbox: atomic with the change, exclusive claims, leases, back-off, dead letters."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest

from tests.conftest import T0
from xinfang.errors import IntegrationError
from xinfang.runtime import Runtime
from xinfang.store.jobs import (
    Job,
    JobRegistry,
    JobState,
    RetryPolicy,
    Worker,
    claim,
    complete,
    enqueue,
    retry,
)

LEASE = timedelta(minutes=5)


def _enqueue(rt: Runtime, n: int = 1, **kw: object) -> list[int]:
    with rt.session() as s:
        jobs = [enqueue(s, kind="test.kind", payload={"n": i}, now=T0, **kw) for i in range(n)]  # type: ignore[arg-type]
        s.flush()
        return [j.id for j in jobs]


def test_a_job_written_in_a_rolled_back_transaction_never_exists(runtime: Runtime) -> None:
    with pytest.raises(RuntimeError), runtime.session() as s:
        enqueue(s, kind="test.kind", payload={}, now=T0)
        raise RuntimeError("the case change failed")
    assert claim(runtime.sessions, worker_id="w", now=T0, lease=LEASE) is None


def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(runtime: Runtime) -> None:
    _enqueue(runtime)
    first = claim(runtime.sessions, worker_id="a", now=T0, lease=LEASE)
    assert first is not None and first.attempt == 1
    assert claim(runtime.sessions, worker_id="b", now=T0 + timedelta(minutes=4), lease=LEASE) is None
    second = claim(runtime.sessions, worker_id="b", now=T0 + timedelta(minutes=6), lease=LEASE)
    assert second is not None and second.id == first.id and second.attempt == 2
    assert not complete(
        runtime.sessions, first, now=T0
    )  # the vanished worker cannot overwrite the new attempt
    assert complete(runtime.sessions, second, now=T0)


def test_back_off_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy, rng = RetryPolicy(base_seconds=10, max_seconds=100, jitter=0.25), random.Random(1)
    delays = [policy.delay(n, rng).total_seconds() for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        nominal = min(10 * 2 ** (n - 1), 100)
        assert nominal <= d <= nominal * 1.25


def test_failures_retry_then_dead_letter_and_an_operator_can_retry(runtime: Runtime) -> None:
    calls: Counter[str] = Counter()
    dead: list[int] = []

    def always_fails(job: object) -> None:
        calls["run"] += 1
        raise IntegrationError("暂时不可用", code="test.down")

    registry = JobRegistry()
    registry.register("test.kind", always_fails, on_dead=lambda s, job, now: dead.append(job.id))
    now = [T0]
    w = Worker(
        runtime.sessions, registry, lambda: now[0], "w", policy=RetryPolicy(base_seconds=1, max_seconds=1)
    )
    (job_id,) = _enqueue(runtime, max_attempts=3)
    for _ in range(5):
        w.run_until_idle()
        now[0] += timedelta(seconds=2)
    assert calls["run"] == 3 and dead == [job_id]
    with runtime.session() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.state == JobState.DEAD and job.attempts == 3
        assert job.last_error and "test.down" in job.last_error
        retry(s, job_id=job_id, now=now[0])
    w.run_until_idle()
    assert calls["run"] == 4


def test_a_non_retryable_error_goes_straight_to_the_dead_letters(runtime: Runtime) -> None:
    def refuses(job: object) -> None:
        raise IntegrationError("拒绝", code="test.rejected", retryable=False)

    registry = JobRegistry()
    registry.register("test.kind", refuses)
    (job_id,) = _enqueue(runtime)
    Worker(runtime.sessions, registry, lambda: T0, "w").run_until_idle()
    with runtime.session() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.state == JobState.DEAD and job.attempts == 1


def test_concurrent_workers_run_every_job_exactly_once(runtime: Runtime) -> None:
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def handler(job: object) -> None:
        with lock:
            ran[job.payload["n"]] += 1  # type: ignore[attr-defined]

    registry = JobRegistry()
    registry.register("test.kind", handler)
    _enqueue(runtime, 40)
    workers = [Worker(runtime.sessions, registry, lambda: T0, f"w{i}") for i in range(4)]
    threads = [threading.Thread(target=w.run_until_idle) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert sorted(ran) == list(range(40)) and set(ran.values()) == {1}
