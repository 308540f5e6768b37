"""Province scale on PostgreSQL: 10 million petitions across 100 counties in one database, several app instances.

What it does, in one run:

1. **Data.** Two schemas in the database named by --db: a *baseline* (the same organisation, --baseline-rows
   petitions) and the *province* (10,000,000 x --scale petitions). The organisation is 100 counties — the demo county
   (将乐县, real codes) plus 99 synthetic ones, each with 10 townships of 20 villages and 10 departments — with
   a handler of each county's 人社局, a user of one township per county, and province-level leader, supervisor and
   clerk. Petitions are generated inside PostgreSQL (INSERT ... SELECT over generate_series, deterministic
   multiplicative hashing, no ORM): spread over five years up to now, over villages, categories, sources and
   departments, with statuses by age (old ones concluded, recent ones open), one petitioner each (blind indexes drawn
   from a pool, so people repeat), the statutory clocks the reads look at (转送, 告知受理, 办理 — open or closed, some
   late) and two events each. Secondary indexes and foreign keys are set aside during the load and rebuilt after it,
   then the heat-map roll-up is rebuilt (`analytics.rollup.rebuild`, if present) and the tables analysed.
2. **Intake throughput** through the real HTTP API: two `xinfang serve` processes on loopback, dispatch on, one load
   generator (--intake-threads threads, alternating between the instances) registering petitions for
   --intake-seconds; petitions/s and the p50/p99 latency.
3. **Reads**, p50/p99 server time (the app's Server-Timing header) of the main pages and APIs, as a county user
   (the handler of one county's 人社局; a township user) and as a province user (leader, supervisor).
4. **Analytics** in-process: heat map (1 month, 1 year), accountability (1 month), warning scan of one county.

Every figure is printed beside the same measure on the baseline schema, in the same run. `--scale 0.01` (100k rows)
is the development size; `--scale 0.001` the CI smoke. `--reuse` keeps an existing province schema of the right size
(skips the generation: re-measure after an index change). Never run from the tests.

    .venv/bin/python bench/province_scale.py [--db URL] [--scale 1.0] [--reuse] [--keep] [--generate-only] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import Engine, create_engine, text  # noqa: E402

from xinfang.config import Settings  # noqa: E402

XINFANG = Path(sys.executable).with_name("xinfang")
DEFAULT_DB = os.environ.get("XINFANG_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
FULL_ROWS = 10_000_000
COUNTIES, TOWNSHIPS, VILLAGES, DEPARTMENTS = 100, 10, 20, 10
YEARS = 5
CHUNK = 1_000_000
PASSWORD = "bench-pass-1"
BENCH_KEY = "bench-only-key-0123456789abcdef"
DEMO_COUNTY = "350428"
# The ten departments each county has (the demo county's own codes for county 0).
DEPARTMENT_CODES = ("rsj", "zjj", "zrzyj", "sthjj", "scjgj", "jyj", "wjw", "mzj", "nyncj", "gaj")
DEPARTMENT_NAMES = (
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "自然资源局",
    "生态环境局",
    "市场监督管理局",
    "教育局",
    "卫生健康委员会",
    "民政局",
    "农业农村局",
    "公安局",
)
CATEGORIES = ("劳动和社会保障", "城乡建设", "国土资源", "环境保护", "商贸旅游", "教育文体", "卫生计生")
SOURCES = ("desk", "12345", "grid", "online", "letter")
CHANNELS = ("visit", "hotline", "grid", "online", "letter")
TITLES = (
    "反映工地拖欠农民工工资",
    "反映小区物业违规收费",
    "反映征地补偿款未到位",
    "反映企业排放废气扰民",
    "反映商家拒不退款",
    "反映学校入学政策问题",
    "反映医院收费不合理",
    "反映低保资格认定问题",
    "反映农村宅基地纠纷",
    "反映邻里噪声纠纷",
)
BODY = "信访人反映相关问题已持续较长时间,多次向有关部门反映未果,请求依法调查核实并予以处理答复。"
TIMING = re.compile(r"app;dur=([0-9.]+)")
READ_TIMEOUT = 900  # seconds one read may take before it is reported as "no answer"
VERY_SLOW = 20.0  # seconds: a read this slow is measured once
BIG_TABLES = ("petitions", "petitioners", "clocks", "events")


# ---- helpers ----------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


@contextmanager
def stopwatch(times: dict[str, float], step: str) -> Iterator[None]:
    """times[step] = the block's wall-clock seconds (left unset if the block raises): one way to time a step."""
    t = time.perf_counter()
    yield
    times[step] = time.perf_counter() - t


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def engine_for(url: str) -> Engine:
    return create_engine(Settings(database_url=url).database_url)


