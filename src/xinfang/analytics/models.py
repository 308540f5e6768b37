"""Indexes the analytics queries need on the petitions table, and the heat-map roll-up (owned by this slice).

The heat map counts petitions of a period per township or village, optionally by category and source: covering
indexes let the database answer from the index alone, without reading the petition rows (measured in
bench/analytics_scale.py: 5 million rows).
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinfang.cases.models import Petition
from xinfang.store.base import Base

HEAT_TOWNSHIP = Index(
    "ix_petitions_heat_township",
    Petition.township_code,
    Petition.received_at,
    Petition.category,
    Petition.source,
)
HEAT_DIVISION = Index(
    "ix_petitions_heat_division",
    Petition.division_code,
    Petition.received_at,
    Petition.category,
    Petition.source,
)


class PetitionMonthCount(Base):
    """The heat-map roll-up: petitions per local (China) month × township × division × category × source.

    `n` counts petitions; `n_repeat` counts those that repeat an earlier same-matter petition received at most
    `analytics.rollup.WINDOW_DAYS` before them (what heatmap.distinct_count subtracts). Unknown values are stored
    as '' so that the key is a plain primary key on both backends (NULLs never conflict in a unique key).
    Maintained in the same transaction as every ORM write to petitions and their links (analytics.rollup);
    `xinfang analytics rebuild-rollup` recomputes it from the petitions table.
    """

    __tablename__ = "petition_month_counts"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (clustered on the key: a month range is contiguous)

    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # yyyymm, China local time
    township_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category: Mapped[str] = mapped_column(String(50), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    n_repeat: Mapped[int] = mapped_column(Integer, default=0)
