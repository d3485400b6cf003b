"""Deterministic cross-article facts: entities joined across spellings, staleness (the timeline: timeline.py).

No model is involved: the merge step receives these as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from briefer.models import ArticleSummary, BriefEntity, Entity, EntityType, StaleArticle, Story, Variant
from briefer.text import dates
from briefer.text.names import (
    BARE_PARTICLES,
    NameFinder,
    adjective_of_stems,
    is_list,
    nisba_stems,
    strip_particles,
)
from briefer.text.textnorm import match_key

from .aliases import NO_ALIASES, Aliases

DEFAULT_STALE_DAYS = 7
TYPE_ORDER = ("person", "organization", "place", "other")


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


@dataclass(frozen=True)
class _Role:
    text: str | None
    article_ids: list[str]  # the articles that give it, and only those
    as_of: str | None  # the newest publication date among them: the role is as of that reporting


def _role(roles: list[tuple[str, str]], published: dict[str, str | None]) -> _Role:
    """The role most articles give (its part before any ';', which goes on to what the entity did in
    that article), in its first form; ties go to the earliest article. `roles`: (article id, role)."""
    heads = [(aid, r.split(";")[0].strip().rstrip(".")) for aid, r in roles if r.strip()]
    heads = [(aid, h) for aid, h in heads if h]
    if not heads:
        return _Role(None, [], None)
    keys = [match_key(h) for _a, h in heads]
    count = Counter(keys)
    best = max(count, key=lambda k: (count[k], -keys.index(k)))
    ids = sorted({aid for (aid, _h), k in zip(heads, keys, strict=True) if k == best})
    when = [p for p in (published.get(aid) for aid in ids) if p]
    return _Role(heads[keys.index(best)][1], ids, max(when, key=dates.latest) if when else None)


@dataclass(frozen=True)
class _Mention:
    article_id: str
    entity: Entity
    spellings: list[str]  # the entity's spellings found in its article, particles stripped
    keys: set[str]  # its English name's key and its spellings' keys


def _mentions(summaries: Iterable[ArticleSummary]) -> list[_Mention]:
    """Every entity of every article, with only the spellings that are names found in its text."""
    found: list[tuple[str, Entity, list[str]]] = []
    for s in summaries:
        finder = NameFinder([s.headline_original, *([s.dateline] if s.dateline else []), *s.paragraphs_original])
        for e in s.entities:
            kept = [strip_particles(n.strip()) for n in e.names_original if not is_list(n) and finder.found(n)]
            found.append((s.id, e, list(dict.fromkeys(kept))))
    # A particle written before a name without the article («وإيران») is stripped only when the rest
    # is itself a spelling found somewhere: «بغداد» or «واشنطن» merely begin with such a letter.
    known = {match_key(n) for _a, _e, kept in found for n in kept}
    out = []
    for aid, e, kept in found:
        spellings = list(dict.fromkeys(
            n[1:] if n[0] in BARE_PARTICLES and len(n) > 3 and match_key(n[1:]) in known else n
            for n in kept))
        keys = {k for k in (match_key(e.name_en), *(match_key(n) for n in spellings)) if k}
        out.append(_Mention(aid, e, spellings, keys))
    return out


class _Joins:
    """Union-find over mentions that refuses joins breaking a rule: one concrete type per entity
    ("other" joins any), and the alias file's never_join lists."""

    def __init__(self, mentions: list[_Mention], aliases: Aliases) -> None:
        self.uf = UnionFind(len(mentions))
        self.types = [{m.entity.type} - {"other"} for m in mentions]
        self.never = [aliases.never_labels(m.keys) for m in mentions]

    def join(self, a: int, b: int, check_type: bool = True) -> None:
        ra, rb = self.uf.find(a), self.uf.find(b)
        if ra == rb or (check_type and len(self.types[ra] | self.types[rb]) > 1):
            return
        for rule in self.never[ra].keys() & self.never[rb].keys():
            if len(self.never[ra][rule] | self.never[rb][rule]) > 1:
                return
        self.uf.union(ra, rb)
        root, other = (ra, rb) if self.uf.find(ra) == ra else (rb, ra)
        self.types[root] |= self.types[other]
        for rule, items in self.never[other].items():
            self.never[root].setdefault(rule, set()).update(items)


