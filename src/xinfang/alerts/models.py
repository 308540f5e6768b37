"""Tables of the alerts slice: alerts (one per persisting situation), their action trail, and the delivery outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.org.models import User
from xinfang.store.base import Base, JSONType, UTCDateTime


class Alert(Base):
    """One situation (a place and category, or one petition's risk), updated while its signals persist.

    `evidence` holds, per method, the latest signal: statistic, baseline, threshold, p-value / recurrence
    interval, window, and the contributing petition ids — never personal data.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_key_status", "situation_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    situation_key: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(10), index=True)  # yellow | red
    status: Mapped[str] = mapped_column(String(15), index=True)  # open | acknowledged | resolved
    title: Mapped[str] = mapped_column(String(200))
    township_code: Mapped[str | None] = mapped_column(String(9))
    category: Mapped[str | None] = mapped_column(String(50))
    methods: Mapped[list[str]] = mapped_column(JSONType, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    petition_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    first_signal_on: Mapped[date] = mapped_column(Date)
    last_signal_on: Mapped[date] = mapped_column(Date)
    signal_days: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    red_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    actions: Mapped[list[AlertAction]] = relationship(back_populates="alert", order_by="AlertAction.id")


class AlertAction(Base):
    """The trail of an alert: opened, updated, escalated, acknowledged, resolved — who, when, note."""

    __tablename__ = "alert_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    alert: Mapped[Alert] = relationship(back_populates="actions")
    actor: Mapped[User | None] = relationship()


class AlertDelivery(Base):
    """Outbox: one row per alert × channel × tier. Claimed with a conditional UPDATE, retried with exponential
    back-off, and left as `failed` (never deleted) when attempts run out, so nothing is lost silently."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "tier"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(50))  # the configured channel's name
    tier: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
