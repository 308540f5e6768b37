import numpy as np

from xinfang.text.gazetteer import default_gazetteer
from xinfang.text.scan import candidate_starts, prefix_keys


def test_candidate_starts_finds_every_position_of_every_prefix():
    text = "万安镇村民反映万安镇工资问题,工资"
    keys = prefix_keys(["万安", "工资", "x"])
    assert candidate_starts(text, keys) == [
        i for i in range(len(text) - 1) if text[i : i + 2] in ("万安", "工资")
    ]
    assert candidate_starts("", keys) == [] and candidate_starts(text, np.zeros(0, dtype=np.int64)) == []


def _slow_find(gazetteer, text):
    """The original character-by-character scan, as the reference."""
    out, i = [], 0
    while i < len(text) - 1:
        hit = None
        for name, cands in gazetteer._index.get(text[i : i + 2], ()):
            if text.startswith(name, i):
                hit = (i, i + len(name), name, cands)
                break
        if hit is None:
            i += 1
            continue
        out.append(hit)
        i = hit[1]
    return out


def test_gazetteer_find_equals_the_character_by_character_scan():
    gaz = default_gazetteer()
    names = [p.name for p in gaz.places][:400]
    rng = np.random.default_rng(3)
    for _ in range(50):
        parts = rng.choice([*names, "的", "村民反映", "北京", "将乐县", "。"], size=12)
        text = "".join(parts.tolist())
        got = [(m.start, m.end, m.surface, m.candidates) for m in gaz.find(text)]
        assert got == _slow_find(gaz, text)
