"""Referrals, their status history and the callback nonces (replay protection)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.cases.models import Petition
from xinfang.store.base import Base, JSONType, UTCDateTime


class Referral(Base):
    """One hand-over of a petition to an outside platform. `bundle` is the snapshot sent, *without* plaintext
    personal data (petitioners by id and masked); the wire bundle decrypts contacts only when it is sent."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_platform_remote", "platform", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    delivery: Mapped[str] = mapped_column(String(10))  # outbox | manual
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    remote_id: Mapped[str | None] = mapped_column(String(100))
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType)
    bundle: Mapped[dict[str, Any]] = mapped_column(JSONType)
    outcome: Mapped[str] = mapped_column(String(10), default="open")
    outcome_note: Mapped[str | None] = mapped_column(String(500))
    # Mediation pauses the petition's clocks: when, in which status, which clocks (resumed on failure/return).
    paused_on: Mapped[date | None] = mapped_column(Date)
    paused_status: Mapped[str | None] = mapped_column(String(30))
    paused_clock_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    resumed_on: Mapped[date | None] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()
    history: Mapped[list[ReferralStatusChange]] = relationship(
        back_populates="referral", order_by="ReferralStatusChange.id"
    )


class ReferralStatusChange(Base):
    """Every status a referral went through, with where the news came from. `event_id` (the platform's id of the
    status event) is unique per referral: the same news delivered twice is recorded once."""

    __tablename__ = "referral_status_changes"
    __table_args__ = (UniqueConstraint("referral_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    previous: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))  # system | callback | poll | manual
    event_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    referral: Mapped[Referral] = relationship(back_populates="history")


class CallbackNonce(Base):
    """A callback nonce already seen (per platform). Rows older than twice the replay window are purged."""

    __tablename__ = "referral_callback_nonces"
    __table_args__ = (UniqueConstraint("platform", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
