"""Deterministic first pass at stories: which articles report the same events.

Two articles are linked when they are close in time (their publication dates, partial or
not, can be within `window_days` of each other) and they share enough: at least two topic
labels or at least two entities that are not in every article. Undated articles are linked on
content alone, with a stricter bar. Stories are the connected groups.

The merge call receives these groups and may refine them; if the merge call fails they become
the brief's stories as they are.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from briefer.models import ArticleSummary, BriefEntity
from briefer.text import dates
from briefer.text.textnorm import match_key

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
    earlier_stories: tuple[tuple[str, str, str], ...] = ()  # (title, summary, date) of earlier stories it continues


def group_stories(summaries: Sequence[ArticleSummary], entities: Sequence[BriefEntity],
                  window_days: int = DEFAULT_WINDOW_DAYS) -> list[StoryGroup]:
    ids = [s.id for s in summaries]
    n = len(ids)
    index = {aid: x for x, aid in enumerate(ids)}
    # An entity in every article says nothing about which articles belong together; the rarer
    # an entity, the more it says (used to rank the shared entities reported for a group).
    weight = {e.name_en: math.log(n / len(e.article_ids)) for e in entities if len(e.article_ids) < n}
    ents_of: list[set[str]] = [set() for _ in ids]
    for e in entities:
        if e.name_en in weight:
            for aid in e.article_ids:
                if (x := index.get(aid)) is not None:
                    ents_of[x].add(e.name_en)
    topics_of = [{match_key(t) for t in s.topics} for s in summaries]
    spans = [(dates.earliest(p), dates.latest(p)) if (p := s.published) else None for s in summaries]

    uf = UnionFind(n)
    _link_dated(uf, spans, topics_of, ents_of, window_days)
    _link_undated(uf, spans, topics_of, ents_of)

    out = []
    for members in ([ids[x] for x in group] for group in uf.groups()):
        known = [p for i in members if (p := summaries[index[i]].published)]
        common = set.intersection(*(ents_of[index[i]] for i in members)) if len(members) > 1 else set()
        out.append(StoryGroup(
            article_ids=sorted(members),
            first=min(known, key=dates.earliest) if known else None,
            last=max(known, key=dates.latest) if known else None,
            shared_entities=sorted(common, key=lambda e: (-weight[e], e))[:6],
        ))
    # Newest stories first; undated last.
    out.sort(key=lambda g: (g.last is None, [-p for p in dates.parts(g.last)] if g.last else [], g.article_ids))
    return out


Span = tuple[dt.date, dt.date]  # earliest and latest day a (partial) publication date can be


def _shared(features: list[set[str]]) -> list[list[str]]:
    """Each article's features that some other article has too, sorted (the only ones that can link)."""
    count = Counter(f for fs in features for f in fs)
    return [sorted(f for f in fs if count[f] > 1) for fs in features]


def _link_dated(uf: UnionFind, spans: list[Span | None], topics_of: list[set[str]], ents_of: list[set[str]],
                window_days: int) -> None:
    """Dated articles are linked when their dates can be within the window and they share enough topics or
    entities. Two articles sharing k features share a k-combination of them, so each combination is a
    bucket of candidates: near-linear, not every pair. Inside a bucket, "within the window" links make the
    same groups as a sweep in date order (the dates are intervals; linked intervals form an interval graph)."""
    window = dt.timedelta(days=window_days)
    dated = {x: span for x, span in enumerate(spans) if span is not None}
    for features, need in ((topics_of, MIN_SHARED_TOPICS), (ents_of, MIN_SHARED_ENTITIES)):
        buckets: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for x, fs in enumerate(_shared(features)):
            if x in dated:
                for combo in combinations(fs, need):
                    buckets[combo].append(x)
        for members in buckets.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda x: dated[x][0])
            head, reach = members[0], dated[members[0]][1]
            for x in members[1:]:
                start, end = dated[x]
                if start - reach <= window:
                    uf.union(head, x)
                    reach = max(reach, end)
                else:
                    head, reach = x, end


def _link_undated(uf: UnionFind, spans: list[Span | None], topics_of: list[set[str]],
                  ents_of: list[set[str]]) -> None:
    """An undated article is linked on content alone, with a stricter bar (topics and more entities)."""
    undated = [x for x, span in enumerate(spans) if span is None]
    if not undated:
        return
    having: dict[str, list[int]] = defaultdict(list)
    for x, fs in enumerate(ents_of):
        for f in fs:
            having[f].append(x)
    for x in undated:
        shared = Counter(y for f in ents_of[x] for y in having[f] if y != x)
        for y, count in shared.items():
            if count >= UNDATED_MIN_SHARED_ENTITIES and len(topics_of[x] & topics_of[y]) >= MIN_SHARED_TOPICS:
                uf.union(x, y)
