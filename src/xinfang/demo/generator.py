"""A deterministic, synthetic petition history for the demo county (演示数据).

Why synthetic: the demo, the analytics backtests and the routing tests need a year of realistic petitions
with known answers (which department, which matter, where a surge began) and no real person's data. Everything
is drawn from one seeded random.Random: no database, no network, no clock, no global state, so one seed always
gives the same history.

Shape of the history:
- matters arise per template as a Poisson process whose rate follows the month (wage arrears before Spring
  Festival, enrolment in summer, floods in the plum-rain season ...);
- each raised petition picks a channel, and is kept with a probability that depends on the channel and the day
  (visits and letters hardly happen on weekends and holidays; the hotline never closes);
- some matters come back (same petitioner, weeks later, often escalating to a visit or a higher-level
  assignment);
- some are raised by groups (集体访: headcount of 5 or more, at most 5 representatives);
- three local surges with known start day and place are injected for alert backtests.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from xinfang.cases.enums import Channel
from xinfang.cases.schemas import MAX_REPRESENTATIVES, LocationIn, PetitionerIn, PetitionIn
from xinfang.clock import CHINA_TZ
from xinfang.demo import people, templates
from xinfang.demo.county import DemoCounty, Township, Village, load_demo_county
from xinfang.demo.templates import TOWNSHIP, MatterTemplate

# Sources written on feed records: they match the intake profiles (12345 work orders, grid reports).
SOURCE_HOTLINE = "12345"
SOURCE_GRID = "grid"
SOURCE_UPPER = "upper_bureau"  # 上级信访部门交办
SOURCES_SYSTEM = ("gov_portal", "mayor_mailbox")  # 政府网站留言, 市长信箱

# Lunar new year's day; the wage-arrears peak and the longest holiday hang on it.
SPRING_FESTIVAL = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

CHANNEL_WEIGHTS: dict[Channel, float] = {
    Channel.ONLINE: 0.26,
    Channel.HOTLINE: 0.27,
    Channel.VISIT: 0.15,
    Channel.LETTER: 0.08,
    Channel.PHONE: 0.08,
    Channel.GRID: 0.07,
    Channel.ASSIGNED: 0.05,
    Channel.SYSTEM: 0.04,
}
# Accusations go to letters and the online system; the hotline does not take them.
ACCUSATION_WEIGHTS: dict[Channel, float] = {
    Channel.LETTER: 0.35,
    Channel.ONLINE: 0.35,
    Channel.VISIT: 0.1,
    Channel.ASSIGNED: 0.1,
    Channel.PHONE: 0.05,
    Channel.SYSTEM: 0.05,
}
# Probability of keeping a raised petition, by kind of day: offices are closed at weekends and on holidays.
_KEEP_WORKDAY = (1.0, 0.95, 0.9, 0.9, 0.85)  # Monday .. Friday
_KEEP_WEEKEND: dict[Channel, float] = {
    Channel.VISIT: 0.08,
    Channel.LETTER: 0.05,
    Channel.ASSIGNED: 0.03,
    Channel.SYSTEM: 0.3,
    Channel.PHONE: 0.25,
    Channel.ONLINE: 0.7,
    Channel.HOTLINE: 0.8,
    Channel.GRID: 0.4,
}
_KEEP_HOLIDAY_FACTOR = 0.6  # on top of the weekend factor
# Calibrates the template rates to about 1,800 records a year at scale 1 (a county of ~300,000 people).
_RATE_FACTOR = 1.2

_TRADITIONAL = str.maketrans(
    "问题资发县这没们请处决万钱门时区对长为给说话经过还", "問題資發縣這沒們請處決萬錢門時區對長為給說話經過還"
)
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Surge:
    """An injected local surge: the ground truth that alert methods are backtested against."""

    key: str
    kind: str  # "wage" | "estate" | "pollution"
    township_code: str
    village_code: str | None
    start_on: date  # local date of the first record
    end_on: date  # local date of the last planned record
    department: str
    category: str
    size: int  # number of records it contributes (all inside the window)
    description: str  # short Chinese label for the demo UI


@dataclass(frozen=True)
class DemoRecord:
    """One generated petition plus what the generator knows about it (the 'answers' for tests and demos)."""

    petition: PetitionIn
    expected_department: str  # a code from departments.yaml, or a township division code (属地管理)
    category: str  # top-level content class, one of templates.CATEGORIES
    matter_key: str  # shared by all records about one matter (repeats, surge records)
    petitioner_key: str | None  # the main petitioner; shared across that person's petitions
    template_key: str
    kind: str  # "complaint" | "suggestion" | "accusation"
    township_code: str
    received_on: date  # local (China) date of receipt
    is_surge: bool = False
    surge: Surge | None = None
    is_repeat: bool = False  # a later petition on a matter already raised
    is_group: bool = False
    has_legal_channel: bool = False  # text says the matter is in arbitration, court or reconsideration
    has_risk_signal: bool = False  # text threatens escalation (去北京上访, 拉横幅 ...)
    has_noise: bool = False  # traditional characters, full-width digits or \\n\\t padding


@dataclass
class _Matter:
    key: str
    template: MatterTemplate
    township: Township
    village: Village
    slots: dict[str, str]
    since_on: date  # when the trouble began, rendered relative to each petition's date
    person: people.Person
    address: str
    variant: int = 0  # which title (and, unless the template mixes, which story) this matter tells
    is_group: bool = False
    group_size: int = 1
    has_legal: bool = False
    has_risk: bool = False
    surge: Surge | None = None
    times: int = 0
    last_on: date | None = None


@dataclass
class _Draft:
    """A record before ids are numbered: ids follow receipt order, so they are assigned after sorting."""

    received_at: datetime
    channel: Channel
    title: str
    body: str
    petitioners: list[PetitionerIn]
    location: LocationIn
    headcount: int | None
    source: str | None
    upper_due_on: date | None
    matter: _Matter
    is_repeat: bool
    has_noise: bool
    extra: dict[str, object] = field(default_factory=dict)


# ---- public API -----------------------------------------------------------------------------------------


def generate_history(
    *,
    seed: int = 2026,
    end: date,
    months: int = 12,
    county: DemoCounty | None = None,
    scale: float = 1.0,
    surges: bool = True,
) -> list[DemoRecord]:
    """Generate `months` months of petitions ending on `end` (inclusive), sorted by receipt time.

    `scale` multiplies the daily rates (0.1 for a quick test, 3 for a load demo); surge sizes scale too but
    stay large enough to be visible. The same arguments always return the same records.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if scale <= 0:
        raise ValueError("scale must be positive")
    county = county or load_demo_county()
    rng = random.Random(seed)
    start = _months_before(end, months) + timedelta(days=1)
    state = _State(rng=rng, county=county, start=start, end=end)
    _generate_background(state, scale=scale)
    if surges:
        for surge_kind in ("wage", "estate", "pollution"):
            _inject_surge(state, surge_kind, scale=scale)
    return _finalise(state)


