"""Province scale: two `xinfang serve` and two `xinfang worker` processes against one PostgreSQL, one load generator.

The load generator (threads with httpx) alternates between the two web instances: it registers petitions (dispatch on,
so confident ones are forwarded at once, with their clocks and notices), refers some to two fake 访调诉 platforms
(the mediation platform fails its first requests), runs the warning scan twice at once (two hosts' timers) over two
group visits that must raise one alert, uses a session opened on one instance on the other, guesses a password and
a public query code against both, replaces a notice template on one instance and issues a notice on the other.

Then: every petition answered 201 exists exactly once; every job is done once (attempts = requests the platform
received; each referral's idempotency key created exactly once on its platform); one alert per situation; clocks
are the same whichever instance registered a petition; sessions, lockout, throttles and templates are shared.

Runs only on the PostgreSQL lane (XINFANG_TEST_DATABASE_URL; CI sets it): SQLite is one file for one host.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
from sqlalchemy import create_engine, select, text

from tests.conftest import PASSWORDS, TEST_KEY, make_settings, seed_org_and_users
from tests.factories import fake_id_number, petition_payload
from tests.referrals.conftest import SECRETS
from tests.referrals.fakes import FakePlatform
from xinfang.alerts.models import Alert
from xinfang.cases.models import Clock, Petition
from xinfang.clock import CHINA_TZ, local_date
from xinfang.config import Settings
from xinfang.referrals.models import Referral
from xinfang.runtime import Runtime
from xinfang.store.jobs import Job

PG_URL = os.environ.get("XINFANG_TEST_DATABASE_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not PG_URL,
        reason="multi-instance test needs PostgreSQL: set XINFANG_TEST_DATABASE_URL "
        "(e.g. postgresql://postgres@127.0.0.1:5432/test; CI sets it)",
    ),
]

XF = str(Path(sys.executable).with_name("xinfang"))
WAIT = (
    90.0  # the longest the test waits for anything (two cores shared with PostgreSQL and four app processes)
)
WRITERS, PER_WRITER = 4, 8
REFERRALS = 12
MEDIATION_FAILURES = 3
MARKER = "【本县自定义受理告知书·多实例测试】"
BODIES = (
    "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。",
    "小区旁边的工厂每天夜里排放刺鼻废气,严重影响居民休息和身体健康,请求环保部门调查处理。",
    "我家孩子今年上小学,学校以户籍不在片区为由拒绝入学,请求教育部门协调解决入学问题。",
    "村里修路占用了我家的承包地,一直没有给补偿,请求镇政府核实并依法补偿。",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server at {base} did not start")


@dataclass
class Cluster:
    url: str
    bases: tuple[str, str]
    platforms: dict[str, FakePlatform]
    env: dict[str, str]
    tmp: Path
    day: date  # local date of receipt of the load's petitions (the warning scan's day)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def engine(self) -> Any:
        return create_engine(Settings(database_url=self.url).database_url)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process at teardown)
        proc = subprocess.Popen([XF, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    assert PG_URL
    tmp = tmp_path_factory.mktemp("multi")
    schema = f"xf_multi_{uuid.uuid4().hex[:10]}"
    admin = create_engine(Settings(database_url=PG_URL).database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    platforms = {
        "mediation": FakePlatform(
            "mediation", secret=SECRETS["mediation"], fail_first=MEDIATION_FAILURES
        ).start(),
        "court": FakePlatform("court", secret=SECRETS["court"]).start(),
    }
    env = os.environ | {
        "XINFANG_DATABASE_URL": url,
        "XINFANG_DATA_KEY": TEST_KEY,
        "XINFANG_ATTACHMENTS_DIR": str(tmp / "shared" / "attachments"),  # shared storage of the hosts
        "XINFANG_NOTICE_TEMPLATES_DIR": str(tmp / "shared" / "notice_templates"),
        "XINFANG_DISPATCH_ENABLED": "true",
        "XINFANG_AUTO_DISPATCH": "true",
        "XINFANG_REFERRAL_PLATFORMS": json.dumps({k: p.config() for k, p in platforms.items()}),
        "XINFANG_JOB_LEASE_SECONDS": "60",
        "XINFANG_JOB_BACKOFF_SECONDS": "0.3",
        "XINFANG_JOB_BACKOFF_MAX_SECONDS": "1",
        "XINFANG_WORKER_POLL_SECONDS": "0.2",
        "XINFANG_SCHEDULE_ENABLED": "false",  # daily tasks: tests/api/test_scheduled_tasks.py (two workers)
    }
    day = local_date(datetime.now(CHINA_TZ)) - timedelta(days=1)
    c = Cluster(url=url, bases=("", ""), platforms=platforms, env=env, tmp=tmp, day=day)
    try:
        upgraded = subprocess.run(
            [XF, "db", "upgrade", "--db", url], env=env, capture_output=True, text=True, timeout=WAIT
        )
        assert upgraded.returncode == 0, upgraded.stderr[-2000:]
        rt = Runtime(settings=make_settings(url, tmp))
        seed_org_and_users(rt)
        rt.dispose()
        ports = (_free_port(), _free_port())
        servers = [c.start(f"serve{i}", "serve", "--port", str(p)) for i, p in enumerate(ports)]
        c.bases = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
        c.start("worker0", "worker")
        c.start("worker1", "worker")
        for i, (base, proc) in enumerate(zip(c.bases, servers, strict=True)):
            _wait_healthy(base, proc, tmp / f"serve{i}.log")
        yield c
    finally:
        for proc in c.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in c.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        for p in platforms.values():
            p.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ---- the load generator -------------------------------------------------------------------------------------------


@dataclass
class Load:
    created: list[tuple[str, int, int]] = field(default_factory=list)  # (title, id, instance) answered 201
    statuses: Counter[int] = field(default_factory=Counter)
    idempotent: list[tuple[int, int]] = field(
        default_factory=list
    )  # (status, id) of one key sent to A and B at once
    referral_keys: list[str] = field(default_factory=list)
    group_visits: list[int] = field(default_factory=list)
    scans: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    wrong_logins: list[int] = field(default_factory=list)
    after_lockout: list[tuple[int, str]] = field(default_factory=list)
    wrong_queries: list[int] = field(default_factory=list)
    after_throttle: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _token(base: str, user: str, password: str | None = None) -> str:
    r = httpx.post(
        base + "/api/auth/token",
        data={"username": user, "password": password or PASSWORDS[user]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _clients(c: Cluster, token: str) -> tuple[httpx.Client, httpx.Client]:
    h = {"Authorization": f"Bearer {token}"}
    return (
        httpx.Client(base_url=c.bases[0], headers=h, timeout=60),
        httpx.Client(base_url=c.bases[1], headers=h, timeout=60),
    )


def _received_at(c: Cluster, minute: int) -> str:
    return datetime.combine(c.day, datetime.min.time(), CHINA_TZ).replace(hour=9, minute=minute).isoformat()


def _run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a load thread hung"


def _intake(c: Cluster, load: Load, clerk_token: str) -> None:
    def writer(w: int) -> None:
        clients = _clients(c, clerk_token)
        for i in range(PER_WRITER):
            instance = (w + i) % 2
            title = f"多实例-{w}-{i}"
            payload = petition_payload(
                title=title,
                body=BODIES[(w + i // 2) % len(BODIES)],  # each text on both instances
                id_number=fake_id_number(seed=100 * w + i),
                phone=f"1380000{w:02d}{i:02d}",
                received_at=_received_at(c, minute=w * 10 + i),
            )
            if i == 0 and w < 2:  # two group visits in one township and category: one situation
                payload |= {
                    "channel": "visit",
                    "headcount": 30,
                    "category": "劳动和社会保障",
                    "location": {"division_code": "350428101"},
                }
            try:
                r = clients[instance].post("/api/petitions", json=payload)
            except httpx.HTTPError as exc:
                with load.lock:
                    load.errors.append(f"intake {title}: {type(exc).__name__}")
                continue
            with load.lock:
                load.statuses[r.status_code] += 1
                if r.status_code == 201:
                    load.created.append((title, int(r.json()["id"]), instance))
                    if "headcount" in payload:
                        load.group_visits.append(int(r.json()["id"]))
                else:
                    load.errors.append(f"intake {title}: {r.status_code} {r.text[:200]}")

    def idempotent_pair() -> None:
        """One client retrying one registration on the other instance while the first is still working on it."""
        clients = _clients(c, clerk_token)
        barrier = threading.Barrier(2)
        payload = petition_payload(title="多实例-重试", received_at=_received_at(c, minute=59))

        def send(instance: int) -> None:
            barrier.wait()
            r = clients[instance].post("/api/petitions", json=payload, headers={"Idempotency-Key": "retry-1"})
            with load.lock:
                load.idempotent.append((r.status_code, int(r.json()["id"]) if r.status_code < 300 else -1))

        _run_threads([lambda: send(0), lambda: send(1)])

    _run_threads([lambda w=w: writer(w) for w in range(WRITERS)] + [idempotent_pair])


def _referrals(c: Cluster, load: Load, clerk_token: str) -> Callable[[], None]:
    ids = [pid for _t, pid, _i in sorted(load.created)][:REFERRALS]

    def refer(part: int) -> None:
        clients = _clients(c, clerk_token)
        for n, pid in enumerate(ids[part::2]):
            instance = (part + n) % 2
            petition = clients[1 - instance].get(f"/api/petitions/{pid}").json()
            body = {
                "platform": ("mediation", "court")[n % 2],
                "kind": "诉前调解",
                "consent": {
                    "petitioner_ids": [p["id"] for p in petition["petitioners"]],
                    "method": "书面",
                    "given_at": _received_at(c, minute=30),
                },
            }
            r = clients[instance].post(f"/api/petitions/{pid}/referrals", json=body)
            with load.lock:
                if r.status_code == 201:
                    load.referral_keys.append(r.json()["reference"])
                else:
                    load.errors.append(f"referral {pid}: {r.status_code} {r.text[:200]}")

    return lambda: _run_threads([lambda: refer(0), lambda: refer(1)])


def _scans(c: Cluster, load: Load) -> Callable[[], None]:
    """Two hosts' daily timers firing at once: two `xinfang alerts scan` processes for the same day."""

    def run() -> None:
        args = [XF, "alerts", "scan", "--date", c.day.isoformat(), "--replicates", "19"]
        procs = [
            subprocess.Popen(args, env=c.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for p in procs:
            out, err = p.communicate(timeout=WAIT)
            load.scans.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))

    return run


