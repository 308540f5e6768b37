"""Hot-matter clustering without a database: vectors, entity keys, and single-pass incremental assignment.

A record is a TF-IDF vector of its words (rjieba, title counted twice, the first 400 characters of the body) with
IDF from a fixed table (data/hotspots/idf.tsv, the common words of 8,128 citizen messages), so a record
can be scored against existing matters in any process without re-reading history. Its entity keys are the names of
estates, companies, schools ... found in the title and body (text.entities.find_organisations), with region prefixes
(A市, 将乐县, 万安镇) dropped.

A matter keeps the sum of its members' unit vectors (its centroid, truncated to the strongest terms) and its keys.
A new record joins the matter whose centroid is most similar (cosine) if the similarity reaches `threshold`, or
`key_threshold` when they share an entity key (one estate's parking, noise and property-fee complaints use different
words but name the same estate); otherwise it founds a new matter. Candidates come from an inverted index over each
matter's top terms and keys, so assignment costs the same however many matters exist. The same function serves the
`xinfang hotspots FILE` command (an in-memory index) and intake (matters stored in the database, hotspots.service).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from xinfang.text.entities import find_organisations
from xinfang.text.normalize import normalise_text
from xinfang.text.segment import BASE_STOPWORDS, cut, filter_tokens

BODY_CHARS = 300
TITLE_WEIGHT = 3
CENTROID_TERMS = 60  # terms kept in a matter's centroid
INDEX_TERMS = 12  # of which the strongest are indexed for candidate lookup
QUERY_TERMS = 8  # a record looks up matters by its strongest terms
THRESHOLD = 0.5
KEY_THRESHOLD = 0.3
MIN_KEY_CHARS = 3

# Words every petition uses: they carry no matter.
EXTRA_STOPWORDS = frozenset(
    [
        "反映",
        "问题",
        "请求",
        "要求",
        "希望",
        "政府",
        "相关",
        "部门",
        "领导",
        "解决",
        "处理",
        "关于",
        "咨询",
        "投诉",
        "举报",
        "建议",
        "情况",
        "我们",
        "你们",
        "他们",
        "现在",
        "目前",
        "已经",
        "没有",
        "一直",
        "可以",
        "进行",
        "尽快",
        "严重",
        "居民",
        "群众",
        "市民",
        "市",
        "区",
        "县",
        "镇",
        "乡",
        "村",
        "请",
        "能否",
        "是否",
        "为什么",
        "怎么",
        "什么",
        "如何",
        "何时",
        "一个",
        "这个",
        "这些",
        "那些",
        "但是",
        "因为",
        "所以",
        "如果",
        "还是",
        "以及",
        "非常",
        "十分",
        "特别",
        "每天",
        "不能",
        "不是",
        "不会",
        "时候",
        "您好",
        "你好",
        "谢谢",
        "加快",
        "力度",
        "步伐",
        "全覆盖",
        "刻不容缓",
        "有关",
        "何时",
        "能够",
        "需要",
        "存在",
        "导致",
        "影响",
        "正常",
        "生活",
        "严重",
        "一下",
        "一些",
        "情况",
        "事情",
    ]
)
STOPWORDS = BASE_STOPWORDS | EXTRA_STOPWORDS
_REGION_PREFIX = re.compile(r"^(?:[A-Z]\d*[市区县州]|\S{1,4}?[省市县]|\S{1,3}?(?:镇|乡|街道))+")
_CODE_TOKEN = re.compile(r"^[A-Za-z]\d*$|^\d+$")
# Coded or named regions (A市, A3区, K3县, 西地省) glue onto the next word in segmentation (市伊 + 景园): cut them out.
_REGION_CODE = re.compile(r"[A-Z]\d*[市区县州]|\S{2}省")


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """{word: idf} and the idf of an unseen word, from the shipped document-frequency table."""
    path = resources.files("xinfang") / "data" / "hotspots" / "idf.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    docs = int(lines[0].split("\t")[1])
    table = {}
    for line in lines[1:]:
        term, df = line.split("\t")
        table[term] = math.log((docs + 1) / (int(df) + 1)) + 1.0
    return table, math.log(docs + 1) + 1.0


def tokens(title: str, body: str) -> list[str]:
    title, body = _REGION_CODE.sub(" ", title), _REGION_CODE.sub(" ", body[:BODY_CHARS])
    words = filter_tokens(cut(title), STOPWORDS) * TITLE_WEIGHT
    words += filter_tokens(cut(body), STOPWORDS)
    return [w for w in words if len(w) > 1 and not _CODE_TOKEN.match(w)]


def vectorize(title: str, body: str) -> dict[str, float]:
    """Unit TF-IDF vector (sublinear tf) of a record's words."""
    idf, unseen = idf_table()
    tf = Counter(tokens(title, body))
    weights = {t: (1.0 + math.log(n)) * idf.get(t, unseen) for t, n in tf.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items()}


def entity_keys(title: str, body: str) -> set[str]:
    """Names of estates, companies, schools ... in the record, without region prefixes: what the matter is about."""
    text = _REGION_CODE.sub("。", normalise_text(f"{title}。{body[:BODY_CHARS]}"))
    keys = set()
    for entity in find_organisations(text):
        key = _REGION_PREFIX.sub("", entity.text)
        if len(key) >= MIN_KEY_CHARS:
            keys.add(key)
    return keys


def cosine(vec: dict[str, float], centroid: dict[str, float]) -> float:
    norm = math.sqrt(sum(w * w for w in centroid.values()))
    if not norm:
        return 0.0
    if len(vec) > len(centroid):
        vec, centroid = centroid, vec
    return sum(w * centroid.get(t, 0.0) for t, w in vec.items()) / norm