def surges_of(records: Iterable[DemoRecord]) -> list[Surge]:
    """The distinct surges present in a history, by start date."""
    found = {r.surge.key: r.surge for r in records if r.surge is not None}
    return sorted(found.values(), key=lambda s: (s.start_on, s.key))


HOTLINE_HEADERS = (
    "工单编号",
    "来电时间",
    "来电人",
    "联系电话",
    "身份证号",
    "诉求类型",
    "诉求标题",
    "诉求内容",
    "所属乡镇",
    "详细地址",
)


def hotline_rows(records: Iterable[DemoRecord], *, county: DemoCounty | None = None) -> list[dict[str, str]]:
    """The hotline records of a history as a 12345 work-order export: one dict per row, Chinese headers.

    Values are strings as an export would hold them (local time, empty string for missing values).
    """
    county = county or load_demo_county()
    names = {t.code: t.name for t in county.townships}
    rows: list[dict[str, str]] = []
    for record in records:
        p = record.petition
        if p.channel != Channel.HOTLINE:
            continue
        caller = p.petitioners[0] if p.petitioners else None
        local = p.received_at.astimezone(CHINA_TZ) if p.received_at else None
        rows.append(
            {
                "工单编号": p.external_id or "",
                "来电时间": local.strftime("%Y-%m-%d %H:%M:%S") if local else "",
                "来电人": caller.name if caller else "",
                "联系电话": (caller.phone or "") if caller else "",
                "身份证号": (caller.id_number or "") if caller else "",
                "诉求类型": {"suggestion": "建议", "accusation": "举报"}.get(record.kind, "投诉"),
                "诉求标题": p.title,
                "诉求内容": p.body,
                "所属乡镇": names.get(record.township_code, ""),
                "详细地址": (p.location.address or "") if p.location else "",
            }
        )
    return rows


