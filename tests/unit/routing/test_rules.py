import pytest

from xinfang.routing.departments import default_departments
from xinfang.routing.pipeline import default_paths
from xinfang.routing.rules import RuleError, load_rules, parse_rules

CODES = {"xfj", "rsj", "zjj", "cgj"}


def rules(**overrides):
    data = {
        "version": 1,
        "category_priors": {"劳动和社会保障": {"rsj": 0.7}},
        "departments": [
            {"code": "rsj", "keywords": [{"term": "拖欠工资", "weight": 3}, "社保"]},
            {"code": "zjj", "keywords": [{"term": "物业", "weight": 2}]},
        ],
    }
    data.update(overrides)
    return data


def test_the_shipped_yaml_is_valid():
    loaded = load_rules(default_paths()["rules"], department_codes=set(default_departments()))
    assert "rsj" in loaded.departments and loaded.departments["rsj"].keywords["拖欠工资"] == 3.0


def test_a_plain_string_keyword_has_weight_one():
    assert parse_rules(rules(), department_codes=CODES).departments["rsj"].keywords["社保"] == 1.0


def test_an_unknown_department_code_is_an_error():
    data = rules(departments=[{"code": "nope", "keywords": ["x"]}])
    with pytest.raises(RuleError, match="nope"):
        parse_rules(data, department_codes=CODES)


def test_an_unknown_department_in_category_priors_is_an_error():
    with pytest.raises(RuleError, match="ghost"):
        parse_rules(rules(category_priors={"城乡建设": {"ghost": 0.5}}), department_codes=CODES)


def test_an_empty_rule_is_an_error():
    with pytest.raises(RuleError, match="空规则"):
        parse_rules(rules(departments=[{"code": "rsj", "keywords": []}]), department_codes=CODES)
    with pytest.raises(RuleError, match="空规则"):
        parse_rules(rules(departments=[{"code": "rsj", "keywords": [{"term": " "}]}]), department_codes=CODES)


def test_a_keyword_in_two_departments_with_equal_weight_and_priority_names_both():
    data = rules(
        departments=[
            {"code": "zjj", "keywords": [{"term": "违建", "weight": 2}]},
            {"code": "cgj", "keywords": [{"term": "违建", "weight": 2}]},
        ]
    )
    with pytest.raises(RuleError) as info:
        parse_rules(data, department_codes=CODES)
    assert "zjj" in info.value.message and "cgj" in info.value.message and "违建" in info.value.message
    assert info.value.code == "routing.rules_conflict"


def test_a_priority_or_a_different_weight_breaks_the_tie():
    by_priority = rules(
        departments=[
            {"code": "zjj", "keywords": [{"term": "违建", "weight": 2}]},
            {"code": "cgj", "priority": 1, "keywords": [{"term": "违建", "weight": 2}]},
        ]
    )
    by_weight = rules(
        departments=[
            {"code": "zjj", "keywords": [{"term": "违建", "weight": 2}]},
            {"code": "cgj", "keywords": [{"term": "违建", "weight": 3}]},
        ]
    )
    assert parse_rules(by_priority, department_codes=CODES)
    assert parse_rules(by_weight, department_codes=CODES)


def test_bad_settings_are_errors():
    with pytest.raises(RuleError, match="auto_dispatch_threshold"):
        parse_rules(rules(settings={"auto_dispatch_threshold": 3}), department_codes=CODES)
    with pytest.raises(RuleError, match="unknown_knob"):
        parse_rules(rules(settings={"unknown_knob": 1}), department_codes=CODES)


def test_rules_round_trip_through_a_dict():
    parsed = parse_rules(rules(), department_codes=CODES)
    assert parse_rules(parsed.to_dict(), department_codes=CODES) == parsed


def test_a_yaml_error_names_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("departments: [\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"r\.yaml"):
        load_rules(path, department_codes=CODES)
