"""Petitions, their petitioners, attachments and the append-only event history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.org.models import OrgUnit, User
from xinfang.store.base import Base, JSONType, UTCDateTime


class Petition(Base):
    __tablename__ = "petitions"
    __table_args__ = (
        # Idempotent intake: one row per (source, dedup key), the key being the feed's own id or a content hash.
        UniqueConstraint("source", "dedup_key"),
        Index("ix_petitions_dept_status", "department_id", "status"),
        Index("ix_petitions_township_received", "township_code", "received_at"),
        # Receipt time first (every period query), channel and status beside it: the dashboard's per-channel and
        # still-open counts of a province's year read the index alone (2.0 s -> 0.6 s at 10M petitions).
        Index("ix_petitions_received_channel_status", "received_at", "channel", "status"),
        # The reviewing unit's arm of the handler scope (security.permissions): indexed so that PostgreSQL can
        # combine the scope's arms (BitmapOr) instead of scanning the province. Partial: nearly every row is NULL.
        Index(
            "ix_petitions_reviewing_unit",
            "reviewing_unit_id",
            postgresql_where=text("reviewing_unit_id IS NOT NULL"),
            sqlite_where=text("reviewing_unit_id IS NOT NULL"),
        ),
        # Accountability's 满意率 counts the evaluations of a period (analytics.accountability); partial: most
        # petitions are never evaluated.
        Index(
            "ix_petitions_evaluated_at",
            "evaluated_at",
            postgresql_where=text("evaluated_at IS NOT NULL"),
            sqlite_where=text("evaluated_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Title and body as received, SM4-encrypted, only where ID or phone numbers had to be masked in them.
    original_text_enc: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # indexed with channel and status (below)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_code: Mapped[str | None] = mapped_column(String(9))
    address: Mapped[str | None] = mapped_column(String(300))
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    headcount: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(100))
    dedup_key: Mapped[str] = mapped_column(String(128))
    upper_due_on: Mapped[date | None] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    # 检举控告: the accused unit never sees the informant (see security.permissions).
    matter_kind: Mapped[str | None] = mapped_column(String(10))
    accused_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # The petition repeats, with the same facts and reasons, a matter final after 复核 (三级终结).
    repeats_final_id: Mapped[int | None] = mapped_column(ForeignKey("petitions.id"))
    # When the background enrichment (repeat links, hot matter, ledger link) ran; NULL while it is queued.
    enriched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 领导包案
    evaluation: Mapped[str | None] = mapped_column(String(10))  # 满意 / 基本满意 / 不满意
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))  # of the latest written decision
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    query_code_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it at class creation)

    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id])
    accused_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[accused_unit_id])
    reviewing_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[reviewing_unit_id])
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    petitioners: Mapped[list[Petitioner]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", order_by="Petitioner.id"
    )
    events: Mapped[list[Event]] = relationship(back_populates="petition", order_by="Event.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="petition", order_by="Attachment.id")
    clocks: Mapped[list[Clock]] = relationship(back_populates="petition", order_by="Clock.id")
    documents: Mapped[list[Document]] = relationship(back_populates="petition", order_by="Document.id")
    supervisions: Mapped[list[Supervision]] = relationship(
        back_populates="petition", order_by="Supervision.id"
    )
    access_grants: Mapped[list[PetitionAccess]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", order_by="PetitionAccess.id"
    )


class Petitioner(Base):
    """A person behind a petition. ID number and phone exist only encrypted, blind-indexed and masked."""

    __tablename__ = "petitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_enc: Mapped[str | None] = mapped_column(String(200))
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    is_representative: Mapped[bool] = mapped_column(Boolean, default=False)

    petition: Mapped[Petition] = relationship(back_populates="petitioners")


class Attachment(Base):
    """A file kept with a petition; the bytes live in the content-addressed store under their SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship(back_populates="attachments")


class Event(Base):
    """One thing that happened to a petition. Rows are only ever inserted."""

    __tablename__ = "events"
    # Accountability counts a period's forwards, assignments and objections (analytics.accountability).
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)  # e.g. finding re-reviewed petitions (三级终结)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    petition: Mapped[Petition] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ImportBatch(Base):
    """One imported file: who, when, what, and how many rows it added."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(20))
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_added: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Clock(Base):
    """One statutory period of one step. Open while `closed_on` is null; the overdue scan is one indexed query."""

    __tablename__ = "clocks"
    __table_args__ = (
        Index("ix_clocks_open_due", "closed_on", "due_on"),
        # Accountability reads the clocks started in a period (analytics.accountability).
        Index("ix_clocks_start_on", "start_on"),
        # The open clocks only, with what the 临期/超期 boxes test (inbox.service): the province's overdue count
        # is an index-only scan of it, and the inbox page's per-petition probe needs no heap access.
        Index(
            "ix_clocks_open_by_petition",
            "petition_id",
            "due_on",
            "start_on",
            "rule",
            "binds_petitioner",
            postgresql_where=text("closed_on IS NULL"),
            sqlite_where=text("closed_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)  # who the clock binds
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    statutory_due_on: Mapped[date] = mapped_column(Date)
    is_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    binds_petitioner: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    excluded_days: Mapped[int] = mapped_column(Integer, default=0)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_by_action: Mapped[str | None] = mapped_column(String(30))

    petition: Mapped[Petition] = relationship(back_populates="clocks")
    unit: Mapped[OrgUnit | None] = relationship()


class Document(Base):
    """A written notice issued on a case (受理告知书, 处理意见书 ...), the .docx kept in the attachment store."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))

    petition: Mapped[Petition] = relationship(back_populates="documents")


class Supervision(Base):
    """A 督办: graded instruction to the handling unit with its own response deadline."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))  # normal / yellow / red
    instruction: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The supervised unit's answer (cases.supervision.respond): it clears the 督办 from the 督办 boxes.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response: Mapped[str | None] = mapped_column(Text)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    progress: Mapped[str | None] = mapped_column(Text)  # the case's progress at the answer, if attached

    petition: Mapped[Petition] = relationship(back_populates="supervisions")
    unit: Mapped[OrgUnit | None] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])


class Notification(Base):
    """An in-app message to a unit (or one user): reminders of due-soon and overdue clocks, 督办, alerts."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(500))
    dedup_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PetitionAccess(Base):
    """A unit outside the petition's handling chain that may see it (e.g. a co-handling department, 多方联动).

    Generic on purpose: `security.permissions` reads it without knowing which slice granted the access (`reason`
    names the slice's purpose, e.g. "co_handling"), so no slice has to be imported by `security` or `cases`.
    """

    __tablename__ = "petition_access"
    __table_args__ = (UniqueConstraint("petition_id", "unit_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship(back_populates="access_grants")
