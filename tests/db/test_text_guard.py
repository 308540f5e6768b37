"""Text that one of the databases cannot store is refused at flush, for new rows and for changed ones alike, in
plain string columns and inside JSON, on both backends (store.text_guard)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from xinfang.errors import InvalidInput
from xinfang.org.models import OrgUnit
from xinfang.runtime import Runtime


def _unit(runtime: Runtime) -> int:
    with runtime.session() as s:
        unit = OrgUnit(code="tg1", name="测试单位", kind="department", aliases=["别名"])
        s.add(unit)
        s.flush()
        return unit.id


@pytest.mark.parametrize(
    ("column", "value"),
    [("name", "含\x00字符"), ("short_name", "\ud800"), ("aliases", ["正常", {"k": "\x00"}])],
)
def test_a_changed_row_is_checked(runtime: Runtime, column: str, value: object) -> None:
    unit_id = _unit(runtime)
    with pytest.raises(InvalidInput) as err, runtime.session() as s:
        unit = s.get(OrgUnit, unit_id)
        assert unit is not None
        setattr(unit, column, value)
    assert err.value.code == "text.unstorable_character"
    with runtime.session() as s:  # nothing was written
        assert s.execute(select(OrgUnit.name).where(OrgUnit.id == unit_id)).scalar_one() == "测试单位"


def test_a_new_row_is_checked_and_clean_changes_pass(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput), runtime.session() as s:
        s.add(OrgUnit(code="tg2", name="正常", kind="department", aliases=["\x00"]))
    unit_id = _unit(runtime)
    with runtime.session() as s:
        unit = s.get(OrgUnit, unit_id)
        assert unit is not None
        unit.population = 12
        unit.name = "改名后的单位"
    with runtime.session() as s:
        assert s.get(OrgUnit, unit_id).name == "改名后的单位"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "unstorable"),
    [
        ({"a": ["b", {"c": "含\x00"}]}, True),
        ({"\ud800": 1}, True),  # in a key
        ([1, 2.5, None, True, "\\u0000 typed literally"], False),  # a backslash and five characters: storable
        ({"note": "\\u0000", "bad": "\x00"}, True),  # both: the walk decides
        ("plain", False),
        (12, False),
    ],
)
def test_json_values_are_judged_on_their_characters(value: object, unstorable: bool) -> None:
    from xinfang.store.text_guard import _unstorable

    assert _unstorable(value) is unstorable