def _guessing(c: Cluster, load: Load) -> Callable[[], None]:
    """Wrong passwords for one account sent to both instances at once, then wrong query codes one by one."""

    def run() -> None:
        barrier = threading.Barrier(6)

        def guess(n: int) -> None:
            barrier.wait()
            r = httpx.post(
                c.bases[n % 2] + "/api/auth/token",
                data={"username": "township_wa", "password": f"wrong-{n}"},
                timeout=60,
            )
            with load.lock:
                load.wrong_logins.append(r.status_code)

        _run_threads([lambda n=n: guess(n) for n in range(6)])
        for base in c.bases:  # the right password is refused on both: the account is locked everywhere
            r = httpx.post(
                base + "/api/auth/token",
                data={"username": "township_wa", "password": PASSWORDS["township_wa"]},
                timeout=60,
            )
            code = r.json().get("detail", {}).get("code") if r.status_code < 500 else r.text[:200]
            load.after_lockout.append((r.status_code, code))
        for n in range(5):
            r = httpx.post(
                c.bases[n % 2] + "/public/query", data={"number": "XF000", "code": f"BAD{n}"}, timeout=60
            )
            load.wrong_queries.append(r.status_code)
        for base in c.bases:
            r = httpx.post(base + "/public/query", data={"number": "XF000", "code": "BAD9"}, timeout=60)
            load.after_throttle.append(r.status_code)

    return run