def county_codes() -> list[str]:
    """The demo county and 99 synthetic 6-digit county codes (35 + city 11..20 + county 01..10)."""
    return [DEMO_COUNTY] + [f"35{11 + c // 10:02d}{1 + c % 10:02d}" for c in range(COUNTIES - 1)]


# ---- the organisation ---------------------------------------------------------------------------------------------


def create_schema(base: str, schema: str) -> str:
    admin = engine_for(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = schema_url(base, schema)
    from xinfang.store.db import make_engine
    from xinfang.store.migrate import upgrade

    engine = make_engine(Settings(database_url=url).database_url)
    upgrade(engine)
    engine.dispose()
    return url


def add_missing_indexes(url: str) -> None:
    """Indexes the models have gained since the schema was generated (the one initial migration is regenerated
    in place, so a reused schema's revision does not tell)."""
    from xinfang.store.schema import metadata

    engine = engine_for(url)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            with engine.begin() as conn:
                if not conn.execute(text("SELECT to_regclass(:n)"), {"n": index.name}).scalar():
                    log(f"  creating index {index.name} (added to the models since generation)")
                    index.create(conn)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def load_organisation(url: str) -> None:
    """The demo county's real organisation (bureau, departments, 13 townships and their villages) as county 0, then
    99 synthetic counties; users for every county and for the province."""
    from xinfang.org.loader import org_specs
    from xinfang.org.service import upsert_org_units
    from xinfang.security.passwords import hash_password

    engine = engine_for(url)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            upsert_org_units(session, org_specs())
            session.flush()
        bureau = conn.execute(text("SELECT id FROM org_units WHERE code = 'xfj'")).scalar_one()
        for c, county in enumerate(county_codes()):
            if c == 0:
                continue
            name = f"模拟{c:02d}县"
            for code, dname in zip(DEPARTMENT_CODES, DEPARTMENT_NAMES, strict=True):
                conn.execute(
                    text(
                        "INSERT INTO org_units (code, name, short_name, kind, is_active) "
                        "VALUES (:code, :name, :short, 'department', true)"
                    ),
                    {"code": f"{county}-{code}", "name": f"{name}{dname}", "short": dname[:10]},
                )
            for t in range(TOWNSHIPS):
                tcode = f"{county}{101 + t:03d}"
                tid = conn.execute(
                    text(
                        "INSERT INTO org_units (code, name, short_name, kind, parent_id, lng, lat, population,"
                        " is_active) VALUES (:code, :name, :name, 'township', :parent, :lng, :lat, 30000, true)"
                        " RETURNING id"
                    ),
                    {
                        "code": tcode,
                        "name": f"{name}第{t + 1}镇",
                        "parent": bureau,
                        "lng": 117.0 + c * 0.05 + t * 0.01,
                        "lat": 26.0 + c * 0.03 + t * 0.01,
                    },
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO org_units (code, name, short_name, kind, parent_id, lng, lat, population,"
                        " is_active) SELECT :t || lpad((200 + v)::text, 3, '0'), :tname || v || '村',"
                        " :tname || v || '村', 'village', :tid, :lng + v * 0.001, :lat, 1500, true"
                        " FROM generate_series(1, :n) v"
                    ),
                    {
                        "t": tcode,
                        "tname": f"{name}第{t + 1}镇",
                        "tid": tid,
                        "n": VILLAGES,
                        "lng": 117.0 + c * 0.05 + t * 0.01,
                        "lat": 26.0 + c * 0.03 + t * 0.01,
                    },
                )
        digest = hash_password(PASSWORD)
        users = [
            ("leader", "leader", "xfj"),
            ("supervisor", "supervisor", "xfj"),
            ("clerk", "registrar", "xfj"),
        ]
        for c, county in enumerate(county_codes()):
            dept = "rsj" if c == 0 else f"{county}-rsj"
            town = f"{county}{101:03d}" if c else "350428101"
            users += [(f"h{c:02d}", "handler", dept), (f"t{c:02d}", "handler", town)]
        for username, role, unit in users:
            conn.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, is_active,"
                    " created_at, failed_logins) SELECT :u, :u, :h, :r, id, true, now(), 0"
                    " FROM org_units WHERE code = :unit"
                ),
                {"u": username, "h": digest, "r": role, "unit": unit},
            )
    engine.dispose()


# ---- the petitions ------------------------------------------------------------------------------------------------


