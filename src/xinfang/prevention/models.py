"""Prevention and joint effort: the dispute-screening ledger (矛盾纠纷排查化解台账) with its mediation steps and its
links to later petitions, the stability risk assessment register (重大决策社会稳定风险评估), and joint handling
(多方联动: co-handling tasks and joint meetings).

Parties are stored by name only: the ledger has no ID numbers or phones (a township sheet's contact columns are not
imported), so nothing here needs encryption.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.cases.models import Petition
from xinfang.org.models import OrgUnit
from xinfang.store.base import Base, JSONType, UTCDateTime


class LedgerEntry(Base):
    """One screened dispute or hidden risk, with who is responsible for resolving it by when."""

    __tablename__ = "prevention_ledger_entries"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_prevention_ledger_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30))
    risk_level: Mapped[str] = mapped_column(String(4))  # 低 / 中 / 高 / 重大
    parties: Mapped[list[str]] = mapped_column(JSONType, default=list)  # names only
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_code: Mapped[str | None] = mapped_column(String(9), index=True)
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    responsible_person: Mapped[str] = mapped_column(String(50))
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    screened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open / resolved / unresolved
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual / import / grid / demo
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_type: Mapped[str | None] = mapped_column(String(100))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    petition_id: Mapped[int | None] = mapped_column(
        ForeignKey("petitions.id")
    )  # a grid report also registered
    dedup_key: Mapped[str] = mapped_column(String(80))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    responsible_unit: Mapped[OrgUnit | None] = relationship()
    steps: Mapped[list[MediationStep]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="MediationStep.id"
    )
    links: Mapped[list[LedgerLink]] = relationship(back_populates="entry", order_by="LedgerLink.id")


class MediationStep(Base):
    """One mediation or follow-up step on a ledger entry (走访, 调解, 回访 ...)."""

    __tablename__ = "prevention_mediation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_ledger_entries.id", ondelete="CASCADE"), index=True
    )
    step_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[LedgerEntry] = relationship(back_populates="steps")


class LedgerLink(Base):
    """A petition that arrived about a dispute already in the ledger: where early resolution failed."""

    __tablename__ = "prevention_ledger_links"
    __table_args__ = (UniqueConstraint("entry_id", "petition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_ledger_entries.id", ondelete="CASCADE"), index=True
    )
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # parties / matter / both
    similarity: Mapped[float] = mapped_column(Float, default=0.0)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    entry: Mapped[LedgerEntry] = relationship(back_populates="links")
    petition: Mapped[Petition] = relationship()


class RiskProject(Base):
    """A major decision or project and its social-stability risk assessment."""

    __tablename__ = "prevention_risk_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # 征地 / 拆迁 / 学校撤并 / 价格调整 / 其他
    risk_level: Mapped[str] = mapped_column(String(4))  # 低 / 中 / 高
    risk_points: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    conclusion: Mapped[str] = mapped_column(String(20))  # 准予实施 / 暂缓实施 / 不予实施
    assessed_on: Mapped[date] = mapped_column(Date)
    start_on: Mapped[date] = mapped_column(Date)
    places: Mapped[list[str]] = mapped_column(JSONType, default=list)  # division codes (township or village)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    responsible_unit: Mapped[OrgUnit | None] = relationship()


class JointTask(Base):
    """A co-handling department's part of a petition led by its handling department: own task, deadline, reply."""

    __tablename__ = "prevention_joint_tasks"
    __table_args__ = (
        UniqueConstraint("petition_id", "unit_id"),
        Index("ix_joint_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    task: Mapped[str] = mapped_column(Text)
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / done
    reply: Mapped[str | None] = mapped_column(Text)
    replied_on: Mapped[date | None] = mapped_column(Date)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    petition: Mapped[Petition] = relationship()
    unit: Mapped[OrgUnit] = relationship()


class JointMeeting(Base):
    """A 联席会议: who attended (units) and what was decided, optionally about one petition."""

    __tablename__ = "prevention_joint_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int | None] = mapped_column(
        ForeignKey("petitions.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[list[str]] = mapped_column(JSONType, default=list)  # unit codes
    decisions: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def as_dict(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}