def _jobs_settled(c: Cluster) -> bool:
    engine = c.engine()
    try:
        with engine.connect() as conn:
            states = set(conn.execute(select(Job.state)).scalars())
    finally:
        engine.dispose()
    return bool(states) and states <= {"done", "dead"}


@pytest.fixture(scope="module")
def load(cluster: Cluster) -> Load:
    c, result = cluster, Load()
    clerk_token = _token(c.bases[0], "clerk")  # issued by A, used on both
    _intake(c, result, clerk_token)
    _run_threads([_referrals(c, result, clerk_token), _scans(c, result), _guessing(c, result)])
    deadline = time.monotonic() + WAIT
    while not _jobs_settled(c) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


# ---- the checks ---------------------------------------------------------------------------------------------------


def test_every_acknowledged_petition_exists_exactly_once(cluster: Cluster, load: Load) -> None:
    assert not load.errors, load.errors
    assert load.statuses[201] == WRITERS * PER_WRITER
    assert {i for _t, _p, i in load.created} == {0, 1}, "both instances registered petitions"
    engine = cluster.engine()
    with engine.connect() as conn:
        titles = Counter(conn.execute(select(Petition.title)).scalars())
        ids = {t: i for t, i in conn.execute(select(Petition.title, Petition.id))}
    engine.dispose()
    for title, pid, _instance in load.created:
        assert titles[title] == 1, f"{title} stored {titles[title]} times"
        assert ids[title] == pid
    # one registration retried on the other instance while the first was in flight: one petition, one 201
    assert sorted(s for s, _ in load.idempotent) == [200, 201], load.idempotent
    assert len({pid for _, pid in load.idempotent}) == 1 and titles["多实例-重试"] == 1


