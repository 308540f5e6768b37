"""Core demand (诉求), matter kind, legal channel (诉访分离) and risk signals: cue-word rules with evidence.

Why rules: each decision must show the clerk *why* (the triggering words and where they are), the cue
vocabulary
is small and stable, and rules cost microseconds. Every result carries its triggers with spans of the text
given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_DEMAND_CUE = re.compile(
    r"(强烈要求|要求|希望|请求|恳请|恳求|诉求|盼望|期望|望|请你们|请政府|请领导|请相关部门|请有关部门|请尽快|请求尽快|务必)"
)
_DEMAND_VERB = re.compile(
    r"(解决|处理|落实|核查|调查|查处|给予|帮助|帮忙|兑现|支付|发放|赔偿|补偿|整改|协调|维修|回复|退还|还)"
)
_DEMAND_MAX_CHARS = 80
_LEADING_FILLER = re.compile(r"^[,，、\s]*(特此|现|故|所以|因此|为此|在此|我们|我)?[,，\s]*")


@dataclass(frozen=True, slots=True)
class Trigger:
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (end-exclusive, without the terminator)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def extract_demand(text: str) -> dict[str, Any] | None:
    """The sentence(s) saying what the petitioner wants, shortened to one line; None if no cue is found.

    Scores sentences with a demand cue (要求/希望/请求/...), preferring those that also name an action
    (解决/赔偿/...)
    and, on ties, the later one (petitions usually end with the request).
    """
    best: tuple[int, int, int, str] | None = None
    for start, end in sentences(text):
        sentence = text[start:end]
        cue = _DEMAND_CUE.search(sentence)
        if cue is None:
            continue
        score = 2 if _DEMAND_VERB.search(sentence, cue.end()) else 1
        if best is None or score >= best[0]:
            best = (score, start + cue.start(), end, cue.group())
    if best is None:
        return None
    _, start, end, cue_word = best
    line = _LEADING_FILLER.sub("", text[start:end]).strip()
    if len(line) > _DEMAND_MAX_CHARS:
        line = line[: _DEMAND_MAX_CHARS - 1] + "…"
    return {"text": line, "start": start, "end": end, "cue": cue_word}


# --- matter kind ------------------------------------------------------------------------------------------
# -------

_ACCUSATION = re.compile(
    r"(举报|检举|控告|揭发|贪污|受贿|索贿|行贿|挪用|侵吞|套取|违纪|违法乱纪|腐败|滥用职权|玩忽职守|徇私舞弊|吃拿卡要"
    r"|以权谋私|优亲厚友|虚报冒领|私分|黑恶|保护伞)"
)
_SUGGESTION = re.compile(r"(建议|提议|献策|意见和建议|合理化|能否|是否可以|可否|呼吁)")
_OWN_INTEREST = re.compile(
    r"(我家|我的|本人|拖欠|欠薪|工资|赔偿|补偿|退还|维权|讨要|损失|被拆|被占|要求解决)"
)
MATTER_KINDS = ("建议意见", "检举控告", "申诉求决")


def _triggers(pattern: re.Pattern[str], text: str) -> list[Trigger]:
    return [Trigger(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def classify_matter_kind(text: str) -> dict[str, Any]:
    """建议意见 / 检举控告 / 申诉求决 (the default) with the words that decided it."""
    accusation = _triggers(_ACCUSATION, text)
    suggestion = _triggers(_SUGGESTION, text)
    interest = _triggers(_OWN_INTEREST, text)
    if accusation and len(accusation) >= len(interest) / 2:
        kind, triggers, reason = "检举控告", accusation, "反映对公职人员或他人违法违纪行为的检举控告"
    elif suggestion and len(suggestion) > len(interest):
        kind, triggers, reason = "建议意见", suggestion, "对工作提出建议意见,未涉及本人具体权益诉求"
    else:
        kind, triggers, reason = "申诉求决", interest, "要求解决本人(群体)具体权益问题"
    return {
        "kind": kind,
        "reason": reason + (f"(触发词:{'、'.join(sorted({t.text for t in triggers}))})" if triggers else ""),
        "triggers": [t.to_dict() for t in triggers[:10]],
    }


# --- legal channel (诉访分离) -----------------------------------------------------------------------------
# -----

# Order matters: the first channel with a trigger wins, so the more specific ones come first.
_LEGAL_CHANNELS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "enforcement",
        "法院执行",
        re.compile(
            r"(强制执行|申请执行|执行局|执行法官|执行款|执行不到位|执行难|拒不执行|终本|终结本次执行)"
        ),
    ),
    (
        "judgment",
        "已进入诉讼(判决/裁定)",
        re.compile(r"(判决书|民事判决|刑事判决|已判决|判决|裁定书|调解书|一审|二审|再审|终审|上诉|开庭)"),
    ),
    ("administrative_reconsideration", "行政复议", re.compile(r"(行政复议|复议决定|申请复议)")),
    ("administrative_litigation", "行政诉讼", re.compile(r"(行政诉讼|行政起诉)")),
    (
        "labour_arbitration",
        "劳动仲裁",
        re.compile(r"(劳动仲裁|劳动争议仲裁|劳动人事争议仲裁|仲裁委员会裁决)"),
    ),
    ("arbitration", "仲裁", re.compile(r"(仲裁)")),
    ("litigation", "诉讼", re.compile(r"(起诉|诉讼|打官司|立案|法院|原告|被告|律师函)")),
)
_NEGATION_BEFORE = re.compile(r"(没有|没|未|不想|不愿|无力|无钱|不懂|不会|无法)\s?$")


def detect_legal_channel(text: str) -> dict[str, Any] | None:
    """The legal channel the matter belongs to or is already in, or None; negated mentions ("没钱打官司") count
    as a hint only when nothing else is found, because 诉访分离 guidance still helps the clerk."""
    for channel, label, pattern in _LEGAL_CHANNELS:
        triggers = _triggers(pattern, text)
        affirmed = [t for t in triggers if not _NEGATION_BEFORE.search(text[max(0, t.start - 4) : t.start])]
        if affirmed:
            words = "、".join(sorted({t.text for t in affirmed}))
            return {
                "channel": channel,
                "label": label,
                "reason": f"文中出现“{words}”,属于或已进入{label}途径,应依法分类处理(诉访分离)",
                "triggers": [t.to_dict() for t in affirmed[:10]],
            }
    return None


# --- risk signals -----------------------------------------------------------------------------------------
# -------

_RISKS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "self_harm",
        "扬言自伤自杀",
        re.compile(
            r"(自杀|跳楼|跳河|喝农药|服毒|喝药|自焚|以死相逼|以死明志|一死了之|寻死|不想活|活不下去|死给你们看|割腕|上吊|卧轨)"
        ),
    ),
    (
        "violence",
        "扬言暴力/报复",
        re.compile(
            r"(同归于尽|报复社会|报复|杀了他|杀了你|砍死|弄死|炸了|炸掉|放火|烧了|拼命|血债血偿|鱼死网破|以暴制暴)"
        ),
    ),
    (
        "escalation",
        "越级上访倾向",
        re.compile(
            r"(进京|赴京|上京|(?:去|到|赴|上)(?:北京|中央|国家信访局|国务院|省里|省城|省委|省政府|省信访局|市里|市委|市政府|市信访局)"
            r"(?:上访|信访|反映|讨说法|告状)?|越级上访|一直上访|上访到底|告到北京|告到省里)"
        ),
    ),
    (
        "group",
        "群体性事件苗头",
        re.compile(
            r"(集体上访|集体|联名|聚集|拉横幅|打横幅|拉条幅|堵路|堵门|围堵|静坐|群体|组织.{0,6}上访|一起去.{0,6}(?:上访|讨说法)|抱团)"
        ),
    ),
    (
        "urgency",
        "情况紧急",
        re.compile(
            r"(紧急|十万火急|迫在眉睫|刻不容缓|危在旦夕|生命危险|随时(?:可能)?(?:倒塌|垮塌|坍塌)|病危|断水断电|无家可归|没饭吃|过不了年)"
        ),
    ),
)
RISK_LABELS: dict[str, str] = {code: label for code, label, _pattern in _RISKS}  # e.g. for settings pages
_GROUP_HEADCOUNT = 10


def detect_risks(text: str, *, headcounts: list[tuple[int, int, int]] | None = None) -> list[dict[str, Any]]:
    """Risk signals with triggers; a headcount of ≥10 people (start, end, count) also signals group action."""
    risks: list[dict[str, Any]] = []
    for kind, label, pattern in _RISKS:
        triggers = _triggers(pattern, text)
        if kind == "group":
            triggers += [Trigger(text[s:e], s, e) for s, e, n in (headcounts or []) if n >= _GROUP_HEADCOUNT]
        if triggers:
            risks.append(
                {
                    "type": kind,
                    "label": label,
                    "reason": f"{label}:出现“{'、'.join(sorted({t.text for t in triggers}))}”",
                    "triggers": [t.to_dict() for t in sorted(triggers, key=lambda t: t.start)[:10]],
                }
            )
    return risks