def _sql_array(values: tuple[str, ...]) -> str:
    return "(ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def _helper_tables(conn: Any) -> tuple[int, int]:
    """bench_villages(idx, county, township, village) and bench_depts(county, k, unit_id): the lookups the generator
    joins on, numbered so that a hash picks one row."""
    conn.execute(text("DROP TABLE IF EXISTS bench_villages, bench_depts, bench_counties"))
    conn.execute(
        text("CREATE TABLE bench_counties (cidx int PRIMARY KEY, code text)"),
    )
    for c, code in enumerate(county_codes()):
        conn.execute(text("INSERT INTO bench_counties VALUES (:c, :code)"), {"c": c, "code": code})
    conn.execute(
        text(
            "CREATE TABLE bench_villages AS SELECT (row_number() OVER (ORDER BY v.code) - 1)::int AS idx,"
            " c.cidx, substr(v.code, 1, 9) AS township, v.code AS village, v.lng, v.lat"
            " FROM org_units v JOIN bench_counties c ON substr(v.code, 1, 6) = c.code"
            " WHERE v.kind = 'village' AND length(v.code) = 12"
        )
    )
    conn.execute(text("CREATE UNIQUE INDEX ON bench_villages (idx)"))
    conn.execute(
        text(
            "CREATE TABLE bench_depts AS SELECT c.cidx, k.k - 1 AS k, u.id AS unit_id"
            f" FROM bench_counties c CROSS JOIN unnest({_sql_array(DEPARTMENT_CODES)}) WITH ORDINALITY AS k(code, k)"
            " JOIN org_units u ON u.code = CASE WHEN c.cidx = 0 THEN k.code ELSE c.code || '-' || k.code END"
        )
    )
    conn.execute(text("CREATE UNIQUE INDEX ON bench_depts (cidx, k)"))
    villages = conn.execute(text("SELECT count(*) FROM bench_villages")).scalar_one()
    depts = conn.execute(text("SELECT count(*) FROM bench_depts")).scalar_one()
    assert depts == COUNTIES * DEPARTMENTS, depts
    return int(villages), int(depts)


PETITIONS_SQL_TEMPLATE = """
INSERT INTO petitions (id, number, channel, status, title, body, received_at, registered_at, division_code,
    township_code, lng, lat, headcount, category, department_id, source, dedup_key, is_demo, created_by_id,
    evaluation, evaluated_at, outcome, concluded_at, version)
SELECT g.i,
    'XF' || to_char(g.at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(g.i::text, 7, '0'),
    {channels}[1 + g.h2 % 5], g.status, {titles}[1 + g.h3 % 10], :body, g.at, g.at,
    v.village, v.township, v.lng, v.lat, CASE WHEN g.h3 % 50 = 0 THEN 5 + g.h3 % 20 ELSE 1 END,
    {categories}[1 + g.h2 % 7],
    CASE WHEN g.status IN ('registered', 'pending_review') THEN NULL ELSE d.unit_id END,
    {sources}[1 + g.h2 % 5], 'bench:' || g.i, false, :clerk,
    CASE WHEN g.status = 'concluded' AND g.h3 % 3 = 0 THEN (ARRAY['满意','基本满意','不满意'])[1 + g.h1 % 3] END,
    CASE WHEN g.status = 'concluded' AND g.h3 % 3 = 0 THEN g.at + interval '40 days' END,
    CASE WHEN g.status IN ('concluded', 'replied') THEN (ARRAY['支持','部分支持','不支持'])[1 + g.h2 % 3] END,
    CASE WHEN g.status = 'concluded' THEN g.at + interval '45 days' END,
    1
FROM (
    SELECT s.i, s.h1, s.h2, s.h3, s.at,
        CASE WHEN s.at < :now - interval '120 days' THEN
            CASE WHEN s.h3 % 100 < 92 THEN 'concluded' WHEN s.h3 % 100 < 95 THEN 'recheck_replied'
                 WHEN s.h3 % 100 < 97 THEN 'refused' ELSE 'diverted' END
        ELSE
            CASE WHEN s.h3 % 100 < 3 THEN 'registered' WHEN s.h3 % 100 < 8 THEN 'pending_review'
                 WHEN s.h3 % 100 < 23 THEN 'forwarded' WHEN s.h3 % 100 < 63 THEN 'accepted'
                 WHEN s.h3 % 100 < 68 THEN 'extended' WHEN s.h3 % 100 < 83 THEN 'replied' ELSE 'concluded' END
        END AS status
    FROM (
        SELECT i,
            (i * 2654435761) % 4294967296 AS h1,
            (i * 2246822519 + 3266489917) % 4294967296 AS h2,
            (i * 3266489917 + 668265263) % 4294967296 AS h3,
            :start + (i - 1) * (:span / :n) + ((i * 40503) % 3600) * interval '1 second' AS at
        FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS i
    ) s
) g
JOIN bench_villages v ON v.idx = g.h1 % :nv
JOIN bench_depts d ON d.cidx = v.cidx AND d.k = (g.h2 / 7) % 10
"""
PETITIONS_SQL = PETITIONS_SQL_TEMPLATE.format(
    channels=_sql_array(CHANNELS),
    titles=_sql_array(TITLES),
    categories=_sql_array(CATEGORIES),
    sources=_sql_array(SOURCES),
)

