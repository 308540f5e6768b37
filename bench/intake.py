"""Intake benchmark: petitions per second through the real HTTP API, database on disk.

Starts `xinfang serve` as a separate process on a loopback port against a fresh SQLite file (or --db URL), logs in,
and submits synthetic petitions with 1 and with --concurrency clients. Side by side, in the same run, the baseline
registers the same petitions in-process through the service layer (no HTTP), so the figures show what the web layer
costs. Prints medians over --repeat rounds; with --json the last line is one JSON object.

    .venv/bin/python bench/intake.py [--n 300] [--concurrency 4] [--repeat 3] [--dispatch] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import fake_id_number, petition_payload  # noqa: E402

PASSWORD = "bench-pass-1"


def payloads(n: int, offset: int) -> list[dict]:
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
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db_url: str, env: dict[str, str]) -> None:
    xf = [str(ROOT / ".venv" / "bin" / "xinfang")]
    subprocess.run([*xf, "db", "upgrade", "--db", db_url], check=True, env=env, capture_output=True)
    subprocess.run(
        [*xf, "demo", "load", "--db", db_url, "--scale", "0.05"], check=True, env=env, capture_output=True
    )
    subprocess.run(
        [
            *xf,
            "user",
            "add",
            "bench",
            "--role",
            "registrar",
            "--department",
            "xfj",
            "--password-stdin",
            "--db",
            db_url,
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )


def run_http(base: str, token: str, bodies: list[dict], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}

    def send(chunk: list[dict]) -> list[float]:
        out = []
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            for body in chunk:
                t = time.perf_counter()
                r = c.post("/api/petitions", json=body)
                out.append(time.perf_counter() - t)
                if r.status_code != 201:
                    raise SystemExit(f"intake failed: {r.status_code} {r.text[:200]}")
        return out

    chunks = [bodies[i::concurrency] for i in range(concurrency)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for lat in pool.map(send, chunks):
            latencies.extend(lat)
    return len(bodies) / (time.perf_counter() - t0), latencies


def run_inprocess(db_url: str, bodies: list[dict], dispatch: bool) -> float:
    from xinfang.cases.schemas import PetitionIn
    from xinfang.cases.service import register_petition
    from xinfang.config import Settings
    from xinfang.runtime import Runtime
    from xinfang.security.actors import SYSTEM

    rt = Runtime(settings=Settings(database_url=db_url, dispatch_enabled=dispatch))
    ctx = rt.intake_context()
    data = [PetitionIn.model_validate(b) for b in bodies]
    t0 = time.perf_counter()
    for d in data:  # one transaction per petition, as the API does
        with rt.session() as s:
            register_petition(s, actor=SYSTEM, data=d, now=rt.clock.now(), ctx=ctx)
    rate = len(data) / (time.perf_counter() - t0)
    rt.dispose()
    return rate


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="petitions per round")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--dispatch", action="store_true", help="analyse and route every petition (as in production)"
    )
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file in a temp folder)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="xf-bench-")
    db_url = args.db or f"sqlite:///{tmp}/bench.db"
    env = os.environ | {
        "XINFANG_DISPATCH_ENABLED": "true" if args.dispatch else "false",
        "XINFANG_DATABASE_URL": db_url,
    }
    prepare(db_url, env)
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "xinfang"), "serve", "--db", db_url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = httpx.post(base + "/api/auth/token", data={"username": "bench", "password": PASSWORD}).json()[
            "access_token"
        ]
        rounds: dict[str, list[float]] = {"http_1": [], f"http_{args.concurrency}": [], "inprocess_1": []}
        lat_all: list[float] = []
        offset = 0
        for _ in range(args.repeat):
            rate, lat = run_http(base, token, payloads(args.n, offset), 1)
            offset += args.n
            rounds["http_1"].append(rate)
            lat_all += lat
            rate, lat = run_http(base, token, payloads(args.n, offset), args.concurrency)
            offset += args.n
            rounds[f"http_{args.concurrency}"].append(rate)
            rounds["inprocess_1"].append(run_inprocess(db_url, payloads(args.n, offset), args.dispatch))
            offset += args.n
    finally:
        server.terminate()
        server.wait(10)

    backend = db_url.split(":", 1)[0]
    result = {
        "backend": backend,
        "dispatch": args.dispatch,
        "n_per_round": args.n,
        "rounds": args.repeat,
        "http_1_client_per_s": round(statistics.median(rounds["http_1"]), 1),
        f"http_{args.concurrency}_clients_per_s": round(
            statistics.median(rounds[f"http_{args.concurrency}"]), 1
        ),
        "baseline_inprocess_per_s": round(statistics.median(rounds["inprocess_1"]), 1),
        "latency_p50_ms": round(pct(lat_all, 50) * 1000, 2),
        "latency_p99_ms": round(pct(lat_all, 99) * 1000, 2),
    }
    print(
        f"intake benchmark ({backend}, dispatch {'on' if args.dispatch else 'off'}, "
        f"{args.repeat} rounds x {args.n} petitions, medians)"
    )
    print(f"  HTTP API, 1 client          {result['http_1_client_per_s']:>8} petitions/s")
    print(
        f"  HTTP API, {args.concurrency} clients         "
        f"{result[f'http_{args.concurrency}_clients_per_s']:>8} petitions/s"
    )
    print(f"  baseline: service in-process {result['baseline_inprocess_per_s']:>7} petitions/s (no HTTP)")
    print(f"  latency (1 client) p50 {result['latency_p50_ms']} ms, p99 {result['latency_p99_ms']} ms")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
