"""Township resolution on synthetic demo-like texts: every village, named several ways."""

import json

from xinfang.text.analysis import analyse_text
from xinfang.text.gazetteer import data_path, default_gazetteer
from xinfang.text.normalize import to_half_width_simplified

TEMPLATES = [
    "我是将乐县{town}{village}村民,村里的道路坏了,希望尽快维修。",
    "家住{village},包工头拖欠工资三个多月,恳请帮助解决。",
    "{town}政府门口的路灯不亮,{village}的群众出行不便。",
    "反映{town}的问题:工厂排放废气,要求处理。",
]
TRADITIONAL = str.maketrans("镇乡县里门问题", "鎮鄉縣裡門問題")


def _cases():
    county = json.loads(data_path("geo", "demo_county.json").read_text(encoding="utf-8"))
    for town in county["townships"]:
        names = [town["name"], *town.get("aliases", [])]
        for village in town["villages"]:
            for template in TEMPLATES:
                for name in names:
                    text = template.format(town=name, village=village["name"])
                    yield text, town["code"]
                    yield text.translate(TRADITIONAL), town["code"]


def test_township_resolution_on_synthetic_texts_is_at_least_98_percent():
    gazetteer = default_gazetteer()
    cases = list(_cases())
    correct = sum(
        analyse_text("", text, gazetteer=gazetteer).location.township_code == code for text, code in cases
    )
    assert to_half_width_simplified("鎮") == "镇"
    assert len(cases) > 800
    assert correct / len(cases) >= 0.98, f"{correct}/{len(cases)}"