def generate_hotline_rows(
    *,
    seed: int = 2026,
    end: date,
    months: int = 1,
    county: DemoCounty | None = None,
    scale: float = 1.0,
) -> list[dict[str, str]]:
    """A sample 12345 export: the hotline part of a generated history (for sample import files and tests)."""
    county = county or load_demo_county()
    history = generate_history(seed=seed, end=end, months=months, county=county, scale=scale)
    return hotline_rows(history, county=county)


def rows_to_csv_bytes(
    rows: list[dict[str, str]], *, headers: Iterable[str] = HOTLINE_HEADERS, encoding: str = "gb18030"
) -> bytes:
    """Write rows as CSV bytes in the given encoding (GB18030 by default, as county systems export)."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(headers), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


# ---- state and calendar -----------------------------------------------------------------------------------


@dataclass
class _State:
    rng: random.Random
    county: DemoCounty
    start: date
    end: date
    drafts: list[_Draft] = field(default_factory=list)
    follow_ups: dict[date, list[_Matter]] = field(default_factory=lambda: defaultdict(list))
    seq: int = 0

    def next_key(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq:05d}"


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def spring_festival(year: int) -> date:
    """Lunar new year's day for the years the demo covers (an approximate mid-value outside the table)."""
    return SPRING_FESTIVAL.get(year, date(year, 2, 5))


def is_holiday(day: date) -> bool:
    """Approximate public holidays (New Year, Spring Festival week, Qingming, May Day, National Day).

    Good enough to thin demo traffic; the statutory calendar with 调休 lives with the deadline rules.
    """
    sf = spring_festival(day.year)
    if sf - timedelta(days=1) <= day <= sf + timedelta(days=5):
        return True
    return (day.month, day.day) in {(1, 1), (4, 4), (4, 5), (5, 1), (5, 2), (5, 3)} or (
        day.month == 10 and day.day <= 7
    )


def _keep_probability(channel: Channel, day: date) -> float:
    weekday = day.weekday()
    keep = _KEEP_WORKDAY[weekday] if weekday < 5 else _KEEP_WEEKEND[channel]
    if is_holiday(day):
        keep = min(keep, _KEEP_WEEKEND[channel]) * _KEEP_HOLIDAY_FACTOR
    return keep


def _season_factor(template: MatterTemplate, day: date) -> float:
    factor = template.season[day.month - 1]
    if template.season is templates.WAGES:
        # The last month before Spring Festival is when unpaid workers need their money most.
        days_to_festival = (spring_festival(day.year) - day).days
        if 0 < days_to_festival <= 30:
            factor *= 1.5
    return factor


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; the daily rates here are small (< 5), so it is exact and quick."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _weighted(rng: random.Random, weights: Mapping[Channel, float]) -> Channel:
    channels = list(weights)
    return rng.choices(channels, weights=[weights[c] for c in channels])[0]


# ---- background process -----------------------------------------------------------------------------------


def _generate_background(state: _State, *, scale: float) -> None:
    day = state.start
    while day <= state.end:
        for matter in state.follow_ups.pop(day, []):
            _raise_follow_up(state, matter, day)
        for template in templates.TEMPLATES:
            lam = template.rate * _RATE_FACTOR * scale * _season_factor(template, day)
            for _ in range(_poisson(state.rng, lam)):
                _raise_new_matter(state, template, day)
        day += timedelta(days=1)


def _raise_new_matter(state: _State, template: MatterTemplate, day: date) -> None:
    rng = state.rng
    weights = ACCUSATION_WEIGHTS if template.kind == "accusation" else CHANNEL_WEIGHTS
    matter = _new_matter(state, template, day)
    channel = Channel.VISIT if matter.is_group and rng.random() < 0.6 else _weighted(rng, weights)
    if rng.random() > _keep_probability(channel, day):
        return
    _add_draft(state, matter, channel, day, is_repeat=False)
    _plan_follow_ups(state, matter, day)


