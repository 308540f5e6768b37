from xinfang.routing.departments import Department
from xinfang.routing.router import Router
from xinfang.routing.rules import parse_rules
from xinfang.text.gazetteer import Location

DEPTS = {
    "xfj": Department("xfj", "县信访局", "bureau"),
    "rsj": Department("rsj", "县人社局", "department"),
    "jtysj": Department("jtysj", "县交通运输局", "department"),
    "350428101": Department("350428101", "万安镇人民政府", "township"),
}
RULES = parse_rules(
    {
        "category_priors": {"劳动和社会保障": {"rsj": 0.7}, "交通运输": {"jtysj": 0.75}},
        "departments": [
            {"code": "rsj", "keywords": [{"term": "拖欠工资", "weight": 3}, {"term": "工资", "weight": 1}]},
            {"code": "jtysj", "keywords": [{"term": "公交", "weight": 2.5}]},
        ],
    },
    department_codes=set(DEPTS),
)
WANAN = Location(county_code="350428", township_code="350428101", township_name="万安镇")


def test_keywords_and_category_pick_the_department_with_reasons():
    [top, *_] = Router(RULES, DEPTS).route(
        "老板拖欠工资", probabilities={"劳动和社会保障": 0.9, "交通运输": 0.1}
    )
    assert top["code"] == "rsj" and 0 < top["confidence"] <= 1
    assert top["detail"]["keywords"][0]["term"] == "拖欠工资"
    assert any("拖欠工资" in r for r in top["reasons"])


def test_a_located_matter_goes_to_the_township_government():
    result = Router(RULES, DEPTS).route("村道坏了", probabilities={"交通运输": 0.9}, location=WANAN)
    assert result[0]["code"] == "350428101"
    assert result[0]["detail"]["location_rule"] == "township_territorial"
    assert "属地" in result[0]["reasons"][0]


def test_a_county_department_responsible_by_the_list_overrides_the_township():
    result = Router(RULES, DEPTS).route("拖欠工资", probabilities={"劳动和社会保障": 0.9}, location=WANAN)
    assert [d["code"] for d in result[:2]] == ["rsj", "350428101"]
    assert result[1]["detail"]["location_rule"] == "county_department_responsible"


def test_nothing_matched_falls_back_to_the_petition_bureau():
    result = Router(RULES, DEPTS).route("无关内容", probabilities={"其他": 1.0})
    assert [d["code"] for d in result] == ["xfj"]


def test_at_most_three_departments_are_returned():
    result = Router(RULES, DEPTS).route(
        "拖欠工资 公交", probabilities={"劳动和社会保障": 0.5, "交通运输": 0.5}, location=WANAN
    )
    assert len(result) == 3


def test_auto_dispatch_needs_confidence_and_margin():
    router = Router(RULES, DEPTS)
    assert router.auto_dispatch([{"confidence": 0.8}, {"confidence": 0.2}])
    assert not router.auto_dispatch([{"confidence": 0.8}, {"confidence": 0.75}])
    assert not router.auto_dispatch([{"confidence": 0.3}])
