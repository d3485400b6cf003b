"""Story grouping is near-linear (candidate buckets, a sweep in date order) and gives exactly the groups
of the rule it implements: every pair compared, as the first version did."""

from __future__ import annotations

import random

from briefer.brief.facts import UnionFind
from briefer.brief.stories import (
    MIN_SHARED_ENTITIES,
    MIN_SHARED_TOPICS,
    UNDATED_MIN_SHARED_ENTITIES,
    group_stories,
)
from briefer.models import ArticleSummary, BriefEntity, Variant
from briefer.text import dates


def _gap_days(a: str | None, b: str | None) -> int | None:
    if a is None or b is None:
        return None
    if dates.latest(a) < dates.earliest(b):
        return (dates.earliest(b) - dates.latest(a)).days
    if dates.latest(b) < dates.earliest(a):
        return (dates.earliest(a) - dates.latest(b)).days
    return 0


def every_pair(summaries: list[ArticleSummary], entities: list[BriefEntity], window: int) -> list[list[str]]:
    """The rule, pair by pair (quadratic): the reference the bucketed version must match."""
    n = len(summaries)
    frequent = {e.name_en for e in entities if len(e.article_ids) == n}
    ents = {s.id: {e.name_en for e in entities if s.id in e.article_ids and e.name_en not in frequent}
            for s in summaries}
    uf = UnionFind(n)
    for x in range(n):
        for y in range(x + 1, n):
            a, b = summaries[x], summaries[y]
            shared_e = len(ents[a.id] & ents[b.id])
            shared_t = len({t.casefold() for t in a.topics} & {t.casefold() for t in b.topics})
            gap = _gap_days(a.published, b.published)
            if gap is None:
                linked = shared_t >= MIN_SHARED_TOPICS and shared_e >= UNDATED_MIN_SHARED_ENTITIES
            else:
                linked = gap <= window and (shared_t >= MIN_SHARED_TOPICS or shared_e >= MIN_SHARED_ENTITIES)
            if linked:
                uf.union(x, y)
    return sorted(sorted(summaries[x].id for x in g) for g in uf.groups())


def random_day(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    month = rng.randint(1, 4)
    if roll < 0.2:
        return f"2024-{month:02d}"
    if roll < 0.25:
        return "2024"
    return f"2024-{month:02d}-{rng.randint(1, 28):02d}"


def random_folder(seed: int, n: int) -> tuple[list[ArticleSummary], list[BriefEntity]]:
    rng = random.Random(seed)
    summaries = [
        ArticleSummary.model_construct(id=f"a{i:03d}", published=random_day(rng),
                                       topics=rng.sample([f"topic {k}" for k in range(8)], rng.randint(0, 3)))
        for i in range(n)
    ]
    names = [f"Entity {k}" for k in range(12)]
    holders: dict[str, list[str]] = {name: [] for name in names}
    for s in summaries:
        for name in rng.sample(names, rng.randint(0, 5)):
            holders[name].append(s.id)
    entities = [BriefEntity(name_en=name, variants=[Variant(name=name, article_ids=ids)], type="person",
                            article_ids=ids) for name, ids in holders.items() if ids]
    return summaries, entities


def test_bucketed_grouping_equals_the_pairwise_rule() -> None:
    for seed in range(40):
        summaries, entities = random_folder(seed, n=random.Random(seed).randint(2, 60))
        window = [0, 3, 21, 60][seed % 4]
        got = sorted(g.article_ids for g in group_stories(summaries, entities, window_days=window))
        assert got == every_pair(summaries, entities, window), f"seed {seed}"