def _plan_follow_ups(state: _State, matter: _Matter, day: date) -> None:
    """Unresolved matters come back: a share of petitioners write or visit again weeks later."""
    rng = state.rng
    chance = 0.25 if (matter.is_group or matter.has_legal) else 0.12
    if matter.template.kind == "suggestion" or rng.random() > chance:
        return
    when = day
    for _ in range(1 + int(rng.random() < 0.4) + int(rng.random() < 0.15)):
        when = when + timedelta(days=rng.randint(15, 80))
        if when > state.end:
            break
        state.follow_ups[when].append(matter)


def _raise_follow_up(state: _State, matter: _Matter, day: date) -> None:
    rng = state.rng
    escalation = {
        Channel.VISIT: 0.35,
        Channel.ONLINE: 0.2,
        Channel.HOTLINE: 0.15,
        Channel.PHONE: 0.1,
        Channel.LETTER: 0.08,
        Channel.ASSIGNED: 0.12,
    }
    channel = _weighted(rng, escalation)
    day = _next_workday(day) if channel in (Channel.VISIT, Channel.LETTER, Channel.ASSIGNED) else day
    if day > state.end:
        return
    _add_draft(state, matter, channel, day, is_repeat=True)


def _next_workday(day: date) -> date:
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return day


# ---- matters: place, people, slots ------------------------------------------------------------------------


def _pick_township(state: _State, template: MatterTemplate) -> Township:
    rng, county = state.rng, state.county
    if template.urban and rng.random() < 0.75:
        return county.seat
    return rng.choices(county.townships, weights=[t.population for t in county.townships])[0]


def _pick_village(rng: random.Random, township: Township) -> Village:
    if not township.villages:
        # A county file without villages: stand the township in for its own village.
        return Village(township.code, "", township.lng, township.lat, township.population)
    return rng.choices(township.villages, weights=[v.population for v in township.villages])[0]


def _new_matter(
    state: _State,
    template: MatterTemplate,
    day: date,
    *,
    township: Township | None = None,
    village: Village | None = None,
    slots: dict[str, str] | None = None,
    surge: Surge | None = None,
) -> _Matter:
    rng = state.rng
    township = township or _pick_township(state, template)
    village = village or _pick_village(rng, township)
    person = people.make_person(rng, key=state.next_key("P"), on=day)
    is_group = rng.random() < template.group_share
    group_size = _group_size(rng) if is_group else 1
    matter_slots = dict(slots) if slots else _slots(rng, township, village, group_size)
    matter_slots["self_name"] = person.name
    return _Matter(
        key=surge.key if surge else state.next_key("M"),
        template=template,
        township=township,
        village=village,
        slots=matter_slots,
        since_on=day - timedelta(days=rng.randint(30, 400)),
        person=person,
        address=_home_address(rng, state.county, township, village, matter_slots, template.urban),
        variant=rng.randrange(len(template.titles)),
        is_group=is_group,
        group_size=group_size,
        has_legal=template.legal is not None and rng.random() < 0.12,
        has_risk=rng.random() < (0.1 if is_group else 0.015),
        surge=surge,
    )


def _group_size(rng: random.Random) -> int:
    """Group sizes are skewed: mostly 5–20 people, sometimes dozens."""
    return min(120, 5 + int(rng.expovariate(1 / 12)))


def _about(n: int) -> str:
    return f"{n // 10 * 10}多" if n >= 20 else str(n)


