"""The organisation stamp a process trusts for a second (org.geography): a change committed by another instance
(here: plain SQL, which this process's ORM does not see) shows after the interval; one committed through this
process's ORM shows at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from xinfang.org import geography
from xinfang.org.geography import read_geography
from xinfang.org.models import OrgUnit
from xinfang.runtime import Runtime


def _names(rt: Runtime) -> dict[str, str]:
    with rt.session() as s:
        return {row[1]: row[2] for row in read_geography(s).rows}


def test_another_instance_s_change_shows_after_the_trusted_interval(
    seeded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(geography, "STAMP_TTL_SECONDS", 3600.0)
    assert _names(seeded)["rsj"] != "改名的人社局"
    with seeded.engine.begin() as conn:  # as another app instance would: not through this process's sessions
        conn.execute(text("UPDATE org_units SET name = '改名的人社局' WHERE code = 'rsj'"))
    assert _names(seeded)["rsj"] != "改名的人社局"  # within the interval: the stamp read before is trusted
    monkeypatch.setattr(geography, "STAMP_TTL_SECONDS", 0.0)
    assert _names(seeded)["rsj"] == "改名的人社局"


def test_this_process_s_own_change_shows_at_once(seeded: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geography, "STAMP_TTL_SECONDS", 3600.0)
    assert _names(seeded)["rsj"] != "本进程改名"
    with seeded.session() as s:
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "rsj")).scalar_one()
        unit.name = "本进程改名"
    assert _names(seeded)["rsj"] == "本进程改名"
    with pytest.raises(RuntimeError), seeded.session() as s:  # a change rolled back is not news
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "rsj")).scalar_one()
        unit.name = "回滚的名字"
        s.flush()
        assert {r[1]: r[2] for r in read_geography(s).rows}[
            "rsj"
        ] == "回滚的名字"  # its own transaction sees it
        raise RuntimeError
    assert _names(seeded)["rsj"] == "本进程改名"
