"""Playing the demo county's year forward: each synthetic petition goes through the procedure as it would have.

Why simulate instead of writing statuses directly: every step goes through `procedure.take_action`, so the demo's
clocks, notices, events and accountability figures are produced by the same code as real work, and whatever the
demo shows (overdue cases, a department's 三率, a final matter after 复核) is something the product computed.
Most matters are handled on time; a deterministic minority are late, objected, extended, reviewed, supervised or
still open today, so every inbox and figure has something in it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import is_duty
from xinfang.cases.enums import OrgKind, Role, Status
from xinfang.cases.models import Petition
from xinfang.cases.procedure import ProcedureContext, open_clocks, take_action
from xinfang.clock import local_date
from xinfang.demo.generator import DemoRecord
from xinfang.errors import XinfangError
from xinfang.org.models import OrgUnit, User
from xinfang.security.actors import Actor, actor_for

FACTS = {
    "支持": "经调查核实,信访人反映的情况基本属实。",
    "解释说明": "经调查,信访人反映的问题事出有因,但其请求缺乏相应的政策依据。",
    "不予支持": "经调查核实,信访人反映的情况与事实不符。",
}
OPINIONS = {
    "支持": "责成相关单位限期整改落实,并将结果书面告知信访人。",
    "解释说明": "已当面向信访人解释相关政策规定,并告知其他救济途径。",
    "不予支持": "信访人的请求缺乏事实根据,不予支持。",
}
BASIS = "《信访工作条例》及相关法律、法规和政策规定"
LEGAL_CHANNEL_WORDS = (("仲裁", "仲裁"), ("复议", "行政复议"), ("诉", "诉讼"), ("法院", "诉讼"))


@dataclass
class Actors:
    clerk: Actor
    supervisor: Actor
    leader: Actor
    reviewer: Actor
    handlers: dict[int, Actor]  # by unit id

    def handler(self, unit: OrgUnit) -> Actor:
        """The demo's named handler where one exists, else a stand-in for that unit's staff."""
        if unit.id not in self.handlers:
            self.handlers[unit.id] = Actor(
                user_id=None,
                username=f"{unit.short_name or unit.name}办理员",
                role=Role.HANDLER,
                org_unit_id=unit.id,
                org_code=unit.code,
                org_kind=OrgKind(unit.kind),
            )
        return self.handlers[unit.id]


def demo_actors(session: Session) -> Actors:
    users = {u.username: u for u in session.execute(select(User)).scalars()}
    handlers = {
        u.org_unit_id: actor_for(u) for u in users.values() if u.role == Role.HANDLER and u.org_unit_id
    }
    return Actors(
        clerk=actor_for(users["clerk"]),
        supervisor=actor_for(users["supervisor"]),
        leader=actor_for(users["leader"]),
        reviewer=actor_for(users["reviewer"]),
        handlers=handlers,
    )


class _Story:
    """One petition's life: each step happens at a time; steps after `now` have not happened yet."""

    def __init__(self, session: Session, petition: Petition, now: datetime, ctx: ProcedureContext) -> None:
        self.session, self.petition, self.now, self.ctx = session, petition, now, ctx
        self.t = petition.registered_at

    def step(self, actor: Actor, action: str, after_days: float, **payload: Any) -> bool:
        at = self.t + timedelta(days=after_days)
        if at > self.now:
            return False
        take_action(
            self.session,
            actor=actor,
            petition_id=self.petition.id,
            action=action,
            payload=payload,
            now=at,
            ctx=self.ctx,
        )
        self.t = at
        return True


def simulate(
    session: Session,
    *,
    pairs: Iterable[tuple[DemoRecord, Petition]],
    now: datetime,
    ctx: ProcedureContext,
    seed: int = 2026,
) -> dict[str, int]:
    rng = random.Random(seed)
    actors = demo_actors(session)
    units = {u.code: u for u in session.execute(select(OrgUnit)).scalars()}
    failures = 0
    for record, petition in pairs:
        try:
            _live(_Story(session, petition, now, ctx), record, rng, actors, units)
        except XinfangError:
            failures += 1  # a story the procedure refuses is simply cut short, as in real life
    supervised = _supervise_overdue(session, now=now, ctx=ctx, actors=actors, rng=rng)
    taken = _leaders_take_charge(session, now=now, ctx=ctx, actors=actors)
    return {"stories_cut_short": failures, "supervised": supervised, "taken_in_charge": taken}


