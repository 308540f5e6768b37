"""Refuse text that one of the two databases cannot store, before it is written, the same way on both.

PostgreSQL cannot hold NUL (U+0000) in text or JSON, and no UTF-8 database can hold a lone surrogate (which a JSON
`\\ud800` escape can carry); SQLite would keep both silently, so the backends would disagree, and PostgreSQL would
answer a 500. Petition text is cleaned at intake (text.sanitize, cases.schemas); everything else that reaches a
flush with such a character is refused with 422 (`text.unstorable_character`), on SQLite too.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session, sessionmaker

from xinfang.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_DEPTH = 20


def _unstorable(value: Any) -> bool:
    """Does a value (a string, or JSON: dicts and lists) hold a character neither database can store?

    JSON is checked on its serialisation, in C: lone surrogates pass through json.dumps as they are, NUL comes out
    escaped as \\u0000, which a string holding a literal backslash-u0000 also produces, so that case is walked."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if not isinstance(value, dict | list | tuple):
        return False
    try:
        dumped = json.dumps(value, ensure_ascii=False, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return _walk(value)
    if _UNSTORABLE.search(dumped) is not None:
        return True
    return "\\u0000" in dumped and _walk(value)


def _walk(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(_walk(k, depth + 1) or _walk(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_walk(v, depth + 1) for v in value)
    return False


def _check(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.new:
        state = inspect(obj)
        _check_values(state.dict, _text_keys(state.mapper))
    for obj in session.dirty:
        state = inspect(obj)
        changed = state.committed_state  # only what this unit of work set; loaded values were stored already
        if changed:
            _check_values(state.dict, [k for k in _text_keys(state.mapper) if k in changed])


def _check_values(values: dict[str, Any], keys: Any) -> None:
    for key in keys:
        value = values.get(key)
        if value is None:
            continue
        # Strings, the common case, without a call: intake flushes thousands of values.
        bad = _UNSTORABLE.search(value) is not None if value.__class__ is str else _unstorable(value)
        if bad:
            raise InvalidInput(
                "文本中含有无法保存的字符(NUL 或不成对的代理项)",
                code="text.unstorable_character",
                field=key,
            )


_NEVER_TEXT = (int, float, bool, bytes, datetime, date, Decimal)


@cache
def _text_keys(mapper: Mapper[Any]) -> tuple[str, ...]:
    """The column attributes that can hold text: all but numbers, dates and bytes (JSON and custom types count)."""
    keys = []
    for attr in mapper.column_attrs:
        try:
            python_type = attr.columns[0].type.python_type
        except NotImplementedError:
            python_type = object
        if not (isinstance(python_type, type) and issubclass(python_type, _NEVER_TEXT)):
            keys.append(attr.key)
    return tuple(keys)


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _check)
