"""The rule for hostile or accidental invisible characters in text people type or paste into a petition.

Removed on intake (`clean_text`), the same on SQLite and PostgreSQL:

- C0 control characters except TAB, LF and CR (U+0000–U+001F), DEL (U+007F) and the C1 controls (U+0080–U+009F).
  NUL cannot be stored in a PostgreSQL text column at all (SQLite would keep it: the backends would disagree);
  the others are invisible, cannot appear in the XML of a .docx notice (Word refuses the file), and ESC starts
  terminal escape sequences in whatever log or console shows the text later. They reach a petition only by
  accident (copy-paste from PDF/Word, a hotline system's export) or on purpose.
- Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069). They reorder how the
  rest of a line is displayed ("Trojan Source"): a title could show a handler or a leader something other than
  what is stored and searched. Chinese petitions have no use for them; the plain direction marks LRM/RLM/ALM
  (U+200E, U+200F, U+061C) only affect neutral characters next to them and are kept.

- Lone surrogates (U+D800–U+DFFF): a JSON `\\ud800` escape can carry one, but no UTF-8 text (the database, a file)
  can hold it.

Kept as they are: zero-width characters (U+200B–U+200D, U+2060, U+FEFF): they are harmless on screen, ZWJ/ZWNJ
are meaningful in emoji and some scripts, and the analysis already ignores them (text.normalize), so a keyword
split by a zero-width space is still found. Everything else (HTML, SQL, quotes) is text like any other: the pages
escape it, the database binds it as a parameter.
"""

from __future__ import annotations

import re

_REMOVED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without the characters the module docstring lists; everything else untouched."""
    return _REMOVED.sub("", text)


def has_removed_characters(text: str) -> bool:
    return _REMOVED.search(text) is not None
