"""Long articles, map-reduce style: split on paragraph boundaries, read each part, join the parts.

Every part is translated in full (the translation is the parts' translations in order); the
entities, claims and events of the parts are joined deterministically; the reduce call writes
what needs the whole article in view (headline, summary, key points, date), choosing key
points among the parts' so their quotes stay verbatim article text. The result has exactly the
shape of a short article's extraction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from briefer.models import KEEPING, ArticleDigest, ArticleExtraction, Entity, Event
from briefer.text.textnorm import match_key
from briefer.text.tokens import estimate_tokens


def split_paragraphs(paragraphs: Sequence[str], budget_tokens: int) -> list[tuple[int, int]]:
    """Ranges [start, end) of consecutive paragraphs, each within the budget where possible.

    Paragraphs are never cut: one longer than the budget makes a part of its own."""
    ranges: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, p in enumerate(paragraphs):
        cost = estimate_tokens(p)
        if i > start and used + cost > budget_tokens:
            ranges.append((start, i))
            start, used = i, 0
        used += cost
    if paragraphs:
        ranges.append((start, len(paragraphs)))
    return ranges


def reduce_payload(parts: Sequence[ArticleExtraction], ranges: Sequence[tuple[int, int]]) -> str:
    """What the reduce call sees: each part's record without its translation."""
    return json.dumps(
        {
            "parts": [
                {
                    "part": n,
                    "paragraphs": f"{start + 1}-{end}",
                    **part.model_dump(mode="json", exclude={"translation_en", "headline_original"}),
                }
                for n, (part, (start, end)) in enumerate(zip(parts, ranges, strict=True), start=1)
            ]
        },
        ensure_ascii=False,
        indent=1,
    )


def _join_entities(parts: Sequence[ArticleExtraction]) -> list[Entity]:
    joined: dict[tuple[str, str], Entity] = {}
    for part in parts:
        for e in part.entities:
            key = (e.type, match_key(e.name_en))
            if key in joined:
                known = joined[key]
                names = list(dict.fromkeys([*known.names_original, *e.names_original]))
                joined[key] = known.model_copy(update={"names_original": names})
            else:
                joined[key] = e
    return list(joined.values())


def _join_events(parts: Sequence[ArticleExtraction]) -> list[Event]:
    seen: dict[tuple[str | None, str], Event] = {}
    for part in parts:
        for ev in part.events:
            seen.setdefault((ev.date, match_key(ev.description_en)), ev)
    return list(seen.values())


def assemble(title: str, parts: Sequence[ArticleExtraction], digest: ArticleDigest,
             paragraph_count: int, ranges: Sequence[tuple[int, int]] | None = None) -> ArticleExtraction:
    """One extraction for the whole article, validated like any other.

    A part kept in part (its answer invalid once the re-asks were spent) keeps its warnings, each naming the
    part, and the whole is validated as kept: its soft rules are warnings, not a failure. A part whose
    translation has fewer or more items than its paragraphs (`ranges`) ends the joined translation there:
    the parts after it would be shown beside the wrong paragraphs (the article is flagged translation
    incomplete)."""
    translation: list[str] = []
    for n, part in enumerate(parts):
        translation += part.translation_en
        if ranges is not None and len(part.translation_en) != ranges[n][1] - ranges[n][0]:
            break
    warnings = [f"part {n} of {len(parts)}: {w}" for n, part in enumerate(parts, start=1) for w in part.kept_warnings]
    events = _join_events(parts)
    data = {
        **digest.model_dump(),
        "headline_original": title,
        "entities": [e.model_dump() for e in _join_entities(parts)],
        "claims": [c.model_dump() for part in parts for c in part.claims],
        "events": [e.model_dump() for e in events],
        "translation_en": translation,
    }
    context: dict[str, object] = {"paragraph_count": paragraph_count}
    if warnings:
        context[KEEPING] = True
    joined = ArticleExtraction.model_validate(data, context=context)
    joined._kept_warnings = warnings
    for mine, theirs in zip(joined.events, events, strict=True):
        mine._basis_missing = theirs.basis_missing  # a date no basis came with is still checked as such
    return joined
