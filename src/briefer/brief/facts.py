"""Deterministic cross-article facts: entities joined across spellings, staleness (the timeline: timeline.py).

No model is involved: the merge step receives these as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from briefer.extract import dates
from briefer.extract.textnorm import match_key
from briefer.models import ArticleSummary, BriefEntity, StaleArticle, Variant

DEFAULT_STALE_DAYS = 7


# ---------------------------------------------------------------- entities


class UnionFind:
    """Disjoint sets over 0..n-1 (joining entity mentions, linking articles into stories)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        """The sets, each in ascending order, ordered by their smallest member."""
        by_root: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            by_root[self.find(i)].append(i)
        return list(by_root.values())


def _canonical_name(names: list[str]) -> str:
    """The English name most mentions agree on (compared normalised), in its most used form.
    Ties go to the earliest mention; mentions come in article-id order, so this is stable.
    Each name's key is computed once (this runs for every entity of every article)."""
    keys = [match_key(n) for n in names]
    count = Counter(keys)
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    best = max(count, key=lambda k: (count[k], -first[k]))
    forms = Counter(n for n, k in zip(names, keys, strict=True) if k == best)
    return max(forms, key=lambda f: (forms[f], -names.index(f)))


def join_entities(summaries: Iterable[ArticleSummary]) -> list[BriefEntity]:
    """One entity per person/organisation/place across articles, whatever the spelling or script.

    Two mentions join when they have the same type and share a normalised English name or a
    normalised original spelling (so قاآني and قآاني, or "Qaani" in two articles, meet)."""
    mentions = [(s.id, e) for s in summaries for e in s.entities]
    uf = UnionFind(len(mentions))
    first_with_key: dict[str, int] = {}
    for i, (_aid, e) in enumerate(mentions):
        keys = {f"{e.type}|en|{match_key(e.name_en)}"}
        keys |= {f"{e.type}|orig|{match_key(n)}" for n in e.names_original}
        for key in keys:
            if key.endswith("|"):
                continue
            if key in first_with_key:
                uf.union(first_with_key[key], i)
            else:
                first_with_key[key] = i
    out = []
    for members in uf.groups():
        name_en = _canonical_name([mentions[i][1].name_en for i in members])
        variant_articles: dict[str, set[str]] = defaultdict(set)
        article_ids: set[str] = set()
        for i in members:
            aid, e = mentions[i]
            article_ids.add(aid)
            for n in (e.name_en, *e.names_original):
                variant_articles[n].add(aid)
        out.append(
            BriefEntity(
                name_en=name_en,
                variants=[Variant(name=n, article_ids=sorted(ids)) for n, ids in sorted(variant_articles.items())],
                type=mentions[members[0]][1].type,
                article_ids=sorted(article_ids),
            )
        )
    out.sort(key=lambda e: (-len(e.article_ids), e.name_en.casefold()))
    return out


# ---------------------------------------------------------------- dates


def newest_published(summaries: Iterable[ArticleSummary]) -> str | None:
    published = [s.published for s in summaries if s.published]
    return max(published, key=lambda p: dates.latest(p)) if published else None


def date_range(summaries: Iterable[ArticleSummary]) -> list[str]:
    """[earliest, newest] publication dates (each as precise as known); [] when none is known."""
    published = [s.published for s in summaries if s.published]
    if not published:
        return []
    return [min(published, key=dates.earliest), max(published, key=dates.latest)]


def age_days(brief_date: str, published: str) -> int:
    """Days from the last day `published` can be to the first day of `brief_date`: the age, at least."""
    return (dates.earliest(brief_date) - dates.latest(published)).days


def find_stale(summaries: list[ArticleSummary], stale_after_days: int = DEFAULT_STALE_DAYS) -> list[StaleArticle]:
    """Articles clearly older than the newest article in the folder.

    Partial dates are compared conservatively: an article is stale only when even the latest day
    it could be from is more than `stale_after_days` before the earliest day of the newest one."""
    newest = newest_published(summaries)
    if newest is None:
        return []
    reference = dates.earliest(newest)
    out = []
    for s in summaries:
        if not s.published:
            continue
        age = (reference - dates.latest(s.published)).days
        if age > stale_after_days:
            out.append(
                StaleArticle(
                    article_id=s.id,
                    published=s.published,
                    reason=f"published {s.published} ({s.date_basis}), at least {age} days before the newest "
                    f"article ({newest}); not today's news",
                )
            )
    return out
