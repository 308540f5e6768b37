"""Write the synthetic sample files of the outside feeds into src/xinfang/data/samples/ (all data is made up).

Exact command (from the repository root; deterministic, a second):
    .venv/bin/python scripts/build_source_samples.py

One file per import profile (docs/data-sources.md): 12345 work orders and 110 records and 人社 complaints as GB18030
CSV (what those systems export), grid events, 住建 and 市场监管 complaints as XLSX. People come from the demo
generator's synthetic person maker (valid-looking but invented ID numbers and phones); places are the demo county's
townships and synthetic villages. Two matters appear in several feeds on purpose, so that importing all files shows
cross-source linking: unpaid wages at a building site in 万安镇 (12345, 人社, 110, same caller) and bundled parking
spaces at an estate in 古镛镇 (12345, 住建, grid).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from xinfang.demo.people import make_person
from xinfang.org.loader import read_county

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "xinfang" / "data" / "samples"
START = datetime(2026, 1, 5, 9, 0)

WAGES = (
    "{town}{village}安置房工地拖欠农民工工资",
    "我们在{town}{village}安置房项目工地做木工,包工头拖欠{n}名工人工资共{money}万元,"
    "春节前必须解决,请求督促施工单位支付。",
)
PARKING = (
    "{town}翠湖花园车位捆绑销售",
    "翠湖花园小区开发商要求购房必须同时购买车位,不买车位不给网签,{n}户业主反对,请求住建部门查处。",
)
TOPICS: dict[str, list[tuple[str, str]]] = {
    "hotline": [
        ("{town}{village}路灯不亮", "{village}主干道路灯坏了一个多月,晚上出行很不安全,请尽快维修。"),
        ("{town}农贸市场占道经营", "{town}农贸市场门口摊贩占道经营,道路堵塞,请城管处理。"),
        ("{town}{village}自来水停水", "{village}已经停水三天,没有任何通知,老人小孩用水困难。"),
        ("{town}网吧接纳未成年人", "{town}街上一家网吧经常接纳未成年人上网,家长很担心。"),
    ],
    "grid": [
        ("{village}河道垃圾堆积", "巡查发现{village}河道岸边垃圾堆积,有异味,需清理。"),
        ("{village}邻里宅基地纠纷", "两户村民因宅基地界线发生争执,已初步调解,仍有矛盾。"),
        ("{village}危房住户需转移", "巡查发现{village}一户土木结构房屋墙体开裂,住户为独居老人,需尽快转移。"),
    ],
    "police": [
        ("邻里纠纷", "报警人称与邻居因排水沟堵塞发生口角并推搡,民警到场调解。"),
        ("消费纠纷", "报警人称在{town}一家饭店就餐后与店主因价格发生争执。"),
        ("土地纠纷", "报警人称{village}村民小组因山林承包款分配发生争执,现场约{n}人。"),
    ],
    "housing": [
        ("{town}某小区电梯经常故障", "小区电梯一个月坏了三次,有人被困,物业拖着不修,请求住建部门督促。"),
        ("{town}安置房质量问题", "安置房墙体渗水开裂,交房不到一年,开发商不予维修。"),
        ("{town}物业费上涨", "物业公司未经业主大会同意上调物业费,业主不认可。"),
    ],
    "hrss": [
        ("未缴纳社会保险", "本人在{town}一家竹木加工厂工作三年,单位一直未缴纳养老保险,请求责令补缴。"),
        ("拖欠工资", "{town}一家茶叶公司拖欠员工两个月工资,共{n}人,请求依法追讨。"),
        ("解除劳动合同未支付补偿", "公司无故辞退,不支付经济补偿金,请求劳动监察处理。"),
    ],
    "market": [
        ("预付卡退费难", "{town}一家健身房突然关门,办的年卡无法退费,涉及会员很多。"),
        ("食品过期", "在{town}超市买到过期牛奶,商家拒绝赔偿。"),
        ("虚假宣传", "{town}一家保健品店向老人虚假宣传产品功效,高价销售。"),
    ],
}


def _places(rng: random.Random) -> list[tuple[str, str, str]]:
    county = read_county()
    out = []
    for t in county["townships"]:
        for v in t.get("villages", [])[:4]:
            out.append((t["name"], v["name"], v["code"]))
    return out


def _fmt(template: str, rng: random.Random, town: str, village: str) -> str:
    return template.format(town=town, village=village, n=rng.randint(5, 30), money=rng.randint(8, 60))


def _rows(
    kind: str, n: int, rng: random.Random, places: list[tuple[str, str, str]]
) -> list[dict[str, object]]:
    """Generic records: (when, person, town, village, code, title, body, headcount)."""
    out = []
    for i in range(n):
        town, village, code = rng.choice(places)
        title, body = rng.choice(TOPICS[kind])
        person = make_person(rng, key=f"{kind}{i}", on=START.date())
        at = START + timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 600))
        out.append(
            {
                "at": at,
                "person": person,
                "town": town,
                "village": village,
                "code": code,
                "title": _fmt(title, rng, town, village),
                "body": _fmt(body, rng, town, village),
                "n": rng.randint(2, 12),
            }
        )
    return out


def _shared(rng: random.Random) -> dict[str, dict[str, object]]:
    """The two matters that appear in several feeds: the same caller, place and days."""
    wage_person = make_person(rng, key="wage-caller", on=START.date())
    estate_person = make_person(rng, key="estate-owner", on=START.date())
    wt, wb = WAGES
    pt, pb = PARKING
    ctx_w = {"town": "万安镇", "village": "", "n": 18, "money": 36}
    ctx_p = {"town": "古镛镇", "village": "", "n": 40, "money": 0}
    return {
        "wage": {
            "at": datetime(2026, 1, 20, 10, 5),
            "person": wage_person,
            "town": "万安镇",
            "village": "",
            "code": "350428101",
            "title": wt.format(**ctx_w),
            "body": wb.format(**ctx_w),
            "n": 18,
        },
        "estate": {
            "at": datetime(2026, 1, 26, 15, 40),
            "person": estate_person,
            "town": "古镛镇",
            "village": "",
            "code": "350428100",
            "title": pt.format(**ctx_p),
            "body": pb.format(**ctx_p),
            "n": 40,
        },
    }


def _later(rec: dict[str, object], hours: int) -> dict[str, object]:
    return rec | {"at": rec["at"] + timedelta(hours=hours)}  # type: ignore[operator]


def _csv(path: Path, headers: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("gb18030"))


def _xlsx(path: Path, headers: list[str], rows: list[list[object]]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.properties.created = datetime(2026, 3, 1)  # deterministic bytes
    wb.properties.modified = datetime(2026, 3, 1)
    wb.save(path)


def _ts(at: object) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}"


def main() -> None:
    rng = random.Random(20260301)
    places = _places(rng)
    shared = _shared(rng)
    OUT.mkdir(parents=True, exist_ok=True)

    hot = [*_rows("hotline", 16, rng, places), shared["wage"], shared["estate"]]
    _csv(
        OUT / "hotline12345.csv",
        [
            "工单编号",
            "来电时间",
            "来电人",
            "联系电话",
            "身份证号",
            "诉求标题",
            "诉求内容",
            "所属乡镇",
            "详细地址",
        ],
        [
            [
                f"GD2026{i:05d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                "",
                r["title"],
                r["body"],
                r["town"],
                f"{r['town']}{r['village']}",
            ]
            for i, r in enumerate(hot)
        ],
    )

    grid = [*_rows("grid", 14, rng, places), _later(shared["estate"], 20)]
    _xlsx(
        OUT / "grid_events.xlsx",
        [
            "事件编号",
            "上报时间",
            "当事人",
            "当事人电话",
            "事件标题",
            "事件描述",
            "所属乡镇",
            "网格区划代码",
            "事发地点",
            "涉及人数",
        ],
        [
            [
                f"WG2026{i:05d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                r["title"],
                r["body"],
                r["town"],
                r["code"],
                f"{r['town']}{r['village']}",
                r["n"],
            ]
            for i, r in enumerate(grid)
        ],
    )

    police = [*_rows("police", 14, rng, places), _later(shared["wage"], 26)]
    _csv(
        OUT / "police110.csv",
        [
            "接警单号",
            "报警时间",
            "报警人",
            "报警电话",
            "报警人身份证号",
            "纠纷类型",
            "简要案情",
            "管辖乡镇",
            "发案地址",
            "涉及人数",
        ],
        [
            [
                f"JJ2026{i:06d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                r["person"].id_number,
                r["title"],
                r["body"],
                r["town"],
                f"{r['town']}{r['village']}",
                r["n"],
            ]
            for i, r in enumerate(police)
        ],
    )

    housing = [*_rows("housing", 12, rng, places), _later(shared["estate"], 50)]
    _xlsx(
        OUT / "housing_complaints.xlsx",
        [
            "住建投诉编号",
            "投诉日期",
            "投诉人",
            "投诉人电话",
            "投诉人身份证号",
            "投诉主题",
            "投诉内容",
            "项目所在乡镇",
            "项目地址",
            "涉及户数",
        ],
        [
            [
                f"ZJ2026{i:04d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                r["person"].id_number,
                r["title"],
                r["body"],
                r["town"],
                f"{r['town']}{r['village']}",
                r["n"],
            ]
            for i, r in enumerate(housing)
        ],
    )

    hrss = [*_rows("hrss", 12, rng, places), _later(shared["wage"], 48)]
    _csv(
        OUT / "hrss_complaints.csv",
        [
            "劳动监察案件号",
            "登记日期",
            "投诉人姓名",
            "投诉人联系电话",
            "投诉人公民身份号码",
            "案由",
            "投诉请求及事实",
            "用人单位所在乡镇",
            "用人单位地址",
            "涉及劳动者人数",
        ],
        [
            [
                f"LJ2026{i:04d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                r["person"].id_number,
                r["title"],
                r["body"],
                r["town"],
                f"{r['town']}{r['village']}",
                r["n"],
            ]
            for i, r in enumerate(hrss)
        ],
    )

    market = _rows("market", 12, rng, places)
    _xlsx(
        OUT / "market_complaints.xlsx",
        [
            "12315登记编号",
            "登记时间",
            "消费者姓名",
            "消费者电话",
            "投诉标题",
            "投诉详情",
            "经营者所在乡镇",
            "经营者地址",
        ],
        [
            [
                f"SJ2026{i:05d}",
                _ts(r["at"]),
                r["person"].name,
                r["person"].phone,
                r["title"],
                r["body"],
                r["town"],
                f"{r['town']}{r['village']}",
            ]
            for i, r in enumerate(market)
        ],
    )
    for p in sorted(OUT.iterdir()):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    _ = date
    main()
