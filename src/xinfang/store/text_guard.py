"""Refuse text that one of the two databases cannot store, before it is written, the same way on both.

PostgreSQL cannot hold NUL (U+0000) in text or JSON, and no UTF-8 database can hold a lone surrogate (which a JSON
`\\ud800` escape can carry); SQLite would keep both silently, so the backends would disagree, and PostgreSQL would
answer a 500. Petition text is cleaned at intake (text.sanitize, cases.schemas); everything else that reaches a
flush with such a character is refused with 422 (`text.unstorable_character`), on SQLite too.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from xinfang.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MAX_DEPTH = 20


def _unstorable(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(_unstorable(k, depth + 1) or _unstorable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v, depth + 1) for v in value)
    return False


def _check(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if _unstorable(state.dict.get(attr.key)):
                raise InvalidInput(
                    "文本中含有无法保存的字符(NUL 或不成对的代理项)",
                    code="text.unstorable_character",
                    field=attr.key,
                )


def install(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "before_flush", _check)
