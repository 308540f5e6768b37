import json
from datetime import date

from tests.unit.text.synthetic import make_id_number
from xinfang.routing.pipeline import DispatchPipeline
from xinfang.routing.rules import parse_rules

REQUIRED = {
    "category",
    "departments",
    "entities",
    "demand",
    "matter_kind",
    "legal_channel",
    "risks",
    "auto_dispatch",
    "model_version",
}


def test_the_result_is_json_serialisable_with_the_agreed_fields(pipeline):
    number = make_id_number()
    body = f"我叫张三,身份证{number},电话13812345678,家住万安镇西垅村。包工头拖欠工资两万元,恳请帮助解决。"
    result = pipeline.analyse("讨薪", body, reference_date=date(2024, 1, 1))
    dumped = json.dumps(result, ensure_ascii=False)
    assert set(result) >= REQUIRED
    assert number not in dumped and "13812345678" not in dumped
    assert result["category"]["label"] == "劳动和社会保障"
    assert len(result["departments"]) <= 3
    assert {"code", "name", "confidence", "reasons"} <= set(result["departments"][0])
    assert result["departments"][0]["code"] == "rsj"
    assert result["demand"]["text"].startswith("恳请")


def test_a_risky_petition_is_never_auto_dispatched(pipeline):
    result = pipeline.analyse("", "拖欠工资半年,再不给钱我就跳楼")
    assert result["auto_dispatch"] is False and "风险" in result["auto_dispatch_reason"]


def test_the_router_accepts_an_in_memory_rules_object(pipeline):
    rules = parse_rules(
        {"departments": [{"code": "zjj", "keywords": [{"term": "工资", "weight": 5}]}]},
        department_codes=set(pipeline.departments),
    )
    result = pipeline.with_rules(rules).route("", "拖欠工资")
    assert result["departments"][0]["code"] == "zjj"


def test_the_default_pipeline_loads_the_shipped_model():
    pipeline = DispatchPipeline.load_default()
    result = pipeline.route("噪音扰民", "工厂夜间机器噪音很大,附近居民无法入睡,希望环保部门处理")
    assert result["category"]["label"] == "环境保护"
    assert result["departments"][0]["code"] == "sthjj"
    assert result["model_version"].startswith("cat3-")