PETITIONERS_SQL = """
INSERT INTO petitioners (id, petition_id, name, id_number_bidx, id_number_masked, phone_bidx, phone_masked,
    address, is_representative)
SELECT p.id, p.id, (ARRAY['张','王','李','赵','陈','刘','杨','黄'])[1 + p.id % 8] || '某',
    md5('idn:' || ((p.id * 2654435761) % :people)), '3504**********' || lpad((p.id % 97)::text, 4, '0'),
    md5('tel:' || ((p.id * 2654435761) % :people)), '138****' || lpad((p.id % 9973)::text, 4, '0'),
    NULL, true
FROM petitions p WHERE p.id BETWEEN :lo AND :hi
"""

# 转送 (bureau, 15 days) for petitions at intake; 告知受理 (the department, 15 days) once forwarded; 办理 (60 days,
# 90 when extended) once accepted. Closed ones close on time mostly, some late (accountability has work to do).
CLOCKS_SQL = """
INSERT INTO clocks (petition_id, rule, unit_id, start_on, due_on, statutory_due_on, is_provisional, binds_petitioner,
    extension_days, excluded_days, closed_on, closed_by_action)
SELECT p.id, c.rule, COALESCE(p.department_id, :bureau), c.start_on, c.due_on, c.due_on, false, false,
    c.ext, 0, c.closed_on, CASE WHEN c.closed_on IS NOT NULL THEN c.closed_by END
FROM petitions p
CROSS JOIN LATERAL (
    SELECT (p.received_at AT TIME ZONE 'Asia/Shanghai')::date AS d, p.id % 100 AS r
) x
CROSS JOIN LATERAL (
    SELECT 'forward' AS rule, x.d AS start_on, x.d + 15 AS due_on, 0 AS ext,
        CASE WHEN p.status IN ('registered', 'pending_review') THEN NULL ELSE x.d + 1 END AS closed_on,
        'forward' AS closed_by
    UNION ALL
    SELECT 'accept_notice', x.d + 1, x.d + 16, 0,
        CASE WHEN p.status = 'forwarded' THEN NULL ELSE x.d + 3 + (x.r / 90) * 20 END, 'accept'
    WHERE p.status NOT IN ('registered', 'pending_review')
    UNION ALL
    SELECT 'handle', x.d + 4, x.d + 64 + CASE WHEN p.status = 'extended' THEN 30 ELSE 0 END,
        CASE WHEN p.status = 'extended' THEN 30 ELSE 0 END,
        CASE WHEN p.status IN ('accepted', 'extended') THEN NULL ELSE x.d + 30 + (x.r / 85) * 45 END, 'reply'
    WHERE p.status NOT IN ('registered', 'pending_review', 'forwarded', 'refused', 'diverted')
) c
WHERE p.id BETWEEN :lo AND :hi
"""

EVENTS_SQL = """
INSERT INTO events (petition_id, kind, at, actor_id, summary, details)
SELECT p.id, e.kind, e.at, :clerk, e.summary, '{}'
FROM petitions p
CROSS JOIN LATERAL (
    SELECT 'registered' AS kind, p.received_at AS at, '登记(' || p.channel || ')' AS summary
    UNION ALL
    SELECT CASE WHEN p.status IN ('registered', 'pending_review') THEN 'analysed' ELSE 'forward' END,
        p.received_at + interval '1 day',
        CASE WHEN p.status IN ('registered', 'pending_review') THEN '智能分析' ELSE '转送' END
) e
WHERE p.id BETWEEN :lo AND :hi
"""


@dataclass
class SetAside:
    """Secondary indexes, unique constraints and foreign keys of the big tables, dropped for the load."""

    statements: list[str]