def top_terms(vec: dict[str, float], n: int) -> list[str]:
    return [t for t, _ in sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


@dataclass
class Record:
    """One message or petition to cluster; `person` is an opaque identity key (a blind index or user name)."""

    id: Any
    title: str
    body: str
    at: datetime | None = None
    person: str | None = None
    place: str | None = None
    vector: dict[str, float] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)

    def prepare(self) -> Record:
        if not self.vector:
            self.vector = vectorize(self.title, self.body)
            self.keys = entity_keys(self.title, self.body)
        return self


@dataclass
class Matter:
    """A cluster of records about one matter, with what its label and heat are computed from."""

    id: Any
    centroid: dict[str, float] = field(default_factory=dict)
    keys: Counter[str] = field(default_factory=Counter)
    size: int = 0
    label_title: str = ""
    label_score: float = -1.0
    member_ids: list[Any] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    persons: set[str] = field(default_factory=set)
    places: Counter[str] = field(default_factory=Counter)

    def absorb(self, record: Record) -> None:
        """Add a record: centroid sum (truncated), keys, label candidate (the title closest to the centroid)."""
        merged = Counter(self.centroid)
        merged.update(record.vector)
        self.centroid = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:CENTROID_TERMS])
        self.keys.update(record.keys)
        self.size += 1
        self.member_ids.append(record.id)
        if record.at is not None:
            self.times.append(record.at)
        if record.person:
            self.persons.add(record.person)
        if record.place:
            self.places[record.place] += 1
        score = cosine(record.vector, self.centroid)
        if score >= self.label_score or self.size <= 2:
            self.label_title, self.label_score = record.title, score

    @property
    def key_terms(self) -> list[str]:
        return top_terms(self.centroid, 5)

    @property
    def label(self) -> str:
        return self.label_title or "、".join(self.key_terms)


def score_candidates(record: Record, matters: Iterable[Matter]) -> tuple[Matter, float] | None:
    """The best matter the record may join under the thresholds, or None."""
    best: tuple[Matter, float] | None = None
    for matter in matters:
        sim = cosine(record.vector, matter.centroid)
        shares_key = bool(record.keys & set(matter.keys))
        if sim >= THRESHOLD or (shares_key and sim >= KEY_THRESHOLD):
            score = sim + (0.1 if shares_key else 0.0)
            if best is None or score > best[1]:
                best = (matter, score)
    return best


class MatterIndex:
    """In-memory incremental clustering: add() assigns one record and never revisits earlier ones."""

    def __init__(self) -> None:
        self.matters: list[Matter] = []
        self._by_term: dict[str, set[int]] = defaultdict(set)
        self._by_key: dict[str, set[int]] = defaultdict(set)
        self._indexed: list[set[str]] = []

    def candidates(self, record: Record) -> list[Matter]:
        found: set[int] = set()
        for term in top_terms(record.vector, QUERY_TERMS):
            found |= self._by_term.get(term, set())
        for key in record.keys:
            found |= self._by_key.get(key, set())
        return [self.matters[i] for i in sorted(found)]

    def add(self, record: Record) -> Matter:
        record.prepare()
        match = score_candidates(record, self.candidates(record))
        if match is None:
            matter = Matter(id=len(self.matters))
            self.matters.append(matter)
            self._indexed.append(set())
        else:
            matter = match[0]
        matter.absorb(record)
        self._reindex(matter)
        return matter

    def _reindex(self, matter: Matter) -> None:
        i = matter.id
        terms = set(top_terms(matter.centroid, INDEX_TERMS))
        for term in self._indexed[i] - terms:
            self._by_term[term].discard(i)
        for term in terms:
            self._by_term[term].add(i)
        self._indexed[i] = terms
        for key in matter.keys:
            self._by_key[key].add(i)


def trend(times: list[datetime], now: datetime, days: int = 30) -> str:
    """rising / falling / steady: the last `days` against the `days` before."""
    recent = sum(1 for t in times if 0 <= (now - t).days < days)
    before = sum(1 for t in times if days <= (now - t).days < 2 * days)
    if recent >= before * 1.5 and recent >= 2:
        return "rising"
    if before >= recent * 1.5 and before >= 2:
        return "falling"
    return "steady"


def heat(times: list[datetime], persons: int, now: datetime, *, half_life_days: float = 30.0) -> float:
    """Recency-weighted size (each record halves its weight every `half_life_days`), scaled up by how many distinct
    people raise it: a hundred messages from one person are less hot than thirty from thirty people."""
    decay = math.log(2) / half_life_days
    weight = sum(math.exp(-decay * max((now - t).total_seconds() / 86400, 0.0)) for t in times)
    return round(weight * (1.0 + math.log1p(persons)), 3)


def summary(matter: Matter, *, now: datetime) -> dict[str, Any]:
    times = sorted(matter.times)
    return {
        "label": matter.label,
        "key_terms": matter.key_terms,
        "entity_keys": [k for k, _ in matter.keys.most_common(3)],
        "size": matter.size,
        "distinct_petitioners": len(matter.persons),
        "places": [p for p, _ in matter.places.most_common(5)],
        "first_at": times[0].isoformat() if times else None,
        "last_at": times[-1].isoformat() if times else None,
        "trend": trend(times, now),
        "heat": heat(times, len(matter.persons) or 1, now),
        "ids": list(matter.member_ids),
    }


def cluster(records: Iterable[Record]) -> MatterIndex:
    """Cluster records in time order (as they would have arrived)."""
    index = MatterIndex()
    for record in sorted(records, key=lambda r: (r.at is None, r.at or datetime.min, str(r.id))):
        index.add(record)
    return index
