"""One call that runs every text extractor on a petition and returns spans into the ORIGINAL text.

The source text is `title + "\\n" + body` (see `source_text`); every `start`/`end` in the result indexes
it, so the
UI can highlight without re-normalising. Nothing here touches a database or the clock: the reference date for
relative dates ("去年3月") is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xinfang.text.entities import (
    Entity,
    find_dates,
    find_headcounts,
    find_id_numbers,
    find_money,
    find_organisations,
    find_periods,
    find_persons,
    find_phones,
)
from xinfang.text.gazetteer import Gazetteer, Location
from xinfang.text.normalize import Normalised, normalise
from xinfang.text.signals import classify_matter_kind, detect_legal_channel, detect_risks, extract_demand


def source_text(title: str, body: str) -> str:
    """The text all spans refer to: the title, a newline, the body (either may be empty)."""
    if title and body:
        return f"{title}\n{body}"
    return title or body


@dataclass(slots=True)
class TextAnalysis:
    """Result of `analyse_text`; `normalised` is kept for the classifier and router, never serialised."""

    normalised: Normalised
    entities: list[Entity]
    location: Location
    demand: dict[str, Any] | None
    matter_kind: dict[str, Any]
    legal_channel: dict[str, Any] | None
    risks: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entities": [e.to_dict() for e in self.entities],
            "location": self.location.to_dict(),
            "demand": self.demand,
            "matter_kind": self.matter_kind,
            "legal_channel": self.legal_channel,
            "risks": self.risks,
        }


def _address_entities(text: str, gazetteer: Gazetteer) -> tuple[list[Entity], Location]:
    matches = gazetteer.find(text)
    location = gazetteer.resolve(matches)
    chosen = {location.township_code, location.village_code, location.county_code}
    entities = []
    for m in matches:
        best = next((c for c in m.candidates if c.code in chosen), m.candidates[0])
        value = {"code": best.code, "level": best.level, "name": best.name}
        entities.append(Entity("address", m.surface, m.start, m.end, value))
    return entities, location


def _to_original(entity: Entity, norm: Normalised) -> Entity:
    start, end = norm.span(entity.start, entity.end)
    if entity.raw is None:
        entity.text = norm.original[start:end]
    entity.start, entity.end = start, end
    return entity


def _span_dicts_to_original(items: list[dict[str, Any]], norm: Normalised) -> None:
    for item in items:
        start, end = norm.span(item["start"], item["end"])
        item["start"], item["end"] = start, end
        if "text" in item:
            item["text"] = norm.original[start:end]


def extract_entities(norm: Normalised, *, gazetteer: Gazetteer, reference_date: date) -> list[Entity]:
    """All entities on normalised text, sorted by position; spans are still in normalised coordinates."""
    return _entities_and_location(norm, gazetteer=gazetteer, reference_date=reference_date)[0]


def _entities_and_location(
    norm: Normalised, *, gazetteer: Gazetteer, reference_date: date
) -> tuple[list[Entity], Location]:
    """Entities (as `extract_entities`) and the resolved location, scanning the gazetteer once."""
    text = norm.text
    ids = find_id_numbers(text, region_names=gazetteer.county_names())
    phones = [p for p in find_phones(text) if not any(i.start <= p.start < i.end for i in ids)]
    dates = find_dates(text, reference_date=reference_date)
    periods = find_periods(text, taken=[(d.start, d.end) for d in dates])
    addresses, location = _address_entities(text, gazetteer)
    found = [
        *ids,
        *phones,
        *find_money(text),
        *find_headcounts(text),
        *dates,
        *periods,
        *find_organisations(text),
        *find_persons(text),
        *addresses,
    ]
    return sorted(found, key=lambda e: (e.start, -e.end)), location


def analyse_text(
    title: str, body: str, *, gazetteer: Gazetteer, reference_date: date | None = None
) -> TextAnalysis:
    """Run normalisation, entities, location, demand, matter kind, legal channel and risks on one petition."""
    ref = reference_date or date(2000, 1, 1)
    norm = normalise(source_text(title, body))
    text = norm.text
    entities, location = _entities_and_location(norm, gazetteer=gazetteer, reference_date=ref)
    headcounts = [(e.start, e.end, int(e.value["count"])) for e in entities if e.type == "headcount"]
    demand = extract_demand(text)
    matter_kind = classify_matter_kind(text)
    legal = detect_legal_channel(text)
    risks = detect_risks(text, headcounts=headcounts)
    if demand is not None:
        start, end = norm.span(demand["start"], demand["end"])
        demand["start"], demand["end"] = start, end
    _span_dicts_to_original(matter_kind["triggers"], norm)
    if legal is not None:
        _span_dicts_to_original(legal["triggers"], norm)
    for risk in risks:
        _span_dicts_to_original(risk["triggers"], norm)
    return TextAnalysis(
        normalised=norm,
        entities=[_to_original(e, norm) for e in entities],
        location=location,
        demand=demand,
        matter_kind=matter_kind,
        legal_channel=legal,
        risks=risks,
        extra={"reference_date": ref.isoformat() if reference_date else None},
    )