def _live(
    s: _Story, record: DemoRecord, rng: random.Random, actors: Actors, units: dict[str, OrgUnit]
) -> None:
    p = s.petition
    if p.status in (Status.REGISTERED.value, Status.PENDING_REVIEW.value):
        late = rng.random() < 0.06
        delay = rng.uniform(16, 24) if late else rng.uniform(0.2, 3)
        if record.has_legal_channel and rng.random() < 0.8:
            channel = next((c for w, c in LEGAL_CHANNEL_WORDS if w in p.body), "诉讼")
            diverted = s.step(
                actors.clerk, "divert", delay, legal_channel=channel, reason="属于法定途径处理事项"
            )
            if diverted and rng.random() < 0.6:
                s.step(actors.clerk, "conclude", rng.uniform(0.5, 2))
            return
        outside = rng.random()
        if outside < 0.015:
            s.step(actors.clerk, "refuse", delay, reason="该事项不属于信访事项受理范围")
            return
        if outside < 0.03:
            s.step(actors.clerk, "inform", delay, competent_body="县人民法院", reason="该事项已进入司法程序")
            return
        target = "jw" if record.kind == "accusation" else record.expected_department
        if target not in units or not s.step(actors.clerk, "forward", delay, department=target):
            return
    if p.status not in (Status.FORWARDED.value, Status.ASSIGNED.value) or p.department is None:
        return
    handler = actors.handler(p.department)
    if rng.random() < 0.04:
        first = p.department
        if not s.step(handler, "object", rng.uniform(1, 4), reason="该事项不属于本单位职责范围"):
            return
        other = units["zjj"] if first.code != "zjj" else units["zrzyj"]
        if not s.step(actors.clerk, "forward", rng.uniform(0.5, 2), department=other.code):
            return
        handler = actors.handler(other)
    late_accept = rng.random()
    accept_after = (
        rng.uniform(20, 60)
        if late_accept < 0.02
        else (rng.uniform(16, 22) if late_accept < 0.08 else rng.uniform(0.5, 6))
    )
    if not s.step(handler, "accept", accept_after):
        return
    _handle(s, handler, rng, actors)


def _handle(s: _Story, handler: Actor, rng: random.Random, actors: Actors) -> None:
    extended = rng.random() < 0.08
    if extended:
        if not s.step(
            handler,
            "extend",
            rng.uniform(45, 55),
            approver="分管副局长",
            reason="案情复杂,需进一步调查核实",
            days=30,
        ):
            return
        reply_after = rng.uniform(15, 38)
    else:
        lateness = rng.random()
        # most on time; some a little late; a few stuck for months (they are the overdue and backlog cases)
        reply_after = (
            rng.uniform(90, 200)
            if lateness < 0.05
            else (rng.uniform(63, 75) if lateness < 0.13 else rng.uniform(8, 55))
        )
    outcome = rng.choices(("支持", "解释说明", "不予支持"), weights=(40, 45, 15))[0]
    answer = {"outcome": outcome, "facts": FACTS[outcome], "opinion": OPINIONS[outcome], "legal_basis": BASIS}
    if not s.step(handler, "reply", reply_after, **answer):
        return
    evaluation = rng.choices(("满意", "基本满意", "不满意"), weights=(62, 25, 13))[0]
    if not s.step(actors.clerk, "evaluate", rng.uniform(1, 8), evaluation=evaluation):
        return
    if evaluation == "不满意" and rng.random() < 0.5:
        _review(s, rng, actors, answer)
        return
    s.step(actors.clerk, "conclude", rng.uniform(0.5, 3))


def _review(s: _Story, rng: random.Random, actors: Actors, answer: dict[str, str]) -> None:
    if not s.step(actors.clerk, "request_review", rng.uniform(2, 15), reason="对处理意见不服,请求复查"):
        return
    if not s.step(actors.reviewer, "review_reply", rng.uniform(10, 28), **answer):
        return
    if rng.random() < 0.4:
        if s.step(actors.clerk, "request_recheck", rng.uniform(3, 20), reason="对复查意见不服"):
            s.step(actors.reviewer, "recheck_reply", rng.uniform(10, 28), **answer)
        return
    s.step(actors.clerk, "conclude", rng.uniform(31, 35))  # the re-review window has passed unused


def _overdue_open(session: Session, today: Any) -> list[Petition]:
    rows = session.execute(select(Petition).where(Petition.is_demo)).scalars()
    return [p for p in rows if any(is_duty(c.rule) and c.due_on < today for c in open_clocks(p))]


def _supervise_overdue(
    session: Session, *, now: datetime, ctx: ProcedureContext, actors: Actors, rng: random.Random
) -> int:
    count = 0
    for p in _overdue_open(session, local_date(now)):
        if rng.random() < 0.5:
            continue
        level = rng.choices(("普通", "黄牌", "红牌"), weights=(60, 30, 10))[0]
        take_action(
            session,
            actor=actors.supervisor,
            petition_id=p.id,
            action="supervise",
            payload={"instruction": "该件已超期,请抓紧办理并报告进展", "level": level},
            now=now - timedelta(hours=rng.uniform(1, 40)),
            ctx=ctx,
        )
        count += 1
    return count


def _leaders_take_charge(
    session: Session, *, now: datetime, ctx: ProcedureContext, actors: Actors, limit: int = 8
) -> int:
    final: Callable[[Petition], bool] = lambda p: p.status in ("concluded", "recheck_replied", "diverted")  # noqa: E731
    open_old = sorted(
        (p for p in session.execute(select(Petition).where(Petition.is_demo)).scalars() if not final(p)),
        key=lambda p: p.received_at,
    )[:limit]
    for p in open_old:
        take_action(
            session,
            actor=actors.leader,
            petition_id=p.id,
            action="take_charge",
            payload={"note": "领导包案,限期化解"},
            now=now - timedelta(hours=2),
            ctx=ctx,
        )
    return len(open_old)
