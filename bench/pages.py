"""Page benchmark: server time of every main page on the demo county, per role, against a baseline.

Loads the demo county into a temp SQLite DB (`xinfang demo load --scale S`, default 1.0 ≈ the full 12-month demo),
starts `xinfang serve` on a loopback port, logs in as each role and requests each of its main pages N times. Reports
p50/p95 of the server time the page itself reports (`Server-Timing: app;dur=`, measured from the router's first
dependency to the rendered response) and of the wall time on loopback, beside /api/health (the baseline: a
request that does nothing but one `SELECT 1`) measured in the same run. With --json the last line is one JSON object.
The target (issue 7): every page's server time ≤ 200 ms at p95.

    .venv/bin/python bench/pages.py [--scale 1.0] [--n 30] [--db PATH_TO_EXISTING_DEMO_DB] [--json]
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
from pathlib import Path

import httpx

XINFANG = Path(sys.executable).with_name("xinfang")
PAGES: dict[str, tuple[str, ...]] = {
    "clerk": ("/desk", "/inbox", "/inbox?box=to_accept", "/petitions", "/petitions?q=工资"),
    "handler": ("/inbox", "/inbox?box=handling", "/inbox?box=overdue", "/petitions/{case}"),
    "supervisor": ("/inbox?box=overdue", "/inbox?box=supervised", "/petitions/{case}"),
    "leader": ("/dashboard", "/dashboard/heat.json?level=village"),
    "admin": ("/admin", "/admin?section=users", "/admin?section=rules", "/admin?section=templates"),
}
TIMING = re.compile(r"app;dur=([0-9.]+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(client: httpx.Client, path: str, n: int) -> dict[str, float]:
    server, wall = [], []
    client.get(path)  # warm-up
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path)
        wall.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        m = TIMING.search(r.headers.get("server-timing", ""))
        server.append(float(m.group(1)) if m else wall[-1])
    return {
        "server_p50_ms": round(statistics.median(server), 1),
        "server_p95_ms": round(pct(server, 0.95), 1),
        "wall_p50_ms": round(statistics.median(wall), 1),
        "wall_p95_ms": round(pct(wall, 0.95), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--db", help="an existing demo SQLite file (skips loading)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    xinfang = str(XINFANG)
    work = Path(tempfile.mkdtemp(prefix="xf-bench-pages-"))
    db_path = Path(args.db).resolve() if args.db else work / "demo.db"
    env = {
        **os.environ,
        "XINFANG_DEMO_LABEL": "true",
        "PYTHONWARNINGS": "ignore",
        "XINFANG_ATTACHMENTS_DIR": str(db_path.parent / "var" / "attachments"),
    }
    url = f"sqlite:///{db_path}"
    if not args.db:
        t = time.perf_counter()
        subprocess.run(
            [xinfang, "demo", "load", "--db", url, "--scale", str(args.scale)],
            check=True,
            env=env,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"demo loaded (scale {args.scale}) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    port = _free_port()
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [xinfang, "serve", "--db", url, "--port", str(port)],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, float]] = {}
    failed: dict[str, str] = {}
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        with httpx.Client(base_url=base) as anon:
            results["baseline /api/health"] = measure(anon, "/api/health", args.n)
        for role, pages in PAGES.items():
            with httpx.Client(base_url=base, follow_redirects=False) as c:
                r = c.post("/login", data={"username": role, "password": f"demo-{role}"})
                assert r.status_code == 303, f"login {role}: {r.status_code}"
                case = None
                if any("{case}" in p for p in pages):
                    m = re.search(r'href="/petitions/(\d+)"', c.get("/inbox?box=all").text)
                    case = m.group(1) if m else "1"
                for page in pages:
                    path = page.replace("{case}", case or "1")
                    try:
                        results[f"{role} {page}"] = measure(c, path, args.n)
                    except httpx.HTTPError as exc:  # reported, not fatal: the other pages still count
                        failed[f"{role} {page}"] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    width = max(len(k) for k in results)
    print(f"{'page'.ljust(width)}  server p50  server p95  wall p50  wall p95 (ms, n={args.n})")
    for key, v in results.items():
        print(
            f"{key.ljust(width)}  {v['server_p50_ms']:>10}  {v['server_p95_ms']:>10}  {v['wall_p50_ms']:>8}  {v['wall_p95_ms']:>8}"
        )
    for key, why in failed.items():
        print(f"{key.ljust(width)}  FAILED {why}")
    worst = max((v["server_p95_ms"], k) for k, v in results.items() if not k.startswith("baseline"))
    print(f"slowest page at p95: {worst[1]} {worst[0]} ms (target ≤ 200 ms)")
    if args.json:
        print(
            json.dumps(
                {
                    "scale": args.scale,
                    "n": args.n,
                    "pages": results,
                    "worst_p95_ms": worst[0],
                    "failed": failed,
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
