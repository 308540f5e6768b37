"""案件评查: pure review rules for one case (no database, no clock). A screening aid for reviewers, not a verdict.

Input is a `CaseView` (petition text and demand, the reply and its structured fields, clocks, events, documents,
evaluation, repeat and review signals); output is a `Review`: a score 0..100 and findings
`{rule, ok, evidence, weight}`. A rule that does not apply to the case (no extension taken, no review requested,
no structured outcome ...) produces no finding and takes no part in the score.

Score = 100 × (sum of the weights of the passed findings) / (sum of the weights of the applicable findings),
rounded. The weights say how much a failure should move a case up the reviewers' queue:

| rule | weight | why this much |
|---|---|---|
| procedure.deadlines | 15 | a statutory limit missed is an objective, serious failure (the 三率 count it too) |
| procedure.notices | 10 | a legal act without its written notice leaves the petitioner without the document they are owed |
| procedure.extension | 5 | approval and reason are formalities of one step; their absence is rarer and narrower |
| procedure.review_right | 5 | the decision must tell the petitioner of 复查 within 30 days; the decision template prints it |
| procedure.diversion | 5 | 诉访分离: a text with litigation/arbitration signals handled on the petition track deserves a look; the |
| | | signal is a cue-word heuristic, so its weight is small |
| procedure.termination | 5 | 三级终结: a repeat of a matter final after 复核 must be refused with a 不再受理告知书 |
| reply.answers_demand | 20 | the heart of 评查: does the reply address what was asked (key points of the demand found in it) |
| reply.facts | 10 | 事实清楚: the reply states what was found (调查/核实 cues, concrete dates and amounts) |
| reply.decision | 10 | 处理恰当: a decision (支持 / 解释说明 / 不予支持 or its free-text equivalent) is given |
| reply.legal_basis | 10 | 适用依据: a named law, regulation, policy document or article, or at least "根据…规定/政策" |
| reply.specific | 10 | a reply that could answer any petition (near-template, generic words only) is perfunctory |
| reply.consistent | 10 | the stated outcome and the wording agree (支持 but the text refuses is a defect of the decision) |
| timing.reply_limit | 15 | imported history only (no clocks): days from message to reply vs the 60-day handling limit |
| outcome.evaluation | 5 | the petitioner's 不满意 is a signal, not proof: small weight |
| outcome.repeat | 5 | the same matter petitioned again after conclusion suggests it was not resolved |
| outcome.review | 10 | a 复查/复核 that changed the outcome shows the first decision did not hold |

Honesty notes (see also the closing figures in the report): the text rules are cue-word and term-overlap
heuristics. They cannot judge whether the facts are true or the law correctly applied, only whether the reply
*contains* facts, a decision and a basis and talks about what was asked. Quoted restatements of the petition's
title are removed before matching, so echoing the title does not count as answering it. Evidence never holds the
petition or reply text, only short key terms, counts, rule names and dates.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import rjieba

from xinfang.cases.deadlines import Rule, is_duty
from xinfang.cases.notices import OUTCOMES, NoticeKind
from xinfang.cases.workflow import TABLE, Action
from xinfang.text.entities import find_money, find_organisations, find_persons
from xinfang.text.normalize import normalise_text
from xinfang.text.signals import extract_demand
from xinfang.text.similarity import SimilarityIndex, shingles

RULES_VERSION = "review-rules-1"
PASS_THRESHOLD = 60  # a case scoring below this is "below threshold" in the unit quality figures
REPLY_LIMIT_DAYS = 60  # 信访工作条例: handle and reply within 60 days

WEIGHTS: Mapping[str, int] = {
    "procedure.deadlines": 15,
    "procedure.notices": 10,
    "procedure.extension": 5,
    "procedure.review_right": 5,
    "procedure.diversion": 5,
    "procedure.termination": 5,
    "reply.answers_demand": 20,
    "reply.facts": 10,
    "reply.decision": 10,
    "reply.legal_basis": 10,
    "reply.specific": 10,
    "reply.consistent": 10,
    "timing.reply_limit": 15,
    "outcome.evaluation": 5,
    "outcome.repeat": 5,
    "outcome.review": 10,
}
RULE_LABELS: Mapping[str, str] = {
    "procedure.deadlines": "各环节在法定期限内完成",
    "procedure.notices": "应出具的书面告知均已出具",
    "procedure.extension": "延期经批准并说明理由",
    "procedure.review_right": "告知复查权利",
    "procedure.diversion": "诉访分离(导入法定途径)",
    "procedure.termination": "三级终结后不再受理",
    "reply.answers_demand": "答复回应了核心诉求",
    "reply.facts": "写明查明的事实",
    "reply.decision": "作出处理决定",
    "reply.legal_basis": "写明法律或政策依据",
    "reply.specific": "答复具体(非套话模板)",
    "reply.consistent": "处理结果与答复内容一致",
    "timing.reply_limit": "在60日内答复",
    "outcome.evaluation": "信访人评价",
    "outcome.repeat": "办结后未就同一事项重复信访",
    "outcome.review": "复查/复核未改变处理结果",
}

MAX_KEY_POINTS = 8
ANSWER_COVERAGE = 0.4  # share of the demand's key points the reply must mention (or ANSWER_MIN_FOUND of them)
ANSWER_MIN_FOUND = 3
IMPLICIT_EXPLANATION_TERMS = 20  # a substantive reply without any decision cue is read as an explanation
MAX_TERM_CHARS = 12  # longer "terms" are cut to this in evidence


# ---- the case view --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    rule: str
    start_on: date
    due_on: date
    closed_on: date | None = None
    closed_by_action: str | None = None
    extension_days: int = 0


@dataclass(frozen=True)
class EventView:
    kind: str  # the workflow action (forward, accept, reply, ...) or "registered"
    on: date
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentView:
    kind: str  # NoticeKind value
    action: str  # the action that issued it


@dataclass(frozen=True)
class CaseView:
    """Everything the rules read about one case. `formal` = a 处理意见书 under the regulation (a stored case, or an
    import declared formal); an online message's reply (`formal=False`) is not held to the review-right statement.

    The reply is `reply_text` (free text) and/or the structured `outcome`/`facts`/`opinion`/`legal_basis`.
    `repeat_after_conclusion` counts later petitions on the same matter; `review_outcomes` lists the outcomes of the
    decision and of any 复查/复核 decisions in order (a change means the decision was overturned).
    """

    id: Any
    title: str = ""
    body: str = ""
    demand: str | None = None
    reply_text: str = ""
    outcome: str | None = None
    facts: str | None = None
    opinion: str | None = None
    legal_basis: str | None = None
    received_on: date | None = None
    replied_on: date | None = None
    status: str | None = None
    formal: bool = False
    with_procedure: bool = False  # clocks/events/documents are known (a stored case)
    today: date | None = None
    clocks: Sequence[ClockView] = ()
    events: Sequence[EventView] = ()
    documents: Sequence[DocumentView] = ()
    evaluation: str | None = None
    repeat_after_conclusion: int = 0
    review_outcomes: Sequence[str] = ()
    legal_channel_signal: str | None = None  # routing's 诉访分离 signal at intake, if any
    repeats_final: bool = False  # the petition repeats a matter final after 复核
    reply_limit_days: int = REPLY_LIMIT_DAYS

    @property
    def full_reply(self) -> str:
        parts = [self.reply_text, self.facts or "", self.opinion or "", self.legal_basis or ""]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Finding:
    rule: str
    ok: bool
    evidence: dict[str, Any]
    weight: int

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "ok": self.ok, "evidence": self.evidence, "weight": self.weight}


@dataclass(frozen=True)
class Review:
    score: int
    findings: tuple[Finding, ...]
    version: str = RULES_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "version": self.version,
            "findings": [f.to_dict() for f in self.findings],
        }

    def finding(self, rule: str) -> Finding | None:
        return next((f for f in self.findings if f.rule == rule), None)


def score_of(findings: Iterable[Finding]) -> int:
    items = list(findings)
    total = sum(f.weight for f in items)
    if total == 0:
        return 100
    return round(100 * sum(f.weight for f in items if f.ok) / total)


def _finding(rule: str, ok: bool, **evidence: Any) -> Finding:
    return Finding(rule=rule, ok=bool(ok), evidence=evidence, weight=WEIGHTS[rule])


# ---- text helpers ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tagger() -> rjieba.Jieba:
    return rjieba.Jieba()


# Words any petition or reply uses: never a key point of a demand.
GENERIC_WORDS = frozenset(
    [
        "您好",
        "你好",
        "尊敬",
        "领导",
        "书记",
        "市长",
        "县长",
        "区长",
        "局长",
        "主任",
        "请问",
        "问题",
        "情况",
        "反映",
        "要求",
        "希望",
        "解决",
        "谢谢",
        "感谢",
        "相关",
        "部门",
        "政府",
        "有关",
        "一下",
        "现在",
        "已经",
        "目前",
        "能否",
        "是否",
        "可以",
        "怎么",
        "为什么",
        "什么",
        "时候",
        "还是",
        "一直",
        "非常",
        "严重",
        "进行",
        "关于",
        "请求",
        "恳请",
        "尽快",
        "处理",
        "存在",
        "导致",
        "我们",
        "你们",
        "他们",
        "这个",
        "那个",
        "这些",
        "那些",
        "今年",
        "去年",
        "明年",
        "现象",
        "事情",
        "事项",
        "工作",
        "答复",
        "回复",
        "留言",
        "网友",
        "来信",
        "反应",
        "了解",
        "出现",
        "发生",
        "没有",
        "不能",
        "不是",
        "就是",
        "一个",
        "一些",
        "很多",
        "许多",
        "大家",
        "本人",
        "自己",
        "如何",
        "时间",
        "地方",
        "希望",
        "帮助",
        "帮忙",
        "给予",
        "落实",
        "调查",
        "核实",
        "处理",
        "办理",
        "说明",
        "解释",
        "告知",
        "平台",
        "栏目",
        "收悉",
        "支持",
        "同意",
        "规定",
        "政策",
        "根据",
        "按照",
        "依据",
        "合理",
        "予以",
        "不予",
        "市民",
        "群众",
        "居民",
        "老百姓",
        "百姓",
        "业主",
        "村民",
        "人员",
        "单位",
        "公司",
        "有限公司",
        "街道",
        "社区",
        "区",
        "市",
        "县",
        "镇",
        "乡",
        "村",
        "小区",
        "办法",
        "有关部门",
        "相关部门",
        "严重影响",
        "影响",
        "造成",
        "作为",
        "进一步",
        "认真",
        "积极",
        "及时",
        "切实",
        "依法",
        "依规",
        "能够",
        "应该",
        "需要",
        "必须",
        "一定",
        "希望政府",
        "麻烦",
        "望",
        "盼",
        "诉求",
        "投诉",
        "举报",
        "反馈",
        "咨询",
        "询问",
        "情况下",
        "以来",
        "以后",
        "之前",
        "之后",
        "期间",
        "当中",
        "其中",
        "以及",
        "并且",
        "而且",
        "但是",
        "因为",
        "所以",
        "如果",
        "虽然",
        "即使",
        "期望",
        "为民",
        "做主",
        "主持",
        "公道",
        "安心",
        "生活",
        "祥和",
        "和谐",
        "出面",
        "督促",
        "着手",
        "管管",
        "理解",
        "决定",
        "行为",
        "工作人员",
        "不合理",
        "合理",
        "合法",
        "权益",
        "保障",
        "维护",
        "重视",
        "关注",
        "关心",
        "监督",
        "答复",
        "回应",
        "给予",
        "还给",
        "尽早",
        "早日",
        "彻底",
        "根本",
        "实际",
        "真正",
        "正常",
        "不要",
        "不想",
        "不敢",
        "不会",
        "只能",
        "告诉",
        "知道",
        "认为",
        "觉得",
        "发现",
        "看到",
        "听说",
        "表示",
        "说明",
        "请示",
        "报告",
        "方便",
        "不便",
        "麻烦",
        "困难",
        "办事",
        "实事",
        "百姓",
        "人民",
        "老百姓",
    ]
)
_KEY_TAGS = ("n", "nz", "ns", "nt", "vn", "v", "eng", "j", "l", "an", "i")
_DIGITS = re.compile(r"\d")
_SHORT_NUMBER = re.compile(r"^\d{2,4}[路号线栋期]?$")  # a bus line or building number: a key point, never PII
_ORG_PREFIX = re.compile(r"^(投诉|反映|举报|关于|请求|要求|希望|建议|咨询)*([A-Z]\d*(市|县|区))?")
_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{2,80})[”\"」』’]")


def content_terms(text: str, *, tags: tuple[str, ...] = _KEY_TAGS) -> list[str]:
    """Content words of `text` in order (nouns, verbs, names of things), without generic petition words,
    person names, numbers or anything with a digit (no ID/phone fragments can become a key point)."""
    clean = normalise_text(text)
    persons = {e.text for e in find_persons(clean)}
    out: list[str] = []
    for word, tag in _tagger().tag(clean, True):
        w = word.strip()
        if len(w) < 2 or w in GENERIC_WORDS or tag == "nr":
            continue
        if _DIGITS.search(w) and not _SHORT_NUMBER.match(w):
            continue
        if not (tag.startswith(tags) or _SHORT_NUMBER.match(w)) or any(w in p or p in w for p in persons):
            continue
        out.append(w)
    return out


_NOUN_TAGS = ("n", "nz", "ns", "nt", "vn", "eng", "j")
_ORG_CUT = re.compile(r".*(反映|投诉|举报|关于|请求|要求|希望|建议|咨询|称|说)")


def _org_name(text: str) -> str:
    """An organisation entity without what its left extension swallowed: cue verbs before it, a coded place
    prefix ("A市"), and leading words tagged as person names (a name must never become a key point)."""
    t = _ORG_PREFIX.sub("", _ORG_CUT.sub("", text.strip()))
    tokens = _tagger().tag(t, True)
    while tokens and tokens[0][1] == "nr":
        tokens = tokens[1:]
    if any(tag == "nr" for _, tag in tokens):
        return ""
    return "".join(w for w, _ in tokens)


def key_points(
    title: str, demand: str | None, *, limit: int = MAX_KEY_POINTS, common: frozenset[str] = frozenset()
) -> list[str]:
    """The demand's key points: named estates/organisations and amounts of money, then the content terms of the
    title (which summarises the matter), then the nouns of the demand sentence; without terms `common` to many
    petitions; at most `limit`."""
    terms: list[str] = []
    clean = normalise_text("。".join(s for s in (title, demand or "") if s))
    persons = {e.text for e in find_persons(clean)}
    for e in find_organisations(clean):
        t = _org_name(e.text)
        if 2 <= len(t) <= MAX_TERM_CHARS and not any(p in t for p in persons):
            terms.append(t)
    terms += [e.text for e in find_money(clean) if len(e.text) <= MAX_TERM_CHARS]
    terms += content_terms(title)
    if demand:
        terms += content_terms(demand, tags=_NOUN_TAGS)
    seen: list[str] = []
    for t in terms:
        if t in common or t in seen or any(t in s or s in t for s in seen):
            continue
        seen.append(t)
    return seen[:limit]


def strip_echo(reply: str, title: str) -> str:
    """Remove quoted restatements of the petition's title from the reply ("反映“…”的问题"), so that echoing the
    petition does not count as answering it."""
    if not title:
        return reply
    t = normalise_text(title)
    t_sh = shingles(t)

    def repl(m: re.Match[str]) -> str:
        inner = normalise_text(m.group(1))
        if inner in t or t in inner:
            return "“”"
        sh = shingles(inner)
        if sh and t_sh and len(sh & t_sh) / len(sh | t_sh) >= 0.4:
            return "“”"
        return m.group(0)

    out = _QUOTED.sub(repl, normalise_text(reply))
    return out.replace(t, "") if len(t) >= 4 else out


def _mentions(term: str, text: str) -> bool:
    if term in text:
        return True
    if len(term) >= 3:
        grams = {term[i : i + 2] for i in range(len(term) - 1)}
        return sum(g in text for g in grams) / len(grams) >= 2 / 3
    return False


def _short(term: str) -> str:
    return term if len(term) <= MAX_TERM_CHARS else term[:MAX_TERM_CHARS] + "…"


# ---- cue vocabularies (free-text equivalents of the regulation's outcomes, basis and facts) --------------------

SUPPORT = re.compile(
    r"(予以支持|给予支持|(?<![不未])同意(?!见)|已(经)?(全部|基本)?(解决|整改|处理完毕|落实|修复|维修|修缮|清理|拆除|退还|"
    r"发放|支付|补发|安装|恢复|纠正|查处|处罚|取缔|关停|疏通|更换|硬化|办结)|责令|限期(整改|改正|拆除)|"
    r"列入.{0,8}(计划|规划|项目)|纳入.{0,8}(计划|规划|项目|范围)|符合.{0,12}条件|可以(享受|申请|办理|领取)|将(尽快|于|在)|"
    r"采纳|考虑.{0,4}建议|已(要求|责成|安排|通知|督促|协调|派|组织|约谈|下达)|将(加强|督促|安排|组织|协调|进一步)|"
    r"要求.{0,20}(整改|处理|调控|落实|加强|改进|规范|停止|拆除)|督促.{0,12}(整改|落实|处理|履行))"
)
REFUSE = re.compile(
    r"(不予支持|不予受理|不予采纳|不予办理|不予认定|不予批准|不符合|不属于|不能(享受|办理|申请|支持|满足|领取|认定)|"
    r"无法(满足|办理|支持|认定|实现)|不具备|暂不|不予|不在.{0,8}范围|不属实|评判无误|合法合规|并无不当)"
)
EXPLAIN = re.compile(
    r"(解释|说明(?!书)|望.{0,6}(理解|知晓|谅解|支持)|敬请.{0,4}(理解|谅解)|建议您|您可(以)?(向|到|拨打|咨询|通过|携带)|"
    r"请您.{0,8}(向|到|联系|咨询|通过|携带|拨打)|可(向|到|拨打|咨询)|具体如下|政策规定|告知|详询|咨询电话|是指|"
    r"需(要)?(提供|携带|办理|符合|满足)|应当.{0,10}(向|到|提供|办理|由))"
)
EXPLICIT_OUTCOME = {
    "支持": re.compile(r"(?<![不未])(予以支持|给予支持)"),
    "不予支持": re.compile(r"不予支持"),
    "解释说明": re.compile(r"(作出解释说明|作解释说明|予以解释说明)"),
}
FACT_CUES = re.compile(
    r"(经查|经调查|经核查|经核实|经了解|经现场|经实地|经排查|经检查|经检测|经监测|调查(了解|核实|发现|情况|处理)|核实|查明|"
    r"现场(查看|勘查|调查|核查|检查|踏勘)|实地(查看|调查|核查|走访|察看)|走访|据了解|了解到|检查发现|调查发现|"
    r"经与.{0,12}(联系|沟通|核实|对接)|情况如下|如下情况)"
)
SPECIFIC_FACT = re.compile(
    r"(\d{4}年\d{1,2}月(\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d+(\.\d+)?(万)?元|\d+(\.\d+)?(平方米|米|公里|户|人|名|辆|吨|亩|套|栋))"
)
_LAW_NAME = re.compile(r"《([^》]{2,40})》")
_LAW_SUFFIX = re.compile(
    r"(法|条例|办法|规定|细则|意见|通知|决定|标准|规划|方案|规范|政策|纲要|规则|解释|批复|目录|规程|准则|制度|公告|"
    r"通告|指南|指引|实施|暂行|试行\)|试行）|问答)$|法\(|条例\(|办法\(|规定\("
)
_NOT_LAW = re.compile(r"(问政|栏目|平台|日报|晚报|新闻|报告|信箱|热线|网站)")
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")
_GENERIC_BASIS = re.compile(
    r"(根据|按照|依据|依照|按|依|遵照|参照|对照)[^，。；,;]{0,16}(法律|法规|规章|规定|条例|办法|政策|文件|标准|精神|要求|细则|法)"
)
REVIEW_RIGHT = re.compile(r"(复查|复核|行政复议|30日内|三十日内|30天内|三十天内)")


def classify_decision(text: str) -> tuple[str | None, dict[str, int]]:
    """The decision a free-text reply gives: an explicit label first; else refusal cues win over support cues
    (a refusal usually comes with an explanation of what is possible), support over explanation."""
    counts = {
        "support": len(SUPPORT.findall(text)),
        "refuse": len(REFUSE.findall(text)),
        "explain": len(EXPLAIN.findall(text)),
    }
    explicit = [label for label, pat in EXPLICIT_OUTCOME.items() if pat.search(text)]
    if len(explicit) == 1:
        return explicit[0], counts
    if counts["refuse"]:
        return "不予支持", counts
    if counts["support"]:
        return "支持", counts
    if counts["explain"]:
        return "解释说明", counts
    return None, counts


def basis_terms(text: str) -> tuple[list[str], list[str]]:
    """(explicit references: named instruments 《…》 with a legal suffix and article numbers, generic references
    such as "按照相关规定"). Names of laws are public, not personal: they may appear in evidence (shortened)."""
    explicit: list[str] = []
    for m in _LAW_NAME.finditer(text):
        name = m.group(1)
        if _LAW_SUFFIX.search(name) and not _NOT_LAW.search(name):
            explicit.append(_short(f"《{name}》"))
    explicit += [m.group() for m in _ARTICLE.finditer(text)]
    generic = [m.group(2) for m in _GENERIC_BASIS.finditer(text)]
    return list(dict.fromkeys(explicit)), list(dict.fromkeys(generic))


# ---- a corpus of replies: boilerplate reference ---------------------------------------------------------------

# Our own examples of replies that could answer anything; they anchor "generic" when no other replies are known.
GENERIC_REPLIES = (
    "您好，您反映的问题已收悉，我们已转交相关部门处理，请耐心等待。感谢您对我们工作的关心和支持。",
    "感谢您的来信。您所反映的情况我们高度重视，已责成有关部门认真调查处理，处理结果将及时反馈。",
    "网友您好，您的留言已收悉，相关部门正在研究处理中，感谢您的理解与支持。",
    "您好！您反映的问题我们已经了解，将进一步加强管理，切实维护群众合法权益，谢谢您的监督。",
    "您反映的问题已转交属地政府办理，请您与当地政府联系。感谢您对我市工作的关注。",
    "您好，关于您反映的问题，我们将认真研究，积极协调，妥善处理，感谢您的关心和支持。",
)


@dataclass
class ReplyCorpus:
    """Replies of many cases: the document frequencies that tell common words from specific ones, a TF-IDF
    centroid of all replies, and a near-duplicate index (different petitions answered by (nearly) the same text).

    Built once per batch (the CLI: the file; the service: the stored replies); `GENERIC_REPLIES` are always part
    of it, so a single case can be judged too.
    """

    near_duplicate: float = 0.8
    df: Counter[str] = field(default_factory=Counter)
    n_docs: int = 0
    centroid: dict[str, float] = field(default_factory=dict)
    petition_df: Counter[str] = field(default_factory=Counter)
    n_petitions: int = 0
    _index: SimilarityIndex | None = None
    _titles: dict[Any, str] = field(default_factory=dict)
    _petitions: dict[Any, set[str]] = field(default_factory=dict)
    _common_petition: frozenset[str] | None = None

    @classmethod
    def build(cls, items: Iterable[tuple[Any, str, str, str]], *, near_duplicate: float = 0.8) -> ReplyCorpus:
        """items: (case id, petition title, petition body, reply text)."""
        corpus = cls(near_duplicate=near_duplicate)
        docs: list[list[str]] = []
        index = SimilarityIndex(threshold=near_duplicate)
        for i, generic in enumerate(GENERIC_REPLIES):
            docs.append(content_terms(generic))
            index.add(("generic", i), generic)
        petitions = 0
        for case_id, title, body, reply in items:
            text = strip_echo(reply, title)
            docs.append(content_terms(text))
            if len(text) >= 20:
                index.add(case_id, text)
            corpus._titles[case_id] = title
            corpus._petitions[case_id] = shingles(f"{title}{body}")
            corpus.petition_df.update(set(content_terms(f"{title}。{body}")))
            petitions += 1
        corpus.n_petitions = petitions
        corpus._index = index
        corpus.n_docs = len(docs)
        for d in docs:
            corpus.df.update(set(d))
        total: dict[str, float] = {}
        for d in docs:
            vec = corpus.vector(d)
            for k, v in vec.items():
                total[k] = total.get(k, 0.0) + v / len(docs)
        corpus.centroid = dict(total)
        return corpus

    def common_petition_terms(self) -> frozenset[str]:
        """Terms in at least 10% of the petitions (and 20 of them): words of any petition, not of this one."""
        if self._common_petition is None:
            cut = max(20.0, 0.1 * self.n_petitions)
            self._common_petition = frozenset(t for t, c in self.petition_df.items() if c >= cut)
        return self._common_petition

    def idf(self, term: str) -> float:
        return math.log((1 + self.n_docs) / (1 + self.df.get(term, 0))) + 1

    def vector(self, terms: Sequence[str]) -> dict[str, float]:
        tf = Counter(terms)
        vec = {t: (1 + math.log(c)) * self.idf(t) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def centroid_similarity(self, terms: Sequence[str]) -> float:
        vec = self.vector(terms)
        dot = sum(v * self.centroid.get(t, 0.0) for t, v in vec.items())
        norm = math.sqrt(sum(v * v for v in self.centroid.values())) or 1.0
        return dot / norm

    def common(self, term: str) -> bool:
        """Used by at least 5% of the replies (or any generic example): the vocabulary of boilerplate."""
        return self.df.get(term, 0) >= max(2, 0.05 * self.n_docs)

    def twins(self, case_id: Any, title: str, petition: str, reply: str) -> list[tuple[Any, float]]:
        """Other cases, about a different matter (titles and petition texts differ), whose reply is (nearly)
        this one, or one of the generic examples."""
        if self._index is None or len(reply) < 20:
            return []
        mine = shingles(f"{title}{petition}")
        out: list[tuple[Any, float]] = []
        for other, sim in self._index.query(reply, limit=8):
            if other == case_id or sim < self.near_duplicate:
                continue
            if isinstance(other, tuple):
                out.append((other, sim))
                continue
            theirs = self._petitions.get(other, set())
            same_text = bool(mine and theirs) and len(mine & theirs) / len(mine | theirs) >= 0.3
            if not same_text and _title_similarity(title, self._titles.get(other, "")) < 0.5:
                out.append((other, sim))
        return out


def _title_similarity(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


_DEFAULT_CORPUS: ReplyCorpus | None = None


def default_corpus() -> ReplyCorpus:
    global _DEFAULT_CORPUS
    if _DEFAULT_CORPUS is None:
        _DEFAULT_CORPUS = ReplyCorpus.build(())
    return _DEFAULT_CORPUS


# ---- reply content rules --------------------------------------------------------------------------------------


def answers_demand(case: CaseView, reply: str, corpus: ReplyCorpus) -> Finding | None:
    demand = case.demand
    if demand is None and case.body:
        found = extract_demand(normalise_text(case.body))
        demand = found["text"] if found else None
    points = key_points(case.title, demand, common=corpus.common_petition_terms())
    if not points:
        return None
    hit = [p for p in points if _mentions(p, reply)]
    miss = [p for p in points if p not in hit]
    coverage = len(hit) / len(points)
    return _finding(
        "reply.answers_demand",
        bool(hit) and (coverage >= ANSWER_COVERAGE or len(hit) >= ANSWER_MIN_FOUND),
        found=[_short(p) for p in hit],
        missing=[_short(p) for p in miss],
        coverage=round(coverage, 2),
        threshold=ANSWER_COVERAGE,
        demand_found=demand is not None,
    )


def states_facts(case: CaseView, reply: str) -> Finding:
    cues = [m.group() for m in FACT_CUES.finditer(reply)]
    specifics = len(SPECIFIC_FACT.findall(reply))
    structured = bool(case.facts and len(case.facts.strip()) >= 8)
    return _finding(
        "reply.facts",
        structured or bool(cues) or specifics >= 2,
        fact_cues=sorted(set(cues))[:5],
        specific_details=specifics,
        structured_facts=structured,
    )


def gives_decision(case: CaseView, reply: str) -> Finding:
    if case.outcome:
        return _finding("reply.decision", case.outcome in OUTCOMES, outcome=case.outcome, source="structured")
    label, counts = classify_decision(reply)
    source = "text"
    if (
        label is None
        and len(set(content_terms(reply))) >= IMPLICIT_EXPLANATION_TERMS
        and (FACT_CUES.search(reply) or len(SPECIFIC_FACT.findall(reply)) >= 2 or any(basis_terms(reply)))
    ):
        # Informative replies (policy answers to questions) explain without saying so: read as 解释说明.
        label, source = "解释说明", "implicit"
    return _finding("reply.decision", label is not None, outcome=label, source=source, cues=counts)


def gives_basis(case: CaseView, reply: str) -> Finding:
    explicit, generic = basis_terms(reply)
    structured = bool(case.legal_basis and case.legal_basis.strip())
    if structured:
        s_explicit, _ = basis_terms(case.legal_basis or "")
        explicit = list(dict.fromkeys(explicit + s_explicit))
        level = "explicit" if explicit else "stated"
    else:
        level = "explicit" if explicit else ("generic" if generic else "none")
    return _finding(
        "reply.legal_basis",
        level != "none",
        level=level,
        references=explicit[:5],
        generic_references=len(generic),
    )


def is_specific(case: CaseView, reply: str, corpus: ReplyCorpus) -> Finding:
    terms = content_terms(reply)
    distinct = set(terms)
    petition_terms = set(content_terms(f"{case.title}。{case.body}")) if (case.title or case.body) else set()
    overlap = len(distinct & petition_terms) / len(distinct) if distinct else 0.0
    specific_terms = [t for t in distinct if not corpus.common(t)]
    specific_share = len(specific_terms) / len(distinct) if distinct else 0.0
    centroid = corpus.centroid_similarity(terms) if terms else 1.0
    twins = corpus.twins(case.id, case.title, case.body, reply)
    reasons = []
    if len(distinct) < 4:
        reasons.append("too_short")
    if twins and (specific_share < 0.5 or overlap < 0.1):
        reasons.append("near_template")
    if overlap < 0.1 and specific_share < 0.35:
        reasons.append("generic_wording")
    return _finding(
        "reply.specific",
        not reasons,
        reasons=reasons,
        content_terms=len(distinct),
        petition_overlap=round(overlap, 2),
        specific_share=round(specific_share, 2),
        centroid_similarity=round(centroid, 2),
        near_duplicates=len(twins),
        max_duplicate_similarity=round(max((s for _, s in twins), default=0.0), 2),
    )


def is_consistent(case: CaseView, reply: str) -> Finding | None:
    _, counts = classify_decision(reply)
    explicit = [label for label, pat in EXPLICIT_OUTCOME.items() if pat.search(reply)]
    if case.outcome:
        text = "\n".join(p for p in (case.reply_text, case.opinion or "", case.facts or "") if p)
        _, counts = classify_decision(normalise_text(text))
        explicit = [label for label, pat in EXPLICIT_OUTCOME.items() if pat.search(text)]
        conflict = None
        if any(e != case.outcome for e in explicit):
            conflict = "explicit_label_differs"
        elif case.outcome == "支持" and counts["refuse"] and not counts["support"]:
            conflict = "supported_but_text_refuses"
        elif case.outcome == "不予支持" and counts["support"] and not counts["refuse"]:
            conflict = "refused_but_text_grants"
        return _finding(
            "reply.consistent", conflict is None, outcome=case.outcome, conflict=conflict, cues=counts
        )
    if len(explicit) > 1:
        return _finding("reply.consistent", False, conflict="contradictory_labels", labels=explicit)
    return None


# ---- procedure rules (stored cases) ---------------------------------------------------------------------------


def deadlines(case: CaseView) -> Finding | None:
    duty = [c for c in case.clocks if is_duty(c.rule) and c.closed_by_action != "extend"]
    if not duty:
        return None
    late = []
    for c in duty:
        if c.closed_on is not None and c.closed_on > c.due_on:
            late.append(
                {"rule": c.rule, "due_on": c.due_on.isoformat(), "days_late": (c.closed_on - c.due_on).days}
            )
        elif c.closed_on is None and case.today is not None and case.today > c.due_on:
            late.append(
                {
                    "rule": c.rule,
                    "due_on": c.due_on.isoformat(),
                    "days_late": (case.today - c.due_on).days,
                    "open": True,
                }
            )
    return _finding("procedure.deadlines", not late, steps=len(duty), late=late)


def _expected_notice(event: EventView, repeats_final: bool) -> tuple[str, ...]:
    try:
        step = TABLE[Action(event.kind)]
    except ValueError:
        return ()
    if step.notice is None:
        return ()
    if step.notice_waivable and event.details.get("petitioner_unreachable"):
        return ()
    if step.action is Action.REFUSE:
        return (NoticeKind.REFUSAL.value, NoticeKind.FINAL_REFUSAL.value)
    return (step.notice.value,)


def notices(case: CaseView) -> Finding | None:
    issued = Counter((d.action, d.kind) for d in case.documents)
    expected = 0
    missing = []
    for e in case.events:
        kinds = _expected_notice(e, case.repeats_final)
        if not kinds:
            continue
        expected += 1
        hit = next((k for k in kinds if issued[(e.kind, k)] > 0), None)
        if hit is None:
            missing.append({"action": e.kind, "notice": kinds[0], "on": e.on.isoformat()})
        else:
            issued[(e.kind, hit)] -= 1
    if not expected:
        return None
    return _finding("procedure.notices", not missing, expected=expected, missing=missing)


def extension(case: CaseView) -> Finding | None:
    extends = [e for e in case.events if e.kind == Action.EXTEND.value]
    if not extends:
        return None
    problems = []
    for e in extends:
        if not str(e.details.get("approver") or "").strip():
            problems.append("no_approver")
        if not str(e.details.get("reason") or "").strip():
            problems.append("no_reason")
        days = e.details.get("days")
        if isinstance(days, int) and days > 30:
            problems.append("over_30_days")
    replaced = [c for c in case.clocks if c.rule == Rule.HANDLE.value and c.closed_by_action == "extend"]
    if any(c.closed_on and c.closed_on > c.due_on for c in replaced):
        problems.append("extended_after_due")
    if len(extends) > 1:
        problems.append("extended_more_than_once")
    return _finding("procedure.extension", not problems, extensions=len(extends), problems=problems)


def review_right(case: CaseView, reply: str) -> Finding | None:
    if not case.formal:
        return None
    if case.with_procedure:
        decisions = [e for e in case.events if e.kind in (Action.REPLY.value, Action.REVIEW_REPLY.value)]
        if not decisions:
            return None
        # The packaged 处理意见书/复查意见书 templates print the 30-day review right; the notice itself is the proof.
        issued = {d.action for d in case.documents if d.kind in ("decision", "review_decision")}
        missing = [e.kind for e in decisions if e.kind not in issued]
        return _finding(
            "procedure.review_right", not missing, decisions=len(decisions), without_notice=missing
        )
    if not reply:
        return None
    cues = sorted({m.group() for m in REVIEW_RIGHT.finditer(reply)})
    return _finding("procedure.review_right", bool(cues), cues=cues)


def diversion(case: CaseView) -> Finding | None:
    diverted = [e for e in case.events if e.kind == Action.DIVERT.value]
    if diverted:
        named = all(str(e.details.get("legal_channel") or "").strip() for e in diverted)
        return _finding("procedure.diversion", named, diverted=True, legal_channel_named=named)
    if case.legal_channel_signal and any(e.kind == Action.REPLY.value for e in case.events):
        return _finding(
            "procedure.diversion",
            False,
            diverted=False,
            signal=case.legal_channel_signal,
            note="文本含法定途径信号但按信访程序办理，请核实是否应导入法定途径",
        )
    return None


def termination(case: CaseView) -> Finding | None:
    if not case.repeats_final:
        return None
    accepted = any(e.kind == Action.ACCEPT.value for e in case.events)
    final_notice = any(d.kind == NoticeKind.FINAL_REFUSAL.value for d in case.documents)
    return _finding(
        "procedure.termination",
        final_notice and not accepted,
        accepted=accepted,
        final_refusal_notice=final_notice,
    )


def reply_timing(case: CaseView) -> Finding | None:
    if case.with_procedure:
        return None  # the clocks judge stored cases
    if case.received_on is None or case.replied_on is None:
        return _finding(
            "timing.reply_limit",
            False,
            problem="date_missing",
            received_on=case.received_on.isoformat() if case.received_on else None,
            replied_on=case.replied_on.isoformat() if case.replied_on else None,
        )
    days = (case.replied_on - case.received_on).days
    problem = "reply_before_message" if days < 0 else ("late" if days > case.reply_limit_days else None)
    return _finding(
        "timing.reply_limit",
        problem is None,
        days=days,
        limit_days=case.reply_limit_days,
        received_on=case.received_on.isoformat(),
        replied_on=case.replied_on.isoformat(),
        problem=problem,
    )


# ---- outcome signals ------------------------------------------------------------------------------------------


def evaluation(case: CaseView) -> Finding | None:
    if not case.evaluation:
        return None
    return _finding("outcome.evaluation", case.evaluation != "不满意", evaluation=case.evaluation)


def repeat(case: CaseView) -> Finding | None:
    if case.status != "concluded" and not case.repeat_after_conclusion:
        return None
    return _finding(
        "outcome.repeat",
        case.repeat_after_conclusion == 0,
        repeats_after_conclusion=case.repeat_after_conclusion,
    )


def review_outcome(case: CaseView) -> Finding | None:
    if len(case.review_outcomes) < 2:
        return None
    first = case.review_outcomes[0]
    changed = [o for o in case.review_outcomes[1:] if o != first]
    return _finding(
        "outcome.review",
        not changed,
        decision=first,
        later=list(case.review_outcomes[1:]),
        overturned=bool(changed),
    )


# ---- the whole review -----------------------------------------------------------------------------------------


def review_case(case: CaseView, *, corpus: ReplyCorpus | None = None) -> Review:
    """Run every rule that applies to `case`; findings in a stable order (procedure, reply, timing, outcome)."""
    corpus = corpus or default_corpus()
    raw_reply = case.full_reply
    reply = strip_echo(raw_reply, case.title) if raw_reply else ""
    found: list[Finding | None] = []
    if case.with_procedure:
        found += [deadlines(case), notices(case), extension(case), diversion(case), termination(case)]
    found.append(review_right(case, normalise_text(raw_reply)))
    if raw_reply.strip() or case.outcome:
        found += [
            answers_demand(case, reply, corpus),
            states_facts(case, reply),
            gives_decision(case, reply),
            gives_basis(case, normalise_text(raw_reply)),
            is_specific(case, reply, corpus),
            is_consistent(case, reply),
        ]
    found += [reply_timing(case), evaluation(case), repeat(case), review_outcome(case)]
    findings = tuple(f for f in found if f is not None)
    return Review(score=score_of(findings), findings=findings)


def completeness_verdict(review: Review) -> bool | None:
    """完整性 (is the reply complete): it answers the demand, states facts and gives a decision."""
    parts = [review.finding(r) for r in ("reply.answers_demand", "reply.facts", "reply.decision")]
    if all(p is None for p in parts):
        return None
    return all(p is None or p.ok for p in parts)


def explainability_verdict(review: Review) -> bool | None:
    """可解释性 (does the reply explain): it gives a basis, or its facts are concrete, and it is not boilerplate."""
    basis, facts, specific = (
        review.finding(r) for r in ("reply.legal_basis", "reply.facts", "reply.specific")
    )
    if basis is None and facts is None:
        return None
    grounded = bool(
        (basis and basis.ok) or (facts and facts.ok and facts.evidence.get("specific_details", 0) >= 2)
    )
    return grounded and not (specific is not None and not specific.ok)
