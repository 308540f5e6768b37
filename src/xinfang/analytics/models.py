"""Indexes the analytics queries need on the petitions table (declared here, owned by this slice).

The heat map counts petitions of a period per township or village, optionally by category and source: covering
indexes let the database answer from the index alone, without reading the petition rows (measured in
bench/analytics_scale.py: 5 million rows).
"""

from __future__ import annotations

from sqlalchemy import Index

from xinfang.cases.models import Petition

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