def test_every_job_ran_to_done_once_and_each_referral_was_created_once(cluster: Cluster, load: Load) -> None:
    assert len(load.referral_keys) == REFERRALS, load.errors
    engine = cluster.engine()
    with engine.connect() as conn:
        jobs = conn.execute(select(Job.kind, Job.state, Job.attempts, Job.locked_by, Job.payload)).all()
        referrals = {
            r.idempotency_key: r
            for r in conn.execute(select(Referral.idempotency_key, Referral.status, Referral.remote_id))
        }
    engine.dispose()
    deliveries = [j for j in jobs if j.kind == "referral.deliver"]
    assert len(deliveries) == REFERRALS
    assert {j.state for j in jobs} == {"done"}, Counter((j.kind, j.state) for j in jobs)
    # no work enqueued twice (the daily recurring jobs both workers schedule included)
    same = Counter((j.kind, json.dumps(j.payload, sort_keys=True)) for j in jobs)
    assert max(same.values()) == 1, [k for k, n in same.items() if n > 1]
    workers = {j.locked_by for j in deliveries}
    assert len(workers) == 2, f"both workers should have delivered: {workers}"
    platforms = cluster.platforms
    posts = platforms["mediation"].posts + platforms["court"].posts
    creations = platforms["mediation"].creations + platforms["court"].creations
    assert sorted(creations) == sorted(load.referral_keys) and set(creations.values()) == {1}
    # no attempt ran twice (and none went unrecorded): every platform request is one recorded attempt
    assert sum(j.attempts for j in deliveries) == sum(posts.values())
    assert sum(posts.values()) == REFERRALS + MEDIATION_FAILURES
    assert {r.status for r in referrals.values()} == {"sent"}
    for key, r in referrals.items():
        remote = (platforms["mediation"].remote_by_key | platforms["court"].remote_by_key)[key]
        assert r.remote_id == remote


def test_concurrent_scans_open_one_alert_per_situation(cluster: Cluster, load: Load) -> None:
    assert [s.returncode for s in load.scans] == [0, 0], [s.stderr[-1000:] for s in load.scans]
    engine = cluster.engine()
    with engine.connect() as conn:
        alerts = conn.execute(select(Alert.id, Alert.situation_key, Alert.status, Alert.petition_ids)).all()
    engine.dispose()
    per_situation = Counter(a.situation_key for a in alerts if a.status in ("open", "acknowledged"))
    assert per_situation and max(per_situation.values()) == 1, per_situation
    group = [a for a in alerts if set(load.group_visits) <= set(a.petition_ids)]
    assert len(load.group_visits) == 2 and len(group) == 1
    assert group[0].situation_key == "place:350428101:劳动和社会保障"
    reports = [json.loads(s.stdout.strip().splitlines()[-1]) for s in load.scans]
    assert sorted(r["opened"] > 0 for r in reports) == [False, True], "the second scan updated, not reopened"