def _slots(rng: random.Random, township: Township, village: Village, group_size: int) -> dict[str, str]:
    workers = group_size if group_size > 1 else rng.randint(5, 60)
    return {
        "township": township.name,
        "village": village.name or township.name,
        "place": township.name + village.name,
        "estate": rng.choice(templates.ESTATE_HEADS) + rng.choice(templates.ESTATE_TAILS),
        "company": "将乐县" + rng.choice(templates.COMPANY_HEADS) + rng.choice(templates.COMPANY_TRADES),
        "project": rng.choice(templates.COMPANY_HEADS) + rng.choice(templates.PROJECTS),
        "boss": rng.choice(people.SURNAMES[:40]) + rng.choice(("某", "某某")),
        "official": rng.choice(templates.OFFICIAL_TITLES) + rng.choice(people.SURNAMES[:40]) + "某",
        "amount": _amount(rng),
        "money_small": f"{rng.randrange(2, 40) * 50}元",
        "months": str(rng.randint(2, 9)),
        "years": str(rng.randint(2, 16)),
        "age": str(rng.randint(35, 86)),
        "n": str(rng.randint(2, 6)),
        "area": str(rng.choice((3, 5, 8, 12, 20, 36, 50, 80))),
        "households": f"{_about(workers)}户" + rng.choice(("村民", "人家", "居民")),
        "workers": _about(workers),
        "school": rng.choice(
            (f"{township.name}中心小学", f"{township.name}中学", "县实验小学", "县第一中学", "县第三中学")
        ),
        "hospital": rng.choice(("县总医院", "县中医院", f"{township.name}卫生院")),
        "road": rng.choice(
            (f"{township.name}{rng.choice(templates.STREETS)}", f"{township.name}至{village.name}的村道")
        ),
        "shop": township.name + rng.choice(templates.SHOPS),
        "goods": rng.choice(templates.GOODS),
        "year": str(rng.randint(1975, 2008)),
        "building": str(rng.randint(1, 18)),
    }


