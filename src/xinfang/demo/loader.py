"""Loading the demo county into a database: organisation, demo users, and the synthetic history.

Everything loaded here is synthetic and flagged `is_demo`; the UI labels it 演示数据.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from xinfang.cases.enums import Role
from xinfang.cases.models import Petition
from xinfang.cases.service import register_petition
from xinfang.clock import ensure_aware, local_date
from xinfang.demo.generator import DemoRecord, generate_history
from xinfang.demo.history import simulate
from xinfang.org.loader import org_specs
from xinfang.org.models import User
from xinfang.org.service import create_user, upsert_org_units
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM, actor_for

# (username, password, role, unit code, label shown by `make demo`)
DEMO_USERS: tuple[tuple[str, str, Role, str | None, str], ...] = (
    ("admin", "demo-admin", Role.ADMIN, "xfj", "管理员(县信访局)"),
    ("clerk", "demo-clerk", Role.REGISTRAR, "xfj", "登记员(县信访局)"),
    ("handler", "demo-handler", Role.HANDLER, "rsj", "办理员(县人社局)"),
    ("handler2", "demo-handler2", Role.HANDLER, "zjj", "办理员(县住建局)"),
    ("township", "demo-township", Role.HANDLER, "350428101", "办理员(万安镇人民政府)"),
    ("reviewer", "demo-reviewer", Role.HANDLER, "xfj", "复查复核办理员(县信访局)"),
    ("supervisor", "demo-supervisor", Role.SUPERVISOR, "xfj", "督查(县信访局)"),
    ("leader", "demo-leader", Role.LEADER, "xfj", "领导(县领导)"),
)
DEMO_LOGINS = tuple((u, p, label) for u, p, _r, _c, label in DEMO_USERS)


def demo_loaded(rt: Runtime) -> bool:
    with rt.session() as session:
        return bool(
            session.execute(select(func.count()).select_from(Petition).where(Petition.is_demo)).scalar()
        )


def load_demo(rt: Runtime, *, seed: int = 2026, scale: float = 1.0) -> dict[str, Any]:
    """Idempotent: units are upserted, existing users kept, and petitions deduplicated by their demo ids."""

    now = rt.clock.now()
    with rt.session() as session:
        created_units = upsert_org_units(session, org_specs())
        created_users = 0
        for username, password, role, unit, label in DEMO_USERS:
            if session.execute(select(User).where(User.username == username)).scalar_one_or_none() is None:
                create_user(
                    session,
                    actor=SYSTEM,
                    username=username,
                    password=password,
                    role=role,
                    now=now,
                    display_name=label.split("(")[0] + "·" + username,
                    org_code=unit,
                )
                created_users += 1
        clerk = session.execute(select(User).where(User.username == "clerk")).scalar_one()
        actor = actor_for(clerk)

        records = sorted(
            generate_history(seed=seed, end=local_date(now) - timedelta(days=1), scale=scale),
            key=lambda r: r.petition.received_at,
        )
        ctx = rt.intake_context(session)
        added = 0
        fresh: list[tuple[DemoRecord, Petition]] = []
        for rec in records:
            at = min(ensure_aware(rec.petition.received_at) + timedelta(minutes=20), now)
            petition, created = register_petition(
                session,
                actor=actor,
                data=rec.petition,
                now=at,
                ctx=ctx,
                default_source="demo",
                is_demo=True,
                dedup_by_content=True,
            )
            added += created
            if created:
                fresh.append((rec, petition))
        from xinfang.intake.enrichment import enrich_pending  # links and matters, before the story uses them

        enrich_pending(session, now=now)
        story = simulate(session, pairs=fresh, now=now, ctx=rt.procedure)
        from xinfang.demo.feeds import load_feeds  # analytics: multi-source feeds (issue 5)

        feeds = load_feeds(rt, session, actor=actor)
        from xinfang.prevention.demo import load_prevention_demo  # ledger, risk projects, joint cases, grid

        story |= load_prevention_demo(session, rt=rt, now=now)
        enrich_pending(
            session, now=now
        )  # the feeds' and the ledger's petitions too, before the warning scans
        if fresh:
            story["alerts"] = _replay_warning_scans(session, records=records, now=now)
    return {
        "units_created": created_units,
        "users_created": created_users,
        "records": len(records),
        "petitions_added": added,
        **story,
        **feeds,
    }


def _replay_warning_scans(session: Any, *, records: list[DemoRecord], now: Any) -> int:
    """Run the daily warning scan over the days a scheduler would have scanned when it mattered: through each
    injected surge and over the last 30 days. So the demo's alerts are found by the product, not written in."""
    import dataclasses

    from xinfang.alerts.service import run_warning_scan
    from xinfang.analytics.warning import WarningConfig
    from xinfang.demo.generator import surges_of

    days = {local_date(now) - timedelta(days=d) for d in range(1, 31)}
    for surge in surges_of(records):
        span = (surge.end_on - surge.start_on).days + 4
        days |= {surge.start_on + timedelta(days=d) for d in range(span)}
    config = dataclasses.replace(WarningConfig(), scan_replicates=999)
    opened = 0
    for day in sorted(days):
        opened += run_warning_scan(session, now=now, day=day, config=config).opened
    return opened
