"""Rule-based warnings on individual records (pure: the database side hands in plain records and links).

* matter rule: ≥ 5 distinct petitioners on one matter within 7 days, in at least 3 separate petitions (a single
  joint petition with many signatures is a group petition, which the group rule covers). Matters are the
  connected groups of "same matter" links (the dispatch slice's petition_links of kind same_matter or both),
  followed through earlier petitions too (two new petitions that each repeat one old petition are one matter).
* group visit: a visit (来访) registered with a headcount of ≥ 5 (集体访); red from `red_headcount` people.
* risk signals: the dispatch analysis found self-harm or violence (red), escalation or group action (yellow) in a
  petition that has a place (township).

Petitioner identities are opaque keys (blind indexes), never names or numbers in clear. People without an ID number
or phone are distinct people: the database side keys them by their petitioner row, and a record without any
petitioner counts as one unknown person (`people_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from xinfang.analytics.warning.combine import NONE, RED, YELLOW, Signal, WarningConfig


@dataclass(frozen=True)
class RuleRecord:
    id: int
    day: date  # local date of receipt
    township_code: str | None
    category: str | None
    channel: str
    headcount: int | None = None
    petitioner_keys: tuple[str, ...] = ()
    risk_types: tuple[str, ...] = ()


@dataclass
class _UnionFind:
    parent: dict[int, int] = field(default_factory=dict)

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def matter_groups(ids: Iterable[int], links: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    """Connected components of the link graph restricted to `ids` as members (other ids only connect).
    Keyed by the smallest id of the component, so a matter keeps its key as it grows."""
    uf = _UnionFind()
    members = list(ids)
    for i in members:
        uf.find(i)
    for a, b in links:
        uf.union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in members:
        groups[uf.find(i)].append(i)
    return dict(groups)


def people_of(record: RuleRecord) -> tuple[str, ...]:
    """The record's petitioners as opaque keys; a record without any (an anonymous hotline call, a grid report
    without a name) stands for one unknown person of its own. Someone we cannot identify is not presumed to be
    someone already counted: dropping them would hide exactly the matters raised by people who give no number."""
    return record.petitioner_keys or (f"anon:{record.id}",)


def matter_rule(
    records: Sequence[RuleRecord], links: Iterable[tuple[int, int]], *, day: date, config: WarningConfig
) -> list[Signal]:
    """Matters with ≥ N distinct petitioners among their records of the last `matter_window_days` days."""
    since = day - timedelta(days=config.matter_window_days - 1)
    window = {r.id: r for r in records if since <= r.day <= day}
    signals = []
    for root, ids in matter_groups(window, links).items():
        people = {k for i in ids for k in people_of(window[i])}
        if len(people) < config.matter_min_petitioners or len(ids) < config.matter_min_petitions:
            continue
        rows = [window[i] for i in sorted(ids)]
        townships = sorted({r.township_code for r in rows if r.township_code})
        categories = [r.category for r in rows if r.category]
        signals.append(
            Signal(
                kind="rule",
                method="matter_rule",
                tier=RED,
                day=day,
                township_codes=townships,
                category=max(set(categories), key=categories.count) if categories else None,
                observed=float(len(people)),
                statistic=float(len(people)),
                threshold=float(config.matter_min_petitioners),
                window_days=config.matter_window_days,
                matter_key=f"m{root}",
                petition_ids=[r.id for r in rows],
                details={"petitions": len(rows), "distinct_petitioners": len(people)},
            )
        )
    return signals


def group_visit_rule(records: Sequence[RuleRecord], *, day: date, config: WarningConfig) -> list[Signal]:
    since = day - timedelta(days=config.rule_lookback_days - 1)
    signals = []
    for r in records:
        if not (since <= r.day <= day) or r.channel != "visit":
            continue
        n = r.headcount or 0
        if n < config.group_visit_min_headcount:
            continue
        tier = RED if n >= config.group_visit_red_headcount else YELLOW
        signals.append(
            Signal(
                kind="rule",
                method="group_visit",
                tier=tier,
                day=r.day,
                township_codes=[r.township_code] if r.township_code else [],
                category=r.category,
                observed=float(n),
                statistic=float(n),
                threshold=float(
                    config.group_visit_red_headcount if tier == RED else config.group_visit_min_headcount
                ),
                matter_key=f"p{r.id}",
                petition_ids=[r.id],
                details={"headcount": n},
            )
        )
    return signals


def risk_rule(records: Sequence[RuleRecord], *, day: date, config: WarningConfig) -> list[Signal]:
    since = day - timedelta(days=config.rule_lookback_days - 1)
    signals = []
    for r in records:
        if not (since <= r.day <= day) or not r.township_code:
            continue
        red = sorted(set(r.risk_types) & set(config.risk_red_types))
        yellow = sorted(set(r.risk_types) & set(config.risk_yellow_types))
        tier = RED if red else YELLOW if yellow else NONE
        if tier == NONE:
            continue
        signals.append(
            Signal(
                kind="rule",
                method="risk_signal",
                tier=tier,
                day=r.day,
                township_codes=[r.township_code],
                category=r.category,
                observed=1.0,
                matter_key=f"p{r.id}",
                petition_ids=[r.id],
                details={"risk_types": red + yellow},
            )
        )
    return signals