def set_aside_indexes(conn: Any, schema: str) -> SetAside:
    restore: list[str] = []
    tables = list(BIG_TABLES)
    # foreign keys pointing at or from the big tables
    fks = conn.execute(
        text(
            "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = :s AND c.contype = 'f'"
            " AND (c.conrelid::regclass::text = ANY(:t) OR c.confrelid::regclass::text = ANY(:t))"
        ),
        {"s": schema, "t": tables},
    ).all()
    for name, table, definition in fks:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    uniques = conn.execute(
        text(
            "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = :s AND c.contype = 'u' AND c.conrelid::regclass::text = ANY(:t)"
        ),
        {"s": schema, "t": tables},
    ).all()
    for name, table, definition in uniques:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        restore.insert(0, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    indexes = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = :s AND i.tablename = ANY(:t)"
            " AND i.indexname NOT IN (SELECT conname FROM pg_constraint c JOIN pg_namespace n"
            "   ON n.oid = c.connamespace WHERE n.nspname = :s AND c.contype IN ('p', 'u'))"
        ),
        {"s": schema, "t": tables},
    ).all()
    for name, definition in indexes:
        conn.execute(text(f'DROP INDEX "{schema}"."{name}"'))
        restore.insert(0, definition)
    return SetAside(restore)


def generate(url: str, schema: str, n: int) -> dict[str, float]:
    """Fill the schema's petitions, petitioners, clocks and events with n petitions; returns seconds per step."""
    times: dict[str, float] = {}
    engine = create_engine(Settings(database_url=url).database_url, isolation_level="AUTOCOMMIT")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    with engine.connect() as conn:
        conn.execute(text("SET synchronous_commit = off"))
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(text("SET work_mem = '64MB'"))
        nv, _nd = _helper_tables(conn)
        clerk = conn.execute(text("SELECT id FROM users WHERE username = 'clerk'")).scalar_one()
        bureau = conn.execute(text("SELECT id FROM org_units WHERE code = 'xfj'")).scalar_one()
        with stopwatch(times, "drop_indexes"):
            aside = set_aside_indexes(conn, schema)
        steps: tuple[tuple[str, str, dict[str, Any]], ...] = (
            (
                "petitions",
                PETITIONS_SQL,
                {
                    "body": BODY,
                    "clerk": clerk,
                    "now": now,
                    "start": start,
                    "span": timedelta(days=365 * YEARS),
                    "n": n,
                    "nv": nv,
                },
            ),
            ("petitioners", PETITIONERS_SQL, {"people": max(n * 2 // 3, 1)}),
            ("clocks", CLOCKS_SQL, {"bureau": bureau}),
            ("events", EVENTS_SQL, {"clerk": clerk}),
        )
        for name, sql, params in steps:
            with stopwatch(times, name):
                for lo in range(1, n + 1, CHUNK):
                    hi = min(lo + CHUNK - 1, n)
                    conn.execute(text(sql), params | {"lo": lo, "hi": hi})
                    if n > CHUNK:
                        log(f"  {name}: {hi:,}/{n:,}")
        with stopwatch(times, "indexes_and_keys"):
            for table in ("petitions", "petitioners"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
            for statement in aside.statements:
                conn.execute(text(statement))
        with stopwatch(times, "vacuum_analyze"):
            conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    with stopwatch(times, "rollup_rebuild"):
        rebuilt = rebuild_rollup(url)
    if not rebuilt:  # no roll-up slice in this checkout: nothing was rebuilt, so no figure
        del times["rollup_rebuild"]
    return times


def rebuild_rollup(url: str) -> bool:
    """The heat-map roll-up is kept at flush time; bulk SQL bypasses that, so rebuild it (when the slice exists)."""
    try:
        from xinfang.analytics import rollup
    except ImportError:
        return False
    engine = engine_for(url)
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        rollup.rebuild(session)
    engine.dispose()
    return True


def petition_count(base: str, schema: str) -> int | None:
    engine = engine_for(base)
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = :s AND table_name = 'petitions'"
                ),
                {"s": schema},
            ).first()
            if not exists:
                return None
            return int(conn.execute(text(f'SELECT count(*) FROM "{schema}".petitions')).scalar_one())
    finally:
        engine.dispose()


def table_sizes(url: str) -> dict[str, str]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND relname = ANY(:t)"
            ),
            {"t": [*BIG_TABLES, "audit_log"]},
        ).all()
        total = conn.execute(
            text(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                " AND c.relkind = 'r'"
            )
        ).scalar_one()
    engine.dispose()
    return {name: size for name, size in rows} | {"total": str(total)}


# ---- the app instances --------------------------------------------------------------------------------------------


