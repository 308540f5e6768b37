"""Load benchmark: intake and the main reads through real HTTP on loopback, on SQLite or PostgreSQL.

Loads a small demo county into a fresh database (a temp SQLite file, or a new database created on the PostgreSQL
server of --db and dropped afterwards), starts `xinfang serve --workers W` as separate processes, and drives it from
this process with threads (httpx, one connection per client):

- intake: POST /api/petitions with 1 client and with --concurrency clients; throughput, p50/p99 latency;
- reads: --concurrency clients requesting the main reads of the clerk (the petition list API, the inbox page, a case
  page) and the leader (dashboard page, heat-map API); throughput and p50/p99 per read;
- enrichment: what intake queued (repeat links, hot matter, ledger link) drained by one `xinfang worker`; jobs/s.

Baselines in the same run: registration through the service layer in-process (no HTTP), and GET /api/health (the
web stack with one `SELECT 1`). Medians over --repeat rounds; with --json the last line is one JSON object.
The mass-event case is the default: every petition has the same text (the worst case for repeat detection).

    .venv/bin/python bench/load.py [--db URL] [--n 300] [--concurrency 8] [--server-workers 2] [--repeat 3]
                                   [--dispatch] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import fake_id_number, petition_payload  # noqa: E402

XF = str(Path(sys.executable).with_name("xinfang"))
CLERK, LEADER = ("clerk", "demo-clerk"), ("leader", "demo-leader")


def payloads(n: int, offset: int) -> list[dict[str, Any]]:
    return [
        petition_payload(
            title=f"基准测试信访件{offset + i}",
            id_number=fake_id_number(seed=offset + i),
            phone=f"139{(offset + i) % 10**8:08d}",
            location={"division_code": "350428101201"},
        )
        for i in range(n)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- the database ------------------------------------------------------------------------------------------------


def fresh_database(db: str | None, work: Path) -> tuple[str, Callable[[], None]]:
    """A new, empty database and a function that removes it."""
    if not db:
        return f"sqlite:///{work}/bench.db", lambda: None
    if not db.startswith("postgresql"):
        raise SystemExit("--db: a PostgreSQL URL (the SQLite run makes its own file)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"xf_bench_load_{os.getpid()}"
    admin = create_engine(db, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(db).set(database=name).render_as_string(hide_password=False), drop


def prepare(db_url: str, env: dict[str, str]) -> None:
    for cmd in (["db", "upgrade"], ["demo", "load", "--scale", "0.05"]):
        subprocess.run([XF, *cmd, "--db", db_url], check=True, env=env, capture_output=True)


def start_server(
    db_url: str, env: dict[str, str], workers: int, work: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [XF, "serve", "--db", db_url, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start; see {work / 'serve.log'}")


# ---- the load --------------------------------------------------------------------------------------------------


def drive(
    clients: list[httpx.Client], requests: list[Callable[[httpx.Client], httpx.Response]]
) -> dict[str, Any]:
    """Spread the requests over the clients (one thread each); throughput and latencies; every failure counted."""
    latencies: list[float] = []
    failures: list[str] = []

    def run(i: int) -> tuple[list[float], list[str]]:
        lat, bad = [], []
        for request in requests[i :: len(clients)]:
            t = time.perf_counter()
            try:
                r = request(clients[i])
                ok = r.status_code < 400
                detail = f"{r.status_code} {r.text[:120]}"
            except httpx.HTTPError as exc:
                ok, detail = False, type(exc).__name__
            lat.append(time.perf_counter() - t)
            if not ok:
                bad.append(detail)
        return lat, bad

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        for lat, bad in pool.map(run, range(len(clients))):
            latencies += lat
            failures += bad
    elapsed = time.perf_counter() - t0
    return {"per_s": len(requests) / elapsed, "latencies": latencies, "failures": failures}


def login_api(base: str, who: tuple[str, str]) -> dict[str, str]:
    r = httpx.post(base + "/api/auth/token", data={"username": who[0], "password": who[1]})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def page_clients(base: str, who: tuple[str, str], n: int) -> list[httpx.Client]:
    clients = []
    for _ in range(n):
        c = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        r = c.post("/login", data={"username": who[0], "password": who[1]})
        if r.status_code != 303:
            raise SystemExit(f"page login {who[0]}: {r.status_code}")
        clients.append(c)
    return clients


def api_clients(base: str, headers: dict[str, str], n: int) -> list[httpx.Client]:
    return [httpx.Client(base_url=base, headers=headers, timeout=60) for _ in range(n)]


def reads(base: str, concurrency: int, n: int) -> dict[str, dict[str, Any]]:
    clerk_api = api_clients(base, login_api(base, CLERK), concurrency)
    clerk_pages = page_clients(base, CLERK, concurrency)
    leader_pages = page_clients(base, LEADER, concurrency)
    leader_api = api_clients(base, login_api(base, LEADER), concurrency)
    case = re.search(r'href="/petitions/(\d+)"', clerk_pages[0].get("/inbox?box=all").text)
    case_path = f"/petitions/{case.group(1) if case else 1}"
    plan: dict[str, tuple[list[httpx.Client], str]] = {
        "GET /api/health (baseline)": (clerk_api, "/api/health"),
        "GET /api/petitions (clerk)": (clerk_api, "/api/petitions?page_size=20"),
        "GET /inbox (clerk page)": (clerk_pages, "/inbox"),
        "GET /petitions/{id} (clerk page)": (clerk_pages, case_path),
        "GET /dashboard (leader page)": (leader_pages, "/dashboard"),
        "GET /api/analytics/heatmap (leader)": (leader_api, "/api/analytics/heatmap?level=village"),
    }
    out = {}
    for name, (clients, path) in plan.items():
        out[name] = drive(clients, [lambda c, p=path: c.get(p)] * n)
    for c in clerk_api + clerk_pages + leader_pages + leader_api:
        c.close()
    return out


def intake_http(
    base: str, headers: dict[str, str], bodies: list[dict[str, Any]], concurrency: int
) -> dict[str, Any]:
    clients = api_clients(base, headers, concurrency)
    try:
        return drive(clients, [lambda c, b=b: c.post("/api/petitions", json=b) for b in bodies])
    finally:
        for c in clients:
            c.close()


def intake_inprocess(db_url: str, bodies: list[dict[str, Any]], dispatch: bool) -> float:
    """The baseline: the service layer alone, one transaction per petition as the API does."""
    from xinfang.cases.schemas import PetitionIn
    from xinfang.cases.service import register_petition
    from xinfang.config import Settings
    from xinfang.runtime import Runtime
    from xinfang.security.actors import SYSTEM

    rt = Runtime(settings=Settings(database_url=db_url, dispatch_enabled=dispatch))
    data = [PetitionIn.model_validate(b) for b in bodies]
    t0 = time.perf_counter()
    for d in data:
        with rt.session() as s:
            register_petition(s, actor=SYSTEM, data=d, now=rt.clock.now(), ctx=rt.intake_context(s))
    rate = len(data) / (time.perf_counter() - t0)
    rt.dispose()
    return rate


def drain(db_url: str, env: dict[str, str]) -> tuple[int, float]:
    """Run one `xinfang worker --once` over what the rounds queued: (jobs run, seconds)."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [XF, "worker", "--once", "--db", db_url], check=True, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t0
    return int(json.loads(out.stdout.strip().splitlines()[-1])["ran"]), elapsed


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median throughput over the rounds; latency percentiles over every request of every round."""
    lat = [x for r in rounds for x in r["latencies"]]
    return {
        "per_s": round(statistics.median(r["per_s"] for r in rounds), 1),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p99_ms": round(pct(lat, 99) * 1000, 1),
        "failures": sum(len(r["failures"]) for r in rounds),
        "failure_sample": next((r["failures"][0] for r in rounds if r["failures"]), None),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--db", help="a PostgreSQL server URL: a fresh database is created there (default: SQLite)"
    )
    ap.add_argument("--n", type=int, default=300, help="petitions per intake round")
    ap.add_argument("--reads", type=int, default=200, help="requests per read per round")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dispatch", action="store_true", help="analyse and route every petition (production)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xf-bench-load-"))
    db_url, drop = fresh_database(args.db, work)
    env = os.environ | {
        "XINFANG_DISPATCH_ENABLED": "true" if args.dispatch else "false",
        "XINFANG_ATTACHMENTS_DIR": str(work / "attachments"),
        "PYTHONWARNINGS": "ignore",
    }
    try:
        prepare(db_url, env)
        drain(db_url, env)  # the demo's own queue (already enriched by the loader), so that it is not counted
        server, base = start_server(db_url, env, args.server_workers, work)
        try:
            headers = login_api(base, CLERK)
            one, many, inproc, read_rounds, drained = [], [], [], [], []
            offset = 0
            for _ in range(args.repeat):
                one.append(intake_http(base, headers, payloads(args.n, offset), 1))
                offset += args.n
                many.append(intake_http(base, headers, payloads(args.n, offset), args.concurrency))
                offset += args.n
                inproc.append(intake_inprocess(db_url, payloads(args.n, offset), args.dispatch))
                offset += args.n
                read_rounds.append(reads(base, args.concurrency, args.reads))
                drained.append(drain(db_url, env))
        finally:
            server.terminate()
            server.wait(20)
    finally:
        drop()

    result: dict[str, Any] = {
        "backend": db_url.split(":", 1)[0].split("+")[0],
        "dispatch": args.dispatch,
        "server_workers": args.server_workers,
        "concurrency": args.concurrency,
        "rounds": args.repeat,
        "intake_1_client": summary(one),
        f"intake_{args.concurrency}_clients": summary(many),
        "baseline_inprocess_per_s": round(statistics.median(inproc), 1),
        "reads": {name: summary([r[name] for r in read_rounds]) for name in read_rounds[0]},
        "enrichment_jobs_per_s": round(statistics.median(n / s for n, s in drained if n), 1),
        "enrichment_jobs": sum(n for n, _ in drained),
    }
    print(
        f"load benchmark ({result['backend']}, dispatch {'on' if args.dispatch else 'off'}, "
        f"{args.server_workers} server processes, {args.repeat} rounds; medians of throughput, "
        "percentiles over all requests)"
    )
    rows = [
        ("intake, 1 client", result["intake_1_client"]),
        (f"intake, {args.concurrency} clients", result[f"intake_{args.concurrency}_clients"]),
        *((f"{name}, {args.concurrency} clients", v) for name, v in result["reads"].items()),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"  {'':{width}}  {'req/s':>8}  {'p50 ms':>8}  {'p99 ms':>8}  failures")
    for name, v in rows:
        print(f"  {name:{width}}  {v['per_s']:>8}  {v['p50_ms']:>8}  {v['p99_ms']:>8}  {v['failures']}")
    print(
        f"  baseline: intake through the service in-process (no HTTP): {result['baseline_inprocess_per_s']}/s"
    )
    print(
        f"  enrichment after intake (one worker): {result['enrichment_jobs_per_s']} jobs/s "
        f"({result['enrichment_jobs']} jobs)"
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
