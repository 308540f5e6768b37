"""Tables of the case-review slice (案件评查): automatic reviews, samples drawn for manual review, reviewers' verdicts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.org.models import User
from xinfang.store.base import Base, JSONType, UTCDateTime


class CaseReview(Base):
    """One automatic review of one case by one version of the rules. Rows are never edited; a re-run adds a row,
    and the latest row of a petition is its current review."""

    __tablename__ = "case_reviews"
    __table_args__ = (Index("ix_case_reviews_petition_version", "petition_id", "rules_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    rules_version: Mapped[str] = mapped_column(String(30))
    score: Mapped[int] = mapped_column(Integer, index=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list
    )  # rule, ok, evidence, weight
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)  # the handling unit at review time
    concluded_on: Mapped[date | None] = mapped_column(Date, index=True)  # local day the case was concluded
    trigger: Mapped[str] = mapped_column(String(10))  # auto | on_demand
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ReviewSample(Base):
    """A draw of cases for manual review: random plus risk-weighted, reproducible from its seed."""

    __tablename__ = "review_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    random_share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list[ReviewSampleItem]] = relationship(
        back_populates="sample", order_by="ReviewSampleItem.id", cascade="all, delete-orphan"
    )


class ReviewSampleItem(Base):
    __tablename__ = "review_sample_items"
    __table_args__ = (UniqueConstraint("sample_id", "petition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("review_samples.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(ForeignKey("case_reviews.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(10))  # random | risk
    risk_weight: Mapped[float] = mapped_column(Float)

    sample: Mapped[ReviewSample] = relationship(back_populates="items")


class ReviewVerdict(Base):
    """A reviewer's judgement of one automatic review: agree/disagree overall and per finding, with a note."""

    __tablename__ = "review_verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("case_reviews.id", ondelete="CASCADE"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("review_samples.id", ondelete="SET NULL"))
    overall: Mapped[str] = mapped_column(String(10))  # agree | disagree
    findings: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # rule -> agree | disagree
    note: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    reviewer: Mapped[User | None] = relationship()
