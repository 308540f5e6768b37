"""Finding where any of many literal terms can start, with numpy instead of a Python loop over characters.

Why: keyword and place-name scanning looked at every character of a petition in Python (0.3–0.6 ms for a
2,000-character letter, most of the route budget). Every term is at least two characters long and is indexed
by its first two characters, so only positions whose character pair is such a prefix can start a match; numpy
finds those positions in a few microseconds and Python only checks them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_CP_BITS = 21


def pair_key(pair: str) -> int:
    """Integer key of a two-character string (code points packed: c0 << 21 | c1)."""
    return (ord(pair[0]) << _CP_BITS) | ord(pair[1])


def prefix_keys(prefixes: Iterable[str]) -> np.ndarray:
    """Sorted keys of two-character prefixes, for `candidate_starts`."""
    return np.unique(np.fromiter((pair_key(p) for p in prefixes if len(p) == 2), dtype=np.int64))


def candidate_starts(text: str, keys: np.ndarray) -> list[int]:
    """Positions i (ascending) where text[i:i+2] is one of the prefixes whose keys are given."""
    if len(text) < 2 or not len(keys):
        return []
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    pairs = (cps[:-1] << _CP_BITS) | cps[1:]
    pos = np.minimum(np.searchsorted(keys, pairs), len(keys) - 1)
    return np.flatnonzero(keys[pos] == pairs).tolist()
