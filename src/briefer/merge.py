"""The cross-article brief: deterministic parts first, then one merge call over the summaries.

Deterministic: entities joined across spellings and scripts, the timeline of every dated event,
stale articles, the article index and the stats. The model writes what needs judgement (title,
executive summary, stories, disagreements) from the summaries — never from the raw texts — and
receives the already-joined entities and the stale list so it need not guess them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import dates
from .answers import Call, Gateway
from .models import (
    ArticleRef,
    ArticleSummary,
    Brief,
    BriefDraft,
    BriefEntity,
    Failure,
    IngestNote,
    Skipped,
    StaleArticle,
    Stats,
    Story,
    TimelineEntry,
    Variant,
)
from .prompts import Prompts, boundary_for
from .stories import DEFAULT_WINDOW_DAYS, StoryGroup, group_stories
from .textnorm import match_key

PROMPT = "merge"
DEFAULT_STALE_DAYS = 7


# ---------------------------------------------------------------- entities


class _UnionFind:
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


def _canonical_name(names: list[str]) -> str:
    """The English name most mentions agree on (compared normalised), in its most used form.
    Ties go to the earliest mention; mentions come in article-id order, so this is stable."""
    keys = Counter(match_key(n) for n in names)
    best = max(keys, key=lambda k: (keys[k], -next(i for i, n in enumerate(names) if match_key(n) == k)))
    forms = Counter(n for n in names if match_key(n) == best)
    return max(forms, key=lambda f: (forms[f], -names.index(f)))


def join_entities(summaries: Iterable[ArticleSummary]) -> list[BriefEntity]:
    """One entity per person/organisation/place across articles, whatever the spelling or script.

    Two mentions join when they have the same type and share a normalised English name or a
    normalised original spelling (so قاآني and قآاني, or "Qaani" in two articles, meet)."""
    mentions = [(s.id, e) for s in summaries for e in s.entities]
    uf = _UnionFind(len(mentions))
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
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(mentions)):
        groups[uf.find(i)].append(i)

    out = []
    for members in groups.values():
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


def build_timeline(summaries: Iterable[ArticleSummary]) -> list[TimelineEntry]:
    """Every dated event of every article, oldest first; the same event text on the same date is one entry."""
    merged: dict[tuple[str, str], set[str]] = defaultdict(set)
    text_of: dict[tuple[str, str], str] = {}
    for s in summaries:
        for ev in s.events:
            if ev.date is None:
                continue
            key = (ev.date, match_key(ev.description_en))
            merged[key].add(s.id)
            text_of.setdefault(key, ev.description_en)
    entries = [TimelineEntry(date=d, event=text_of[(d, k)], article_ids=sorted(ids)) for (d, k), ids in merged.items()]
    entries.sort(key=lambda t: (dates.parts(t.date), t.event.casefold()))
    return entries


def newest_published(summaries: Iterable[ArticleSummary]) -> str | None:
    published = [s.published for s in summaries if s.published]
    return max(published, key=lambda p: dates.latest(p)) if published else None


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


# ---------------------------------------------------------------- the merge call


def merge_payload(summaries: list[ArticleSummary], entities: list[BriefEntity], stale: list[StaleArticle],
                  groups: list[StoryGroup]) -> str:
    """What the model sees: the summaries (not the raw texts), joined entities, stale list and the
    deterministic story groups — as JSON."""
    articles = [
        {
            "id": s.id,
            "headline_en": s.headline_en,
            "outlet": s.outlet,
            "published": s.published,
            "date_basis": s.date_basis,
            "summary_en": s.summary_en,
            "key_points": [k.text_en for k in s.key_points],
            "claims": [{"speaker": c.speaker_en, "claim": c.claim_en} for c in s.claims],
            "events": [{"date": e.date, "event": e.description_en} for e in s.events],
            "topics": s.topics,
        }
        for s in summaries
    ]
    payload = {
        "articles": articles,
        "entities": [
            {"name_en": e.name_en, "type": e.type, "article_ids": e.article_ids,
             "variants": [v.name for v in e.variants]}
            for e in entities
        ],
        "stale_articles": [s.model_dump(mode="json") for s in stale],
        "story_groups": [
            {"article_ids": g.article_ids, "first": g.first, "last": g.last, "shared_entities": g.shared_entities}
            for g in groups
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1)


def merge_call(summaries: list[ArticleSummary], entities: list[BriefEntity], stale: list[StaleArticle],
               groups: list[StoryGroup], prompts: Prompts) -> Call:
    payload = merge_payload(summaries, entities, stale, groups)
    rendered = prompts.render(
        PROMPT,
        articles=summaries,
        newest=newest_published(summaries),
        payload=payload,
        boundary=boundary_for(payload),
    )
    return Call(
        stage="merge",
        subject="brief",
        prompt=PROMPT,
        prompt_version=rendered.version,
        messages=rendered.messages,
        response_model=BriefDraft,
        input_text=payload,
        context={"article_ids": [s.id for s in summaries]},
    )


@dataclass(frozen=True)
class MergeInputs:
    date: str
    summaries: list[ArticleSummary]
    failures: list[Failure]
    skipped: list[Skipped]
    tokens_raw_est: int = 0
    tokens_saved_est: int = 0
    notes: list[IngestNote] = field(default_factory=list)
    stale_after_days: int = DEFAULT_STALE_DAYS
    story_window_days: int = DEFAULT_WINDOW_DAYS


def fallback_stories(groups: list[StoryGroup], summaries: list[ArticleSummary]) -> list[Story]:
    """Stories from the deterministic groups alone, for when the merge call failed."""
    by_id = {s.id: s for s in summaries}
    out = []
    for g in groups:
        newest = max((by_id[i] for i in g.article_ids), key=lambda s: (s.published or "", s.id))
        out.append(Story(
            title=newest.headline_en,
            summary=f"{newest.summary_en} (Grouped automatically by shared entities and dates; "
                    "the merge step did not run.)",
            article_ids=g.article_ids,
            timeline=build_timeline(by_id[i] for i in g.article_ids),
            perspectives=[],
        ))
    return out


async def build_brief(inputs: MergeInputs, gateway: Gateway, prompts: Prompts) -> Brief:
    """The brief. If the merge call itself fails, the deterministic parts are still returned,
    with the failure listed, so nothing already produced is lost."""
    from .errors import BrieferError, EndpointError

    summaries = sorted(inputs.summaries, key=lambda s: s.id)
    entities = join_entities(summaries)
    stale = find_stale(summaries, inputs.stale_after_days)
    groups = group_stories(summaries, entities, inputs.story_window_days)
    failures = list(inputs.failures)
    try:
        result = await gateway.ask(merge_call(summaries, entities, stale, groups, prompts))
        assert isinstance(result, BriefDraft)
        draft: BriefDraft | None = result
    except EndpointError:
        raise
    except BrieferError as exc:
        failures.append(Failure(source_path="(merge)", kind=exc.kind, reason=str(exc)))
        draft = None
    c = gateway.counters
    quotes = sum(s.grounding.quotes for s in summaries)
    verified = sum(s.grounding.verified for s in summaries)
    return Brief(
        date=inputs.date,
        title=draft.title if draft else f"Brief of {len(summaries)} articles (merge step failed)",
        partial=bool(failures),
        executive_summary=draft.executive_summary if draft else [],
        stories=draft.stories if draft else fallback_stories(groups, summaries),
        entities=entities,
        timeline=build_timeline(summaries),
        disagreements=draft.disagreements if draft else [],
        stale_articles=stale,
        articles=[
            ArticleRef(id=s.id, headline_en=s.headline_en, headline_original=s.headline_original,
                       outlet=s.outlet, published=s.published, language=s.language)
            for s in summaries
        ],
        failures=failures,
        skipped=inputs.skipped,
        notes=inputs.notes,
        stats=Stats(
            articles=len(summaries),
            quotes=quotes,
            quotes_verified=verified,
            grounding_rate=round(verified / quotes, 4) if quotes else None,
            model_calls=c.model_calls,
            cache_hits=c.cache_hits,
            http_attempts=c.http_attempts,
            prompt_tokens=c.prompt_tokens,
            completion_tokens=c.completion_tokens,
            chars_raw=sum(s.cleaning.raw_chars for s in summaries),
            chars_removed=sum(s.cleaning.removed_chars for s in summaries),
            tokens_raw_est=inputs.tokens_raw_est,
            tokens_saved_est=inputs.tokens_saved_est,
        ),
    )


def today() -> str:
    return dt.date.today().isoformat()
