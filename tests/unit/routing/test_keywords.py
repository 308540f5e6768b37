from xinfang.routing.keywords import suggest_keywords
from xinfang.routing.rules import parse_rules

RULES = parse_rules({"departments": [{"code": "rsj", "keywords": ["工资"]}]}, department_codes={"rsj"})


def test_it_suggests_frequent_terms_missing_from_the_library_with_counts_only():
    texts = ["小区电动车充电桩不够用,希望增设"] * 4 + ["拖欠工资问题"] * 4 + ["路灯坏了"]
    suggestions = suggest_keywords(texts, RULES, min_df=3)
    terms = [s["term"] for s in suggestions]
    assert any("充电桩" in t for t in terms)
    assert not any("工资" in t for t in terms)
    assert all(set(s) == {"term", "df", "doc_count", "lift", "score"} for s in suggestions)


def test_lift_is_high_for_terms_rare_in_the_background_and_low_for_common_ones():
    texts = ["充电桩不够用,问题严重"] * 5
    background = {"问题": 0.5, "不够": 0.3, "充电桩": 0.0}
    by_term = {
        s["term"]: s for s in suggest_keywords(texts, RULES, background_df=background, min_df=3, top=100)
    }
    assert by_term["充电桩"]["lift"] > 100
    assert by_term.get("问题", {"lift": 0})["lift"] < 3
