"""Deterministic first pass at stories: which articles report the same events.

Two articles are linked when they are close in time (their publication dates, partial or
not, can be within `window_days` of each other) and they share enough: at least two topic
labels or at least two entities that are not in every article. Undated articles are linked on
content alone, with a stricter bar. Stories are the connected groups.

The merge call receives these groups and may refine them; if the merge call fails they become
the brief's stories as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from briefer.extract import dates
from briefer.extract.textnorm import match_key
from briefer.models import ArticleSummary, BriefEntity

from .facts import UnionFind

DEFAULT_WINDOW_DAYS = 21
MIN_SHARED_TOPICS = 2
MIN_SHARED_ENTITIES = 2
UNDATED_MIN_SHARED_ENTITIES = 3


@dataclass(frozen=True)
class StoryGroup:
    article_ids: list[str]
    first: str | None  # earliest publication date in the group
    last: str | None  # latest
    shared_entities: list[str]  # the group's most distinctive shared entities


def _gap_days(a: str | None, b: str | None) -> int | None:
    """Smallest number of days between two partial dates; None when either is unknown."""
    if a is None or b is None:
        return None
    if dates.latest(a) < dates.earliest(b):
        return (dates.earliest(b) - dates.latest(a)).days
    if dates.latest(b) < dates.earliest(a):
        return (dates.earliest(a) - dates.latest(b)).days
    return 0


def group_stories(summaries: Sequence[ArticleSummary], entities: Sequence[BriefEntity],
                  window_days: int = DEFAULT_WINDOW_DAYS) -> list[StoryGroup]:
    ids = [s.id for s in summaries]
    n = len(ids)
    # An entity in every article says nothing about which articles belong together; the rarer
    # an entity, the more it says (used to rank the shared entities reported for a group).
    weight = {e.name_en: math.log(n / len(e.article_ids)) for e in entities if len(e.article_ids) < n}
    ents_of = {i: {e.name_en for e in entities if i in e.article_ids and e.name_en in weight} for i in ids}
    topics_of = {s.id: {match_key(t) for t in s.topics} for s in summaries}
    published = {s.id: s.published for s in summaries}

    uf = UnionFind(n)
    for x in range(n):
        for y in range(x + 1, n):
            a, b = ids[x], ids[y]
            shared_entities = len(ents_of[a] & ents_of[b])
            shared_topics = len(topics_of[a] & topics_of[b])
            gap = _gap_days(published[a], published[b])
            if gap is None:
                linked = shared_topics >= MIN_SHARED_TOPICS and shared_entities >= UNDATED_MIN_SHARED_ENTITIES
            else:
                linked = gap <= window_days and (
                    shared_topics >= MIN_SHARED_TOPICS or shared_entities >= MIN_SHARED_ENTITIES
                )
            if linked:
                uf.union(x, y)

    out = []
    for members in ([ids[x] for x in group] for group in uf.groups()):
        known = [p for i in members if (p := published[i])]
        common = set.intersection(*(ents_of[i] for i in members)) if len(members) > 1 else set()
        out.append(StoryGroup(
            article_ids=sorted(members),
            first=min(known, key=dates.earliest) if known else None,
            last=max(known, key=dates.latest) if known else None,
            shared_entities=sorted(common, key=lambda e: (-weight[e], e))[:6],
        ))
    # Newest stories first; undated last.
    out.sort(key=lambda g: (g.last is None, [-p for p in dates.parts(g.last)] if g.last else [], g.article_ids))
    return out