@contextmanager
def instances(url: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """Two `xinfang serve` processes on loopback against the schema (dispatch on, as in production)."""
    env = os.environ | {
        "XINFANG_DATABASE_URL": url,
        "XINFANG_DATA_KEY": BENCH_KEY,
        "XINFANG_ATTACHMENTS_DIR": str(tmp / "attachments"),
        "XINFANG_DISPATCH_ENABLED": "true",
        "XINFANG_AUTO_DISPATCH": "true",
        "XINFANG_TOKEN_TTL_MINUTES": "600",
    }
    tmp.mkdir(parents=True, exist_ok=True)
    ports = (_free_port(), _free_port())
    procs = [
        subprocess.Popen(
            [str(XINFANG), "serve", "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / f"serve{p}.log", "wb"),  # noqa: SIM115
        )
        for p in ports
    ]
    bases = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
    try:
        for base in bases:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(base + "/api/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not start")
                time.sleep(0.3)
        yield bases
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def login(base: str, username: str) -> str:
    r = httpx.post(base + "/api/auth/token", data={"username": username, "password": PASSWORD}, timeout=60)
    r.raise_for_status()
    return str(r.json()["access_token"])


# ---- intake -------------------------------------------------------------------------------------------------------


def intake(bases: tuple[str, str], *, seconds: float, threads: int) -> dict[str, float]:
    """Register petitions through the API from `threads` threads, alternating instances, for `seconds`."""
    token = login(bases[0], "clerk")
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(w: int) -> None:
        nonlocal errors
        clients = [
            httpx.Client(base_url=b, headers={"Authorization": f"Bearer {token}"}, timeout=120) for b in bases
        ]
        i = 0
        while time.monotonic() < stop:
            body = {
                "channel": "visit",
                "title": TITLES[(w + i) % len(TITLES)],
                "body": f"{BODY}(压测{w}-{i})",
                "petitioners": [{"name": "压测人", "address": "测试地址"}],
                "location": {"division_code": f"{county_codes()[(w * 7 + i) % COUNTIES]}101201"},
            }
            t = time.perf_counter()
            try:
                r = clients[(w + i) % 2].post("/api/petitions", json=body)
                ok = r.status_code == 201
            except httpx.HTTPError:
                ok = False
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1
            i += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    wall = time.perf_counter() - started
    return {
        "petitions": len(latencies),
        "errors": errors,
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(latencies, 0.5), 1) if latencies else 0.0,
        "p99_ms": round(pct(latencies, 0.99), 1) if latencies else 0.0,
    }


# ---- reads --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    name: str
    user: str
    path: str  # may hold {case}: a petition the user may see


def reads_for(county: int, rows: int) -> list[Read]:
    h, t = f"h{county:02d}", f"t{county:02d}"
    reads = [
        Read("县·办理员 收件箱 待受理", h, "/inbox?box=to_accept"),
        Read("县·办理员 收件箱 办理中", h, "/inbox?box=handling"),
        Read("县·办理员 收件箱 超期", h, "/inbox?box=overdue"),
        Read("县·办理员 信访件列表 API", h, "/api/petitions?page=1"),
        Read("县·办理员 信访件页面", h, "/petitions/{case}"),
        Read("县·乡镇用户 收件箱", t, "/inbox"),
        Read("县·乡镇用户 热力图 API 1年(村)", t, "/api/analytics/heatmap?level=village"),
        Read("省·督查 收件箱 超期", "supervisor", "/inbox?box=overdue"),
        Read("省·领导 信访件页面", "leader", "/petitions/{case}"),
        Read("省·领导 大屏(12个月)", "leader", "/dashboard"),
        Read("省·领导 热力图 API 1年(乡镇)", "leader", "/api/analytics/heatmap"),
        Read("省·领导 热力图 API 1月(乡镇)", "leader", "/api/analytics/heatmap?start={month_ago}"),
    ]
    reads.append(Read("省·领导 问责 API(本月)", "leader", "/api/accountability"))
    return reads


def pick_case(url: str, county: int) -> int:
    """An open petition of the county's 人社局 (the handler's own work), received recently."""
    code = "rsj" if county == 0 else f"{county_codes()[county]}-rsj"
    engine = engine_for(url)
    with engine.connect() as conn:
        pid = conn.execute(
            text(
                "SELECT p.id FROM petitions p JOIN org_units u ON u.id = p.department_id WHERE u.code = :c"
                " AND p.status = 'accepted' ORDER BY p.received_at DESC LIMIT 1"
            ),
            {"c": code},
        ).scalar_one_or_none()
        if pid is None:  # a small schema: any petition of the unit
            pid = conn.execute(
                text(
                    "SELECT max(p.id) FROM petitions p JOIN org_units u ON u.id = p.department_id"
                    " WHERE u.code = :c"
                ),
                {"c": code},
            ).scalar_one()
    engine.dispose()
    return int(pid)


def measure_reads(
    bases: tuple[str, str], reads: list[Read], *, case: int, n: int, slow_n: int
) -> dict[str, dict[str, float]]:
    tokens: dict[str, str] = {}
    month_ago = (date.today() - timedelta(days=30)).isoformat()
    out: dict[str, dict[str, float]] = {}
    for read in reads:
        if read.user not in tokens:
            tokens[read.user] = login(bases[0], read.user)
        path = read.path.format(case=case, month_ago=month_ago)
        clients = [
            httpx.Client(
                base_url=b, headers={"Authorization": f"Bearer {tokens[read.user]}"}, timeout=READ_TIMEOUT
            )
            for b in bases
        ]
        first = time.perf_counter()
        try:
            r = clients[0].get(path)  # warm-up (and the measure of how slow this read is)
        except httpx.TimeoutException:
            out[read.name] = {"status": "timeout", "p50_ms": f">{READ_TIMEOUT}s", "p99_ms": "-"}
            log(f"  {read.name}: no answer within {READ_TIMEOUT} s")
            continue
        warm = time.perf_counter() - first
        if r.status_code != 200:
            out[read.name] = {"status": r.status_code}
            log(f"  {read.name}: HTTP {r.status_code} {r.text[:200]}")
            continue
        if warm > VERY_SLOW:  # minutes per request: the one answer is the figure
            m = TIMING.search(r.headers.get("server-timing", ""))
            ms = round(float(m.group(1)) if m else warm * 1000, 1)
            out[read.name] = {"n": 1, "p50_ms": ms, "p99_ms": ms}
            log(f"  {read.name}: {ms} ms (one request)")
            continue
        count = n if warm < 1.0 else slow_n
        server: list[float] = []
        for i in range(count):
            r = clients[i % 2].get(path)
            r.raise_for_status()
            m = TIMING.search(r.headers.get("server-timing", ""))
            server.append(float(m.group(1)) if m else float("nan"))
        out[read.name] = {
            "n": count,
            "p50_ms": round(pct(server, 0.5), 1),
            "p99_ms": round(pct(server, 0.99), 1),
        }
        log(f"  {read.name}: p50 {out[read.name]['p50_ms']} ms, p99 {out[read.name]['p99_ms']} ms")
    return out


# ---- analytics in-process -------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median of `repeat` runs after one unmeasured run (imports, caches and the database's buffers warm up);
    a run slower than VERY_SLOW is the figure by itself."""
    t = time.perf_counter()
    fn()
    if time.perf_counter() - t > VERY_SLOW:
        return round(time.perf_counter() - t, 3)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def measure_analytics(url: str, *, repeat: int, county: int, rows: int) -> dict[str, float]:
    from sqlalchemy.orm import Session

    from xinfang.analytics import accountability as acc
    from xinfang.analytics import heatmap as hm
    from xinfang.security.actors import SYSTEM

    engine = engine_for(url)
    today = date.today()
    out: dict[str, float] = {}

    def heat(days: int) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as s:
                flt = hm.HeatFilter(hm.period(None, None, today=today, default_days=days))
                return hm.heat_cells(s, actor=SYSTEM, level="township", flt=flt)

        return run

    def accountability() -> Any:
        with Session(engine) as s:
            return acc.accountability(s, start=today - timedelta(days=29), end=today, today=today)

    def scan() -> Any:
        from xinfang.alerts.service import run_warning_scan

        with Session(engine) as s:
            report = run_warning_scan(s, now=datetime.now(UTC), county=county_codes()[county])
            s.rollback()  # measure, do not keep the alerts
            return report

    out["热力图 1月(全省,乡镇)"] = timed(heat(30), repeat)
    log(f"  heat 1 month: {out['热力图 1月(全省,乡镇)']} s")
    out["热力图 1年(全省,乡镇)"] = timed(heat(365), repeat)
    log(f"  heat 1 year: {out['热力图 1年(全省,乡镇)']} s")
    out["问责 1月(全省)"] = timed(accountability, repeat)
    log(f"  accountability: {out['问责 1月(全省)']} s")
    out["预警扫描(一县)"] = timed(scan, 1)
    log(f"  warning scan: {out['预警扫描(一县)']} s")
    engine.dispose()
    return out


# ---- the run ------------------------------------------------------------------------------------------------------


def prepare(base: str, schema: str, n: int, *, reuse: bool) -> tuple[str, dict[str, float]]:
    if reuse and (petition_count(base, schema) or 0) >= n:  # (earlier runs' intake added a few)
        log(f"{schema}: reusing {n:,} petitions")
        url = schema_url(base, schema)
        add_missing_indexes(url)
        return url, {}
    log(f"{schema}: creating schema and organisation")
    times: dict[str, float] = {}
    with stopwatch(times, "schema_and_org"):
        url = create_schema(base, schema)
        load_organisation(url)
    log(f"{schema}: generating {n:,} petitions")
    times |= generate(url, schema, n)
    times["total"] = sum(times.values())
    log(
        f"{schema}: generated in {times['total']:.0f} s ({', '.join(f'{k} {v:.0f}s' for k, v in times.items())})"
    )
    return url, {k: round(v, 1) for k, v in times.items()}


def run_schema(url: str, tmp: Path, args: argparse.Namespace, rows: int) -> dict[str, Any]:
    result: dict[str, Any] = {"sizes": table_sizes(url)}
    case = pick_case(url, args.county)
    with instances(url, tmp) as bases:
        log("  intake ...")
        result["intake"] = intake(bases, seconds=args.intake_seconds, threads=args.intake_threads)
        log(f"  intake: {result['intake']}")
        result["reads"] = measure_reads(
            bases, reads_for(args.county, rows), case=case, n=args.n, slow_n=args.slow_n
        )
    result["analytics"] = measure_analytics(url, repeat=args.repeat, county=args.county, rows=rows)
    return result


def report(base: dict[str, Any], big: dict[str, Any], rows: tuple[int, int]) -> None:
    print(
        f"\nProvince scale on PostgreSQL: baseline {rows[0]:,} petitions vs {rows[1]:,} petitions (100 counties)"
    )
    print(f"database size (province): {big['sizes']}")
    bi, pi = base["intake"], big["intake"]
    print(
        f"\nintake through the API (2 instances, dispatch on): {pi['per_second']}/s "
        f"(p50 {pi['p50_ms']} ms, p99 {pi['p99_ms']} ms, errors {pi['errors']}) — "
        f"baseline {bi['per_second']}/s (p50 {bi['p50_ms']} ms, p99 {bi['p99_ms']} ms)"
    )
    print(f"\n{'read (server time)':<34} {'baseline p50/p99 ms':>22} {'province p50/p99 ms':>22}")
    for name, b in base["reads"].items():
        fig = big["reads"].get(name, {"status": "skipped"})
        print(
            f"{name:<34} {b.get('p50_ms', '-'):>10} / {b.get('p99_ms', '-'):<9} "
            f"{fig.get('p50_ms', fig.get('status', '-')):>10} / {fig.get('p99_ms', '-'):<9}"
        )
    print(f"\n{'analytics (median s)':<34} {'baseline':>10} {'province':>10}")
    for name, seconds in base["analytics"].items():
        print(f"{name:<34} {seconds:>10} {big['analytics'].get(name, 'skipped'):>10}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a schema per run is created in it)")
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 10 million petitions")
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--reuse", action="store_true", help="keep an existing province schema of the right size")
    ap.add_argument("--keep", action="store_true", help="do not drop the schemas at the end")
    ap.add_argument(
        "--generate-only",
        action="store_true",
        help="build (or keep) both schemas and stop: measure later with --reuse (implies --keep)",
    )
    ap.add_argument("--county", type=int, default=7, help="the county whose users read (0 = the demo county)")
    ap.add_argument("--n", type=int, default=30, help="requests per read")
    ap.add_argument("--slow-n", type=int, default=5, help="requests per read slower than 1 s")
    ap.add_argument("--repeat", type=int, default=3, help="runs per analytics query")
    ap.add_argument("--intake-seconds", type=float, default=60.0)
    ap.add_argument("--intake-threads", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.db.startswith(("postgresql", "postgres")):
        sys.exit("province_scale needs PostgreSQL (--db postgresql://...)")
    n = max(int(FULL_ROWS * args.scale), 1000)
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="xf-province-"))
    results: dict[str, Any] = {"rows": n, "counties": COUNTIES}
    base_schema, big_schema = "xf_bench_baseline", "xf_bench_province"
    try:
        url, results["baseline_generation"] = prepare(
            args.db, base_schema, args.baseline_rows, reuse=args.reuse
        )
        if args.generate_only:
            args.keep = True
            _, results["generation"] = prepare(args.db, big_schema, n, reuse=args.reuse)
            print(f"generated; measure with --reuse --scale {args.scale}: {results['generation']}")
            return
        log("baseline: measuring")
        results["baseline"] = run_schema(url, tmp / "baseline", args, args.baseline_rows)
        url, results["generation"] = prepare(args.db, big_schema, n, reuse=args.reuse)
        log("province: measuring")
        results["province"] = run_schema(url, tmp / "province", args, n)
    finally:
        if not args.keep:
            admin = engine_for(args.db)
            with admin.begin() as conn:
                for schema in (base_schema, big_schema):
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    report(results["baseline"], results["province"], (args.baseline_rows, n))
    if results.get("generation"):
        print(f"\ngeneration of {n:,} petitions (s): {results['generation']}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
