"""Tables of the hot-matter slice: matters, their member petitions, and the index of their strongest terms and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinfang.store.base import Base, JSONType, UTCDateTime


class HotMatter(Base):
    """One matter (事项) many records are about: an estate's parking dispute, a factory's noise, a wage arrear.

    `centroid` is the truncated sum of the members' TF-IDF vectors and `keys` the entity names with their counts,
    so a new petition is scored without reading the members (hotspots.engine).
    """

    __tablename__ = "hot_matters"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    label_score: Mapped[float] = mapped_column(Float, default=0.0)
    key_terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    centroid: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    keys: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    size: Mapped[int] = mapped_column(Integer, default=0)
    township_code: Mapped[str | None] = mapped_column(String(9))
    category: Mapped[str | None] = mapped_column(String(50))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HotMatterMember(Base):
    """A petition belongs to at most one matter."""

    __tablename__ = "hot_matter_members"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("hot_matters.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HotMatterTerm(Base):
    """An indexed term (`t:` + word) or entity key (`k:` + name) of a matter: candidates in one indexed query."""

    __tablename__ = "hot_matter_terms"
    __table_args__ = (Index("ix_hot_matter_terms_term", "term"),)

    matter_id: Mapped[int] = mapped_column(ForeignKey("hot_matters.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


def as_dict(matter: HotMatter) -> dict[str, Any]:
    return {
        "id": matter.id,
        "label": matter.label,
        "key_terms": list(matter.key_terms or []),
        "size": matter.size,
        "township_code": matter.township_code,
        "category": matter.category,
        "first_at": matter.first_at,
        "last_at": matter.last_at,
    }
