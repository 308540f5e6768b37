"""The prevention part of the demo county (all synthetic, flagged is_demo where the table has the flag).

Called by demo.loader.load_demo after the petition history is simulated, in the same unit of work:
- ledger entries in every township (open, resolved, overdue ones), and entries for a few demo disputes that later
  arrived as petitions (same village and party, screened weeks before), linked as early-resolution failures;
- grid reports (source "grid", with coordinates near their village);
- two assessed projects: a school merger assessed 低风险 followed by a surge of related petitions and hotline calls
  (flagged), and a land acquisition assessed 中风险 with a few related petitions (not flagged);
- joint cases: co-handling tasks on accepted petitions (one part in, one overdue, one open) and a joint meeting.
Idempotent: nothing is added when demo ledger entries exist.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinfang.cases.enums import Channel, OrgKind, Role, Status
from xinfang.cases.models import Petition
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import register_petition
from xinfang.clock import CHINA_TZ, local_date
from xinfang.org.models import OrgUnit, User
from xinfang.prevention import joint, linking, risk
from xinfang.prevention.ledger import KINDS, LedgerEntryIn, create_entry
from xinfang.prevention.models import JointTask, LedgerEntry
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM, Actor, actor_for

SURNAMES = "陈林黄张李王吴刘蔡杨许郑谢洪郭邱曾廖赖徐周叶苏庄"
GIVEN = ("建华", "秀英", "国强", "美玲", "志明", "丽华", "金水", "春生", "玉兰", "德福", "荣华", "桂香")
DISPUTES = (
    ("宅基地边界争执", "两户村民因宅基地边界及滴水檐位置发生争执,多次口角", "土地山林"),
    ("山林权属争议", "两个村民小组对交界处林地权属各执一词,阻挠对方采伐", "土地山林"),
    ("赡养老人纠纷", "兄弟三人因赡养母亲费用分担问题发生矛盾", "婚姻家庭"),
    ("邻里排水纠纷", "新建房屋改变排水走向,雨天积水流入邻居院内", "邻里纠纷"),
    ("农民工工资纠纷", "小型工程完工后包工头未结清工人工资", "劳资纠纷"),
    ("养殖污染矛盾", "养猪场异味和污水影响周边住户,群众多次反映", "环境污染"),
    ("土地流转租金纠纷", "流转土地的合作社拖欠两年租金,涉及十余户", "土地山林"),
    ("征地补偿分配矛盾", "村民小组内部对征地补偿款分配方案有异议", "征地拆迁"),
)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _at(day: Any, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ)


def load_prevention_demo(session: Session, *, rt: Runtime, now: datetime, seed: int = 2026) -> dict[str, Any]:
    if session.execute(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.is_demo)).scalar():
        return {"ledger_entries_added": 0}
    rng = random.Random(seed)
    today = local_date(now)
    units = list(session.execute(select(OrgUnit)).scalars())
    townships = [u for u in units if u.kind == OrgKind.TOWNSHIP]
    villages = [u for u in units if u.kind == OrgKind.VILLAGE]
    by_code = {u.code: u for u in units}

    entries = 0
    # Screened disputes in every township: some resolved, some open, a few overdue.
    for i in range(26):
        town = townships[i % len(townships)]
        village = rng.choice([v for v in villages if v.code.startswith(town.code)] or [town])
        title, summary, kind = DISPUTES[i % len(DISPUTES)]
        screened = today - timedelta(days=rng.randint(5, 150))
        due = screened + timedelta(days=rng.choice((15, 30, 45)))
        entry, created = create_entry(
            session,
            actor=SYSTEM,
            data=LedgerEntryIn(
                title=f"{village.name}{title}",
                summary=summary,
                kind=kind,
                risk_level=rng.choice(("低", "低", "中", "中", "高", "重大")),
                parties=[_name(rng), _name(rng)],
                division_code=village.code,
                responsible_person=_name(rng),
                screened_on=screened,
                due_on=due,
            ),
            now=now,
            source="demo",
            is_demo=True,
        )
        entries += created
        if due < today and rng.random() < 0.6:
            entry.status, entry.outcome, entry.closed_on = "resolved", "经调解双方达成协议", due
        elif due < today and rng.random() < 0.3:
            entry.status, entry.outcome, entry.closed_on = "unresolved", "双方分歧较大,引导通过诉讼解决", due

    # Disputes that were screened but later came as petitions (the failures the county should see).
    failed = 0
    candidates = session.execute(
        select(Petition)
        .where(Petition.is_demo, func.length(Petition.division_code) == 12)
        .order_by(Petition.received_at.desc())
        .limit(300)
    ).scalars()
    for petition in candidates:
        if failed >= 8 or not petition.petitioners:
            continue
        received = local_date(petition.received_at)
        screened = received - timedelta(days=rng.randint(20, 60))
        entry, created = create_entry(
            session,
            actor=SYSTEM,
            data=LedgerEntryIn(
                title=petition.title[:60],
                summary=f"排查发现:{petition.title}",
                kind=rng.choice(KINDS),
                risk_level=rng.choice(("中", "高")),
                parties=[petition.petitioners[0].name],
                division_code=petition.division_code or "",
                responsible_person=_name(rng),
                screened_on=screened,
                due_on=screened + timedelta(days=15),
            ),
            now=now,
            source="demo",
            is_demo=True,
        )
        if created:
            entries += 1
            entry.status, entry.outcome = "unresolved", "多次调解未果"
            failed += len(linking.link_petition(session, petition=petition, now=now)) > 0

    # Grid reports from the field.
    for i in range(6):
        village = villages[(i * 7) % len(villages)]
        title, summary, kind = DISPUTES[(i + 3) % len(DISPUTES)]
        entry, created = create_entry(
            session,
            actor=SYSTEM,
            data=LedgerEntryIn(
                title=f"网格上报:{village.name}{title}",
                summary=summary,
                kind=kind,
                risk_level=rng.choice(("低", "中", "高")),
                parties=[_name(rng)],
                division_code=village.code,
                responsible_person=f"网格员{_name(rng)}",
                screened_on=today - timedelta(days=i + 1),
                due_on=today + timedelta(days=15 - i),
                lng=round((village.lng or 117.47) + rng.uniform(-0.004, 0.004), 6),
                lat=round((village.lat or 26.73) + rng.uniform(-0.004, 0.004), 6),
            ),
            now=now,
            source="grid",
            is_demo=True,
        )
        entries += created

    projects = _risk_projects(session, rt=rt, now=now, rng=rng, by_code=by_code, townships=townships)
    joint_cases = _joint_cases(session, now=now, by_code=by_code)
    return {
        "ledger_entries_added": entries,
        "ledger_failures_linked": failed,
        "risk_projects": projects,
        "joint_cases": joint_cases,
    }


def _risk_projects(
    session: Session,
    *,
    rt: Runtime,
    now: datetime,
    rng: random.Random,
    by_code: dict[str, OrgUnit],
    townships: list[OrgUnit],
) -> int:
    today = local_date(now)
    school_town, land_town = townships[1], townships[4]
    clerk = session.execute(select(User).where(User.username == "clerk")).scalar_one_or_none()
    actor = actor_for(clerk) if clerk else SYSTEM
    specs = (
        (
            school_town,
            "学校撤并",
            "低",
            f"{school_town.name}中心小学教学点撤并",
            ["撤并", "校车", "教学点"],
            9,
            "部分学生上学距离增加",
            "安排校车接送,设立寄宿",
            "jyj",
        ),
        (
            land_town,
            "征地",
            "中",
            f"{land_town.name}工业园区二期征地",
            ["征地", "补偿款", "工业园"],
            2,
            "补偿标准争议,少数户不配合丈量",
            "公开补偿标准,一户一策做工作",
            "zrzyj",
        ),
    )
    texts = {
        "学校撤并": (
            "教学点撤并后孩子上学太远",
            "村里的教学点撤并后,孩子要到镇上读书,说好的校车一直没有开通,每天步行一个多小时。",
        ),
        "征地": (
            "工业园征地补偿款不到位",
            "工业园征地已经开始施工,但我家的补偿款至今没有到位,丈量面积也有出入。",
        ),
    }
    for town, kind, level, name, keywords, related, points, measures, unit in specs:
        start = today - timedelta(days=90)
        risk.create_project(
            session,
            actor=SYSTEM,
            data=risk.RiskProjectIn(
                name=name,
                kind=kind,
                risk_level=level,
                risk_points=points,
                measures=measures,
                responsible_unit=unit if unit in by_code else "xfj",
                conclusion="准予实施",
                assessed_on=start - timedelta(days=30),
                start_on=start,
                places=[town.code],
                keywords=keywords,
            ),
            now=now,
            is_demo=True,
        )
        title, body = texts[kind]
        ctx = rt.intake_context(session)
        for i in range(related):
            received = _at(start + timedelta(days=10 + i * 7), 9 + i % 8)
            if received > now:
                continue
            village = [c for c in by_code if c.startswith(town.code) and len(c) == 12]
            register_petition(
                session,
                actor=actor,
                data=PetitionIn.model_validate(
                    {
                        "channel": Channel.HOTLINE if i % 3 == 0 else Channel.VISIT,
                        "title": title,
                        "body": f"{body}(第{i + 1}位反映人)",
                        "received_at": received,
                        "petitioners": [{"name": _name(rng)}],
                        "location": {"division_code": rng.choice(village) if village else town.code},
                        "source": "12345" if i % 3 == 0 else "demo-risk",
                    }
                ),
                now=min(received + timedelta(minutes=20), now),
                ctx=ctx,
                default_source="demo",
                is_demo=True,
                dedup_by_content=True,
            )
    return len(specs)


def _joint_cases(session: Session, *, now: datetime, by_code: dict[str, OrgUnit]) -> int:
    today = local_date(now)
    petitions = list(
        session.execute(
            select(Petition)
            .where(
                Petition.is_demo,
                Petition.status.in_((Status.ACCEPTED.value, Status.EXTENDED.value)),
                Petition.department_id.is_not(None),
            )
            .order_by(Petition.id)
            .limit(3)
        ).scalars()
    )
    plans = (
        ("zjj", "核实工程项目及资金拨付情况", 10, True),
        ("scjgj", "核查经营主体登记及处罚记录", -3, False),
        ("sfj", "组织人民调解员参与化解", 7, False),
    )
    done = 0
    for petition, (code, task, days, replied) in zip(petitions, plans, strict=False):
        unit = by_code.get(code)
        if unit is None or unit.id == petition.department_id:
            continue
        joint.add_tasks(
            session,
            actor=SYSTEM,
            petition_id=petition.id,
            tasks=[joint.CoTaskIn(unit=code, task=task, due_on=max(today, today + timedelta(days=days)))],
            now=now,
        )
        if days < 0:  # an overdue part: the task was given earlier
            t = session.execute(
                select(JointTask).where(JointTask.petition_id == petition.id, JointTask.unit_id == unit.id)
            ).scalar_one()
            t.start_on, t.due_on = today + timedelta(days=days - 10), today + timedelta(days=days)
        if replied:
            t = session.execute(
                select(JointTask).where(JointTask.petition_id == petition.id, JointTask.unit_id == unit.id)
            ).scalar_one()
            co = Actor(
                user_id=None,
                username=f"演示·{unit.name}",
                role=Role.HANDLER,
                org_unit_id=unit.id,
                org_code=unit.code,
                org_kind=OrgKind(unit.kind),
            )
            joint.reply_part(
                session, actor=co, task_id=t.id, reply="已核实,相关资金已拨付到位,详见附件说明。", now=now
            )
        done += 1
    if petitions and petitions[0].department is not None:
        joint.record_meeting(
            session,
            actor=SYSTEM,
            data=joint.MeetingIn(
                petition_id=petitions[0].id,
                held_on=today,
                topic="联席会议:研究会办事项分工",
                attendees=["xfj", petitions[0].department.code, "zjj"],
                decisions="牵头单位负责答复,会办单位三日内反馈核实意见。",
            ),
            now=now,
        )
    return done