def _amount(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"{rng.randint(12, 380) / 10:.1f}万元"
    return f"{rng.randrange(30, 990) * 10}元"


def _home_address(
    rng: random.Random,
    county: DemoCounty,
    township: Township,
    village: Village,
    slots: Mapping[str, str],
    urban: bool,
) -> str:
    if urban:
        unit = f"{rng.randint(1, 4)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        return f"{county.name}{township.name}{slots['estate']}{slots['building']}栋{unit}"
    return f"{county.name}{township.name}{village.name}{rng.randint(1, 160)}号"


# ---- one petition -----------------------------------------------------------------------------------------


def _add_draft(state: _State, matter: _Matter, channel: Channel, day: date, *, is_repeat: bool) -> None:
    rng = state.rng
    matter.times += 1
    title, body = _compose(rng, matter, channel, day, is_repeat=is_repeat)
    body, has_noise = _add_noise(rng, body)
    petitioners, headcount = _petitioners(state, matter, channel, day)
    state.drafts.append(
        _Draft(
            received_at=_received_at(rng, channel, day),
            channel=channel,
            title=title[:200],
            body=body,
            petitioners=petitioners,
            location=_location(rng, matter),
            headcount=headcount,
            source=_source(rng, channel),
            upper_due_on=day + timedelta(days=rng.choice((15, 30, 30, 60)))
            if channel == Channel.ASSIGNED
            else None,
            matter=matter,
            is_repeat=is_repeat,
            has_noise=has_noise,
        )
    )
    matter.last_on = day


class _Slots(dict[str, str]):
    """format_map helper: an unknown slot stays visible instead of raising, so a typo shows in review."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _when(since: date, on: date) -> str:
    if since.year == on.year:
        return f"今年{since.month}月"
    if since.year == on.year - 1:
        return f"去年{since.month}月"
    return f"{since.year}年{since.month}月"


def _compose(
    rng: random.Random, matter: _Matter, channel: Channel, day: date, *, is_repeat: bool
) -> tuple[str, str]:
    template = matter.template
    slots = _Slots(matter.slots, when=_when(matter.since_on, day))
    title = template.titles[matter.variant].format_map(slots)
    if is_repeat and rng.random() < 0.6:
        title = rng.choice(("再次反映", "再次", "多次反映：")) + title
    facts = _facts(rng, template, matter.variant)
    # Grid workers report what they saw; the petitioner's self-introduction does not belong in their report.
    parts = [*([] if channel == Channel.GRID else [rng.choice(template.intros)]), *facts]
    if is_repeat and matter.last_on is not None:
        prev = f"{matter.last_on.month}月{matter.last_on.day}日"
        parts.append(rng.choice(templates.FOLLOW_UPS).format(prev=prev, times=_chinese_count(matter.times)))
    if matter.has_legal and template.legal:
        parts.append(rng.choice(templates.LEGAL_SENTENCES[template.legal]))
    if matter.has_risk:
        parts.append(rng.choice(templates.RISK_SENTENCES))
    demand = rng.choice(template.demands)
    text = "".join(parts).format_map(slots)
    demand = demand.format_map(slots)
    return title, _frame(rng, channel, text, demand, matter)


def _facts(rng: random.Random, template: MatterTemplate, variant: int) -> list[str]:
    """The story of the chosen title, plus up to two facts that fit any title of the template."""
    if template.mix:
        return rng.sample(template.facts, k=min(len(template.facts), rng.randint(2, 3)))
    own = [template.facts[variant]] if variant < len(template.facts) else []
    general = template.facts[len(template.titles) :]
    return own + rng.sample(general, k=min(len(general), rng.randint(0, 2)))


def _chinese_count(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)


def _frame(rng: random.Random, channel: Channel, text: str, demand: str, matter: _Matter) -> str:
    """Operators and grid workers write in the third person; petitioners write letters in the first."""
    if channel == Channel.HOTLINE:
        lead = rng.choice(("来电人反映：", "市民来电反映：", "来电反映："))
        return f"{lead}{_third_person(text)}诉求：{demand}"
    if channel == Channel.GRID:
        who = rng.choice(("网格员巡查发现", "网格员收到群众反映", "网格员走访了解到"))
        return f"{who}：{_third_person(text)}群众希望{demand.lstrip('请要求希望恳')}已上报。"
    if channel == Channel.ASSIGNED:
        return f"上级信访部门交办：{text}{demand}"
    greeting = rng.choice(templates.GREETINGS)
    return f"{greeting}{text}{demand}{rng.choice(templates.CLOSINGS)}"


def _third_person(text: str) -> str:
    return text.replace("我们", "他们").replace("本人", "来电人").replace("我", "其")


def _add_noise(rng: random.Random, body: str) -> tuple[str, bool]:
    """Real files carry traditional characters, full-width digits and \\n\\t padding; a few records do too."""
    roll = rng.random()
    if roll < 0.02:
        return body.translate(_TRADITIONAL), True
    if roll < 0.04:
        return body.translate(_FULLWIDTH_DIGITS), True
    if roll < 0.07:
        cut = body.find("。") + 1 or len(body) // 2
        return body[:cut] + "\n\t\n\t" + body[cut:], True
    return body, False


def _received_at(rng: random.Random, channel: Channel, day: date) -> datetime:
    if channel in (Channel.VISIT, Channel.PHONE, Channel.LETTER, Channel.ASSIGNED, Channel.SYSTEM):
        minute = rng.choice((rng.randint(510, 690), rng.randint(870, 1050)))  # office hours
    elif channel == Channel.GRID:
        minute = rng.randint(480, 1080)
    elif channel == Channel.HOTLINE:
        minute = int(min(1439, max(0, rng.gauss(840, 220))))
    else:
        minute = int(min(1439, max(0, rng.gauss(1200, 240)))) if rng.random() < 0.5 else rng.randint(0, 1439)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randint(0, 59)), tzinfo=CHINA_TZ)
    return local.astimezone(UTC)


def _source(rng: random.Random, channel: Channel) -> str | None:
    return {
        Channel.HOTLINE: SOURCE_HOTLINE,
        Channel.GRID: SOURCE_GRID,
        Channel.ASSIGNED: SOURCE_UPPER,
        Channel.SYSTEM: rng.choice(SOURCES_SYSTEM),
    }.get(channel)


def _location(rng: random.Random, matter: _Matter) -> LocationIn:
    township, village = matter.township, matter.village
    precise = bool(village.name) and rng.random() < 0.8
    if matter.template.urban:
        address = f"{township.name}{matter.slots['estate']}"
    else:
        address = f"{township.name}{village.name}"
    return LocationIn(
        division_code=village.code if precise else township.code,
        address=address,
        lng=round(village.lng + rng.gauss(0, 0.004), 5),
        lat=round(village.lat + rng.gauss(0, 0.004), 5),
    )


def _petitioners(
    state: _State, matter: _Matter, channel: Channel, day: date
) -> tuple[list[PetitionerIn], int | None]:
    """Who signs, and how many come: individuals, anonymous callers, or a group with its representatives."""
    rng = state.rng
    main = matter.person
    if channel in (Channel.HOTLINE, Channel.PHONE) and rng.random() < 0.25:
        anonymous = PetitionerIn(name=people.courtesy_name(main), phone=main.phone)
        return [anonymous], None
    if channel == Channel.GRID and rng.random() < 0.5:
        return [], (matter.group_size if matter.is_group else None)
    if not matter.is_group:
        return [_petitioner_in(rng, main, matter.address, channel)], (1 if channel == Channel.VISIT else None)
    listed = [main] + [
        people.make_person(rng, key=f"{matter.key}-g{i}", on=day)
        for i in range(min(matter.group_size, 8) - 1)
    ]
    is_visit = channel == Channel.VISIT
    result = [
        _petitioner_in(
            rng, person, matter.address, channel, is_representative=is_visit and i < MAX_REPRESENTATIVES
        )
        for i, person in enumerate(listed)
    ]
    return result, matter.group_size


def _petitioner_in(
    rng: random.Random,
    person: people.Person,
    address: str,
    channel: Channel,
    *,
    is_representative: bool = False,
) -> PetitionerIn:
    has_id = (
        channel in (Channel.VISIT, Channel.LETTER, Channel.ONLINE, Channel.ASSIGNED) or rng.random() < 0.5
    )
    return PetitionerIn(
        name=person.name,
        id_number=person.id_number if has_id else None,
        phone=person.phone if channel != Channel.LETTER or rng.random() < 0.6 else None,
        address=address,
        is_representative=is_representative,
    )


# ---- surges -----------------------------------------------------------------------------------------------


_SURGE_SHAPES = {
    # kind: (min size, max size, duration in days, shape)
    "wage": (25, 40, 10, "rising"),
    "estate": (15, 25, 12, "rising"),
    "pollution": (12, 20, 7, "decaying"),
}
_SURGE_CHANNELS: dict[Channel, float] = {
    Channel.HOTLINE: 0.35,
    Channel.ONLINE: 0.2,
    Channel.PHONE: 0.12,
    Channel.VISIT: 0.25,
    Channel.GRID: 0.05,
    Channel.LETTER: 0.03,
}


def _surge_start(state: _State, kind: str, duration: int) -> date:
    """Where each surge sits: wages before Spring Festival, pollution in summer, the estate in between."""
    rng, start, end = state.rng, state.start, state.end
    latest = end - timedelta(days=duration)
    if latest <= start:
        return start
    candidates: list[date] = []
    if kind == "wage":
        for year in (start.year, end.year):
            candidates.append(spring_festival(year) - timedelta(days=rng.randint(20, 35)))
    elif kind == "pollution":
        for year in (start.year, end.year):
            candidates.append(date(year, 7, 1) + timedelta(days=rng.randint(0, 45)))
    inside = [d for d in candidates if start <= d <= latest]
    if inside:
        return inside[-1]
    fraction = {"wage": 0.55, "estate": 0.35, "pollution": 0.75}[kind]
    return start + timedelta(days=int((latest - start).days * fraction) + rng.randint(-10, 10))


def _inject_surge(state: _State, kind: str, *, scale: float) -> None:
    rng = state.rng
    low, high, duration, shape = _SURGE_SHAPES[kind]
    template = templates.SURGE_TEMPLATES[kind]
    size = max(low // 2, round(rng.randint(low, high) * min(1.0, max(scale, 0.5))))
    start_on = max(
        state.start, min(_surge_start(state, kind, duration), state.end - timedelta(days=duration))
    )
    township = state.county.seat if kind == "estate" else _surge_township(state)
    village = _pick_village(rng, township)
    slots = _slots(rng, township, village, rng.randint(60, 150))
    surge = Surge(
        key=f"S-{kind}-{start_on:%Y%m%d}",
        kind=kind,
        township_code=township.code,
        village_code=village.code if village.name else None,
        start_on=start_on,
        end_on=min(state.end, start_on + timedelta(days=duration - 1)),
        department=template.department,
        category=template.category,
        size=size + 1,  # the voices plus the group visit that ends the surge
        description={
            "wage": f"{slots['company']}欠薪集中反映",
            "estate": f"{slots['estate']}停水停梯集中反映",
            "pollution": f"{village.name or township.name}河段污染集中反映",
        }[kind],
    )
    days = _surge_days(rng, surge, size, shape)
    voices: list[_Matter] = []
    for day in days:
        if voices and rng.random() < 0.2:
            matter = rng.choice(voices)  # the same worker calls again
            is_repeat = True
        else:
            matter = _new_matter(
                state, template, day, township=township, village=village, slots=slots, surge=surge
            )
            matter.is_group, matter.group_size = False, 1
            voices.append(matter)
            is_repeat = False
        channel = _weighted(rng, _SURGE_CHANNELS)
        if channel in (Channel.VISIT, Channel.LETTER) and (day.weekday() >= 5 or is_holiday(day)):
            channel = Channel.HOTLINE
        _add_draft(state, matter, channel, day, is_repeat=is_repeat)
    _add_surge_group_visit(state, voices, days)


def _surge_days(rng: random.Random, surge: Surge, size: int, shape: str) -> list[date]:
    span = (surge.end_on - surge.start_on).days + 1
    weights = [i + 1 for i in range(span)] if shape == "rising" else [span - i for i in range(span)]
    offsets = sorted(rng.choices(range(span), weights=weights, k=size - 1))
    return [surge.start_on, *(surge.start_on + timedelta(days=o) for o in offsets)]


def _add_surge_group_visit(state: _State, voices: list[_Matter], days: list[date]) -> None:
    """The surge culminates in a group visit (集体访) on a working day near its end."""
    if not voices:
        return
    rng = state.rng
    day = _next_workday(days[-1])
    if day > state.end:
        day = days[-1]
    leader = voices[0]
    leader.is_group, leader.group_size = True, rng.randint(12, 45)
    _add_draft(state, leader, Channel.VISIT, day, is_repeat=True)


def _surge_township(state: _State) -> Township:
    others = [t for t in state.county.townships if t.code != state.county.seat.code] or list(
        state.county.townships
    )
    return state.rng.choice(others)


# ---- finishing --------------------------------------------------------------------------------------------


def _finalise(state: _State) -> list[DemoRecord]:
    drafts = sorted(state.drafts, key=lambda d: (d.received_at, d.matter.key))
    counters: dict[tuple[str, date], int] = defaultdict(int)
    records = []
    for draft in drafts:
        received_on = draft.received_at.astimezone(CHINA_TZ).date()
        external_id = _external_id(draft, received_on, counters)
        records.append(_record(draft, received_on, external_id))
    return records


def _external_id(draft: _Draft, on: date, counters: dict[tuple[str, date], int]) -> str | None:
    if draft.source is None:
        return None
    counters[(draft.source, on)] += 1
    n = counters[(draft.source, on)]
    if draft.source == SOURCE_HOTLINE:
        return f"JL{on:%Y%m%d}{n:04d}"
    if draft.source == SOURCE_GRID:
        return f"WG-{draft.matter.township.code}-{on:%Y%m%d}-{n:03d}"
    if draft.source == SOURCE_UPPER:
        return f"SMXF{on:%Y%m%d}{n:03d}"
    return f"{draft.source.upper()}-{on:%Y%m%d}-{n:03d}"


def _record(draft: _Draft, received_on: date, external_id: str | None) -> DemoRecord:
    matter = draft.matter
    template = matter.template
    department = matter.township.code if template.department == TOWNSHIP else template.department
    petition = PetitionIn(
        channel=draft.channel,
        title=draft.title,
        body=draft.body,
        received_at=draft.received_at,
        petitioners=draft.petitioners,
        location=draft.location,
        headcount=draft.headcount,
        source=draft.source,
        external_id=external_id,
        upper_due_on=draft.upper_due_on,
    )
    return DemoRecord(
        petition=petition,
        expected_department=department,
        category=template.category,
        matter_key=matter.key,
        petitioner_key=matter.person.key,
        template_key=template.key,
        kind=template.kind,
        township_code=matter.township.code,
        received_on=received_on,
        is_surge=matter.surge is not None,
        surge=matter.surge,
        is_repeat=draft.is_repeat,
        is_group=matter.is_group and (draft.headcount or 0) >= 5,
        has_legal_channel=matter.has_legal and template.legal is not None,
        has_risk_signal=matter.has_risk,
        has_noise=draft.has_noise,
    )
