"""Import profiles of the outside feeds merged into analysis: grid events, 110 dispute records, and the complaint
records of the housing (住建), human-resources/social-security (人社) and market-regulation (市场监管) bureaus.

Each is a column mapping in the same format as the built-in `default` and `hotline12345` profiles (see
intake.mapping.load_mapping); it fixes the channel and names the source written on every record (petition.source), so
the heat map and hot matters can be filtered by source and the same matter reported in several feeds is linked.
Documented, with the synthetic sample files in data/samples/, in docs/data-sources.md.
"""

from __future__ import annotations

from typing import Any

GRID_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("事件编号", "事件编码"),
    "received_at": ("上报时间", "发现时间"),
    "petitioner_name": ("当事人", "反映人"),
    "petitioner_phone": ("当事人电话", "联系电话"),
    "petitioner_id_number": ("当事人身份证号", "身份证号"),
    "title": ("事件标题", "事件名称"),
    "body": ("事件描述", "事件详情"),
    "township": ("所属乡镇", "乡镇(街道)"),
    "division_code": ("网格区划代码", "区划代码"),
    "address": ("事发地点", "发生地点"),
    "lng": ("经度",),
    "lat": ("纬度",),
    "headcount": ("涉及人数",),
    "category": ("信访分类",),
}
POLICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("接警单号", "警情编号"),
    "received_at": ("报警时间", "接警时间"),
    "petitioner_name": ("报警人", "报警人姓名"),
    "petitioner_phone": ("报警电话", "报警人电话"),
    "petitioner_id_number": ("报警人身份证号",),
    "title": ("警情摘要", "纠纷类型"),
    "body": ("简要案情", "警情内容"),
    "township": ("管辖乡镇", "所属乡镇"),
    "address": ("发案地址", "案发地址"),
    "headcount": ("涉及人数",),
}
HOUSING_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("住建投诉编号",),
    "received_at": ("投诉日期", "投诉时间"),
    "petitioner_name": ("投诉人",),
    "petitioner_phone": ("投诉人电话", "联系电话"),
    "petitioner_id_number": ("投诉人身份证号",),
    "title": ("投诉主题",),
    "body": ("投诉内容",),
    "township": ("项目所在乡镇",),
    "address": ("项目地址", "楼盘地址"),
    "headcount": ("涉及户数",),
}
HRSS_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("劳动监察案件号", "案件编号"),
    "received_at": ("登记日期", "受理日期"),
    "petitioner_name": ("投诉人姓名",),
    "petitioner_phone": ("投诉人联系电话",),
    "petitioner_id_number": ("投诉人公民身份号码",),
    "title": ("案由",),
    "body": ("投诉请求及事实",),
    "township": ("用人单位所在乡镇",),
    "address": ("用人单位地址",),
    "headcount": ("涉及劳动者人数",),
}
MARKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("12315登记编号", "登记编号"),
    "received_at": ("登记时间",),
    "petitioner_name": ("消费者姓名",),
    "petitioner_phone": ("消费者电话",),
    "title": ("投诉标题",),
    "body": ("投诉详情",),
    "township": ("经营者所在乡镇",),
    "address": ("经营者地址",),
}

SOURCE_PROFILES: dict[str, dict[str, Any]] = {
    "grid_event": {"name": "grid_event", "columns": GRID_COLUMNS, "channel": "grid", "source": "grid"},
    "police110": {"name": "police110", "columns": POLICE_COLUMNS, "channel": "system", "source": "110"},
    "housing_complaint": {
        "name": "housing_complaint",
        "columns": HOUSING_COLUMNS,
        "channel": "system",
        "source": "zjj",
    },
    "hrss_complaint": {
        "name": "hrss_complaint",
        "columns": HRSS_COLUMNS,
        "channel": "system",
        "source": "rsj",
    },
    "market_complaint": {
        "name": "market_complaint",
        "columns": MARKET_COLUMNS,
        "channel": "system",
        "source": "scjgj",
    },
}
