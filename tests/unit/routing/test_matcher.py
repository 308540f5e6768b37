from xinfang.routing.pipeline import DispatchPipeline
from xinfang.routing.router import KeywordMatcher


def _slow_match(matcher: KeywordMatcher, text: str):
    """The original scan: every library term, in library order, with str.find."""
    return [(t, text.find(t), text.count(t)) for t in matcher.owners if t in text]


def test_the_prefix_scan_finds_exactly_what_str_find_finds_in_library_order():
    matcher = DispatchPipeline.load_default().router.matcher
    terms = list(matcher.owners)
    texts = [
        "",
        "噪音",
        "包工头拖欠工资,学校乱收费,工厂排放废气,噪音扰民,拖欠工资" * 3,
        "".join(terms[::7]),
        "村里" + "".join(reversed(terms[:40])) + "。",
    ]
    for text in texts:
        assert matcher.match(text) == _slow_match(matcher, text)