def test_clocks_are_the_same_whichever_instance_registered(cluster: Cluster, load: Load) -> None:
    engine = cluster.engine()
    with engine.connect() as conn:
        rows = conn.execute(
            select(Clock.petition_id, Clock.rule, Clock.start_on, Clock.due_on, Clock.statutory_due_on)
        ).all()
        placed = dict(conn.execute(select(Petition.id, Petition.department_id)).all())
    engine.dispose()
    clocks: dict[int, set[tuple[Any, ...]]] = {}
    for pid, rule, start, due, statutory in rows:
        clocks.setdefault(pid, set()).add((rule, start, due, statutory))
    by_instance: dict[tuple[Any, int], list[frozenset[tuple[Any, ...]]]] = {}
    for _title, pid, instance in load.created:  # all received on one day: same unit, same clocks
        by_instance.setdefault((placed[pid], instance), []).append(frozenset(clocks.get(pid, set())))
    compared = 0
    for (department, instance), sets in by_instance.items():
        other = by_instance.get((department, 1 - instance))
        if other is None:
            continue
        assert set(sets) == set(other), f"clocks differ between instances for unit {department}"
        compared += 1
    assert compared, f"no unit had petitions registered on both instances: {sorted(by_instance, key=str)}"
    # and each instance reads the same deadlines and states for the same petition
    a, b = _clients(cluster, _token(cluster.bases[1], "supervisor"))
    for _title, pid, _i in load.created[:6]:
        seen = [c.get(f"/api/petitions/{pid}").json()["deadlines"] for c in (a, b)]
        assert seen[0] == seen[1]


def test_a_session_opened_on_one_instance_works_and_ends_on_the_other(cluster: Cluster, load: Load) -> None:
    a, b = cluster.bases
    with httpx.Client(base_url=a, timeout=60) as browser:
        r = browser.post("/login", data={"username": "handler_rsj", "password": PASSWORDS["handler_rsj"]})
        assert r.status_code == 303
        cookie = browser.cookies.get("xf_session")
    assert cookie
    with httpx.Client(base_url=b, cookies={"xf_session": cookie}, timeout=60) as other:
        assert other.get("/api/me").json()["username"] == "handler_rsj"
        assert other.get("/inbox").status_code == 200
    token = _token(b, "leader")
    h = {"Authorization": f"Bearer {token}"}
    assert httpx.get(a + "/api/me", headers=h, timeout=60).status_code == 200
    assert httpx.post(b + "/api/auth/logout", headers=h, timeout=60).status_code == 204
    assert httpx.get(a + "/api/me", headers=h, timeout=60).status_code == 401


def test_failed_logins_and_query_guesses_count_across_instances(load: Load) -> None:
    assert sorted(load.wrong_logins) == [401] * 6
    assert [code for _status, code in load.after_lockout] == ["auth.locked", "auth.locked"]
    assert all(status in (401, 423) for status, _code in load.after_lockout), load.after_lockout
    assert load.wrong_queries == [404] * 5
    assert load.after_throttle == [429, 429]


def test_a_template_replaced_on_one_instance_is_used_by_the_other(cluster: Cluster, load: Load) -> None:
    a, b = cluster.bases
    source = resources.files("xinfang") / "data" / "notices" / "acceptance.docx"
    document = docx.Document(io.BytesIO(source.read_bytes()))
    document.add_paragraph(MARKER)
    edited = io.BytesIO()
    document.save(edited)
    admin = {"Authorization": f"Bearer {_token(a, 'admin')}"}
    r = httpx.put(
        a + "/api/admin/notice-templates/acceptance",
        files={"file": ("acceptance.docx", edited.getvalue())},
        headers=admin,
        timeout=60,
    )
    assert r.status_code == 200, r.text
    clerk = {"Authorization": f"Bearer {_token(b, 'clerk')}"}
    handler = {"Authorization": f"Bearer {_token(b, 'handler_rsj')}"}
    created = httpx.post(
        b + "/api/petitions", json=petition_payload(title="多实例-模板"), headers=clerk, timeout=60
    ).json()
    pid = created["id"]
    if (created["status"], created["department"]) != ("forwarded", "rsj"):
        assert created["status"] != "forwarded", f"the wage petition went to {created['department']}"
        r = httpx.post(
            b + f"/api/petitions/{pid}/actions/forward", json={"department": "rsj"}, headers=clerk, timeout=60
        )
        assert r.status_code == 200, r.text
    r = httpx.post(b + f"/api/petitions/{pid}/actions/accept", json={}, headers=handler, timeout=60)
    assert r.status_code == 200, r.text
    doc = next(d for d in r.json()["documents"] if d["kind"] == "acceptance")
    data = httpx.get(a + doc["url"], headers=handler, timeout=60).content
    text_of = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert MARKER in text_of, "instance B issued the notice from a stale template"