def join_entities(summaries: Iterable[ArticleSummary], aliases: Aliases = NO_ALIASES) -> list[BriefEntity]:
    """One entity per person/organisation/place across articles, whatever the spelling or script.

    Spellings count only when they are names found in their article (text/names.py). Two mentions
    join when they share a normalised English name or spelling (so قاآني and قآاني, or "Qaani" in two
    articles, meet) and their types agree ("other" agrees with any one type). The alias file joins
    what it lists as one entity, under its name, and keeps apart what it says never to join.
    People first, then organisations, places and other things; within each, the most cited first."""
    summaries = list(summaries)
    published = {s.id: s.published for s in summaries}
    mentions = _mentions(summaries)
    joins = _Joins(mentions, aliases)
    alias_of = [aliases.entity_of(m.keys) for m in mentions]
    first_of_alias: dict[int, int] = {}
    for i, number in enumerate(alias_of):
        if number is not None:
            joins.join(first_of_alias.setdefault(number, i), i, check_type=False)
    first_with_key: dict[tuple[str, str], int] = {}
    typed = [i for i, m in enumerate(mentions) if m.entity.type != "other"]
    others = [i for i, m in enumerate(mentions) if m.entity.type == "other"]
    for i in typed + others:  # "other" mentions last, so they find every typed mention of their name
        m = mentions[i]
        for key in sorted(m.keys):
            for t in (m.entity.type, *(TYPE_ORDER[:3] if m.entity.type == "other" else ())):
                if (t, key) in first_with_key:
                    joins.join(first_with_key[(t, key)], i)
            first_with_key.setdefault((m.entity.type, key), i)
    out = []
    for members in joins.uf.groups():
        group = [mentions[i] for i in members]
        named = [a for a in (alias_of[i] for i in members) if a is not None]
        kinds: list[EntityType] = [m.entity.type for m in group]
        types: Counter[EntityType] = Counter(t for t in kinds if t != "other")
        kind: EntityType = max(types, key=lambda t: (types[t], -kinds.index(t))) if types else "other"
        variant_articles: dict[str, set[str]] = defaultdict(set)
        for m in group:
            for n in (m.entity.name_en, *m.spellings):
                variant_articles[n].add(m.article_id)
        spelled = list(variant_articles)
        role = _role([(m.article_id, m.entity.role_en) for m in group], published)
        stems = nisba_stems(spelled)
        for n in [n for n in spelled if adjective_of_stems(n, stems)]:
            del variant_articles[n]
        out.append(BriefEntity(
            name_en=aliases.names[min(named)] if named else _canonical_name([m.entity.name_en for m in group]),
            variants=[Variant(name=n, article_ids=sorted(ids)) for n, ids in sorted(variant_articles.items())],
            type=kind,
            role_en=role.text,
            role_article_ids=role.article_ids,
            role_as_of=role.as_of,
            article_ids=sorted({m.article_id for m in group}),
        ))
    out.sort(key=lambda e: (TYPE_ORDER.index(e.type), -len(e.article_ids), e.name_en.casefold()))
    return out


def needed_entities(entities: list[BriefEntity], stories: list[Story]) -> list[BriefEntity]:
    """The who's who: every person, organisation and place; an "other" thing (F-16 fighter jets, the
    Oval Office) only when a story needs it: named in 2 or more articles, or in a story's title or
    summary."""
    told = " " + " ".join(match_key(f"{st.title} {st.summary}") for st in stories) + " "
    return [e for e in entities
            if e.type != "other" or len(e.article_ids) >= 2 or f" {match_key(e.name_en)} " in told]


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
