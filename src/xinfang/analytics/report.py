"""The monthly analysis report (信访形势分析报告) as .docx: figures, tables and charts for one month.

Charts are matplotlib PNGs drawn with the CJK font that ships in a wheel (analytics.charts), embedded in the
document, so Chinese renders on a machine without any CJK font; the text itself uses the document's East Asian font
setting (宋体 / 黑体 names, which Word and WPS substitute). No personal data: key petitioners appear as a count.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.analytics import charts, forecast, heatmap
from xinfang.analytics.key_petitioners import list_key_petitioners
from xinfang.cases.enums import CHANNEL_LABELS, Channel
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.hotspots.service import MatterQuery, list_hot_matters
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import can, require, scope_petitions

HEADINGS = ("一、总体情况", "二、内容分类", "三、地区分布", "四、热点问题", "五、下月预测", "六、重点人员")


def _month_bounds(index: int) -> tuple[date, date]:
    start = forecast.month_start(index)
    end = forecast.month_start(index + 1) - timedelta(days=1)
    return start, end


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_TZ)


def _rows(session: Session, actor: Actor, start: date, end: date) -> list[tuple[str, str | None, str]]:
    q: Any = select(Petition.channel, Petition.category, Petition.source).where(
        Petition.received_at >= _at(start), Petition.received_at < _at(end + timedelta(days=1))
    )
    return [(ch, cat, src) for ch, cat, src in session.execute(scope_petitions(q, actor))]


def _set_fonts(doc: Any) -> None:
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for name in ("Title", "Heading 1", "Heading 2"):
        st = doc.styles[name]
        st.font.name = "黑体"
        st.element.rPr.rFonts.set(qn("w:eastAsia"), "黑体")


def _table(doc: Any, headers: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else str(value)


def _picture(doc: Any, png: bytes) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(15))


def _change(now_n: int, before_n: int) -> str:
    if not before_n:
        return "—"
    return f"{(now_n - before_n) / before_n:+.1%}"


def monthly_report(
    session: Session, *, actor: Actor, month: int, now: datetime, county_name: str = "本县"
) -> bytes:
    """The report for month index `month` (forecast.parse_month) as .docx bytes; audited (a report is a read of
    the whole county's figures)."""
    require(actor, "analytics.read")
    start, end = _month_bounds(month)
    prev_start, prev_end = _month_bounds(month - 1)
    ly_start, ly_end = _month_bounds(month - 12)
    rows = _rows(session, actor, start, end)
    n_prev = len(_rows(session, actor, prev_start, prev_end))
    n_last_year = len(_rows(session, actor, ly_start, ly_end))
    flt = heatmap.HeatFilter(heatmap.Period(start, end))
    cells = heatmap.heat_cells(session, actor=actor, level="township", flt=flt)
    distinct = sum(c.distinct_count for c in cells)

    doc = Document()
    _set_fonts(doc)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2.2)
    doc.add_heading(f"{county_name}信访形势分析报告({start.year}年{start.month}月)", level=0)
    doc.add_paragraph(f"统计期间:{start} 至 {end}。数据来源:信访件及 12345、网格、110、部门投诉等多源记录。")

    doc.add_heading(HEADINGS[0], level=1)
    doc.add_paragraph(
        f"本月共收到信访及诉求记录 {len(rows)} 件,合并跨来源重复后为 {distinct} 个事项;"
        f"环比 {_change(len(rows), n_prev)}(上月 {n_prev} 件),同比 {_change(len(rows), n_last_year)}"
        f"(去年同月 {n_last_year} 件)。"
    )
    by_channel = Counter(ch for ch, _c, _s in rows)
    _table(
        doc,
        ["渠道", "件数", "占比"],
        [
            [
                CHANNEL_LABELS.get(Channel(ch), ch) if ch in Channel._value2member_map_ else ch,
                n,
                f"{n / len(rows):.1%}",
            ]
            for ch, n in by_channel.most_common()
        ],
    )
    by_source = Counter(src for _ch, _c, src in rows)
    doc.add_paragraph("按数据来源:" + ";".join(f"{s} {n} 件" for s, n in by_source.most_common()) + "。")

    doc.add_heading(HEADINGS[1], level=1)
    by_category = Counter(c or "未分类" for _ch, c, _s in rows)
    _table(
        doc,
        ["内容分类", "件数", "占比"],
        [[c, n, f"{n / len(rows):.1%}"] for c, n in by_category.most_common()],
    )
    if by_category:
        common = by_category.most_common()
        _picture(
            doc, charts.bar_chart([c for c, _ in common], [n for _, n in common], title="本月信访内容分类")
        )

    doc.add_heading(HEADINGS[2], level=1)
    ranked = sorted(cells, key=lambda c: -c.count)
    _table(
        doc,
        ["乡镇", "件数", "去重事项", "人口", "每万人件数"],
        [[c.name, c.count, c.distinct_count, c.population, c.rate_per_10k] for c in ranked],
    )
    _picture(doc, heatmap.render_map(cells, level="township", flt=flt, fmt="png"))

    doc.add_heading(HEADINGS[3], level=1)
    matters = list_hot_matters(
        session,
        actor=actor,
        query=MatterQuery(_at(start), _at(end + timedelta(days=1)), min_size=2, limit=10),
        now=min(now, _at(end + timedelta(days=1))),
    )
    if matters:
        _table(
            doc,
            ["事项", "件数", "信访人数", "涉及地区", "趋势", "热度"],
            [
                [
                    m["label"],
                    m["size"],
                    m["distinct_petitioners"],
                    "、".join(m["places"][:3]),
                    m["trend"],
                    m["heat"],
                ]
                for m in matters
            ],
        )
    else:
        doc.add_paragraph("本月未形成两件以上的热点事项。")

    doc.add_heading(HEADINGS[4], level=1)
    fc = forecast.forecast_month(session, actor=actor, target=month + 1, today=end)
    per_cat: dict[str, list[float]] = {}
    for r in fc["rows"]:
        agg = per_cat.setdefault(r["category"], [0.0, 0, 0])
        agg[0] += r["expected"]
        agg[1] += r["low"]
        agg[2] += r["high"]
    doc.add_paragraph(f"下月({fc['month']})各类信访预计件数及 90% 区间(按乡镇区间相加,偏保守):")
    _table(
        doc,
        ["内容分类", "预测件数", "区间"],
        [
            [c, round(v[0], 1), f"{int(v[1])}–{int(v[2])}"]
            for c, v in sorted(per_cat.items(), key=lambda kv: -kv[1][0])
        ],
    )
    history = [len(_rows(session, actor, *_month_bounds(m))) for m in range(month - 11, month + 1)]
    months = [f"{forecast.month_start(m):%Y-%m}" for m in range(month - 11, month + 2)]
    total_expected = sum(v[0] for v in per_cat.values())
    _picture(
        doc,
        charts.line_chart(
            months,
            {"实际": [*history, float("nan")], "预测": [float("nan")] * 12 + [total_expected]},
            title="近12个月信访量与下月预测",
        ),
    )

    doc.add_heading(HEADINGS[5], level=1)
    if can(actor, "analytics.key_petitioners"):
        people = list_key_petitioners(
            session, actor=actor, start_at=_at(start), end_at=_at(end + timedelta(days=1)), now=now
        )
        kinds = Counter(k for p in people for k in p["kinds"])
        doc.add_paragraph(
            f"本月涉及重点人员 {len(people)} 人(重复信访 {kinds['repeat']} 人、越级信访 {kinds['skip_level']} 人、"
            f"集体访组织者 {kinds['group_organiser']} 人)。名单见系统“重点人员”页面(按权限查看)。"
        )
    else:
        doc.add_paragraph("(当前角色无权查看重点人员统计。)")
    doc.add_paragraph("注:本报告由系统自动生成,演示环境中的数据为合成的演示数据。")

    audit.record(
        session,
        actor=actor,
        action="analytics.report.monthly",
        at=now,
        object_type="report",
        details={"month": f"{start:%Y-%m}", "petitions": len(rows)},
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
