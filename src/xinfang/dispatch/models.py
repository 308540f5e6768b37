"""Tables of the dispatch slice: rules versions, corrections, keyword decisions, repeat links and LSH band keys.

The text and routing core stays pure (no database); these tables hold what it needs across requests and
instances: which responsibility list is active, what clerks corrected, and the MinHash band keys of every
petition so that a repeat candidate is found with one indexed query instead of an in-memory index of history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinfang.org.models import User
from xinfang.store.base import Base, JSONType, UTCDateTime


class RulesVersion(Base):
    """One saved version of the responsibility list + keyword library. Rows are never edited; one is active."""

    __tablename__ = "routing_rule_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, 3 ... unique: concurrent saves conflict
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)  # ResponsibilityRules.to_dict(), validated
    # Keys the in-process pipeline cache: equal content means an equal pipeline, whichever database it came from.
    content_sha256: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    created_by: Mapped[User | None] = relationship()


class RoutingCorrection(Base):
    """A person chose another department or category than the engine's top suggestion: training material."""

    __tablename__ = "routing_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    suggested_department: Mapped[str | None] = mapped_column(String(32))
    chosen_department: Mapped[str | None] = mapped_column(String(32))
    suggested_category: Mapped[str | None] = mapped_column(String(50))
    chosen_category: Mapped[str | None] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeywordDecision(Base):
    """Staff approved or rejected a suggested keyword; either way it is not suggested again."""

    __tablename__ = "keyword_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(50), unique=True)
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject
    department: Mapped[str | None] = mapped_column(String(32))
    weight: Mapped[float | None] = mapped_column(Float)
    rules_version_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule_versions.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


SAME_PERSON_KINDS = ("same_person", "both")  # links that make the later petition a repeat by the same person


class PetitionLink(Base):
    """The new petition `petition_id` repeats the earlier `earlier_id` (same person and/or same matter)."""

    __tablename__ = "petition_links"
    __table_args__ = (UniqueConstraint("petition_id", "earlier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    earlier_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # same_person | same_matter | both
    similarity: Mapped[float] = mapped_column(Float)  # estimated Jaccard of the two texts' 3-gram sets
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # codes + labels, no PII
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PetitionBand(Base):
    """One MinHash LSH band key of a petition's text (BANDS rows per petition); equal keys mean a candidate."""

    __tablename__ = "petition_lsh_bands"
    __table_args__ = (Index("ix_petition_lsh_bands_band_key", "band_key"),)

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    band_key: Mapped[str] = mapped_column(String(16))  # 64-bit digest of (band number, band rows), hex
