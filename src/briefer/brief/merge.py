"""The cross-article brief: deterministic facts first, then merge calls over the summaries.

Deterministic (facts.py, stories.py): entities joined across spellings and scripts, the timeline
of every dated event, stale articles, story groups, the article index and the stats. The model
writes what needs judgement (title, executive summary, stories, disagreements) from the summaries,
never from the raw texts, and receives the joined entities, the stale list and the story groups.

Never all summaries in one prompt: when the merge input is over `merge_budget` (estimated
tokens), the story groups are packed into batches that fit, each batch is merged into its stories
(one call per batch, concurrently), and a last call over the stories alone writes the title,
executive summary and cross-story disagreements. Merge calls grow linearly with the input.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import get_args

from briefer.errors import BrieferError, BudgetExceeded, EndpointError, MissingRecording, StaleRecording
from briefer.model.answers import Call, Gateway
from briefer.model.prompts import Prompts, boundary_for
from briefer.models import (
    ArticleRef,
    ArticleSummary,
    Brief,
    BriefDraft,
    BriefEntity,
    BriefOverview,
    EarlierBrief,
    Failure,
    IngestNote,
    MissingPart,
    MissingPartName,
    Skipped,
    StaleArticle,
    Stats,
    StoriesDraft,
    Story,
    StoryDraft,
)
from briefer.text.tokens import estimate_json_tokens, estimate_tokens

from .aliases import NO_ALIASES, Aliases
from .checked import check_draft, every_support, support_stats
from .continuity import Earlier, Matcher, already_reported, continuity, merge_advice, seeded
from .facts import (
    DEFAULT_STALE_DAYS,
    age_days,
    date_range,
    find_stale,
    join_entities,
    needed_entities,
    newest_published,
)
from .stories import DEFAULT_WINDOW_DAYS, StoryGroup, group_stories
from .timeline import build_timeline

PROMPT = "merge"
STORIES_PROMPT = "merge_stories"
OVERVIEW_PROMPT = "merge_overview"
DEFAULT_MERGE_BUDGET = 16_000  # estimated tokens of merge input per call

__all__ = ["DEFAULT_STALE_DAYS", "MergeInputs", "build_brief", "find_stale", "join_entities", "merge_call"]


def article_digest(s: ArticleSummary) -> dict[str, object]:
    """One article as the merge step sees it: its summary, not its text."""
    return {
        "id": s.id,
        "headline_en": s.headline_en,
        "outlet": s.outlet or s.site_name,  # the text's, else the file's own (og:site_name, a feed's)
        "published": s.published,
        "date_basis": s.date_basis,
        "summary_en": s.summary_en,
        # Each statement keyed by its number in the article ("k5"); the merge cites it as "<article id>#k5"
        # (sentences.atom_id), and brief/sentences.py checks the words against it.
        "key_points": {f"k{n}": k.text_en for n, k in enumerate(s.key_points, start=1)},
        "claims": {f"c{n}": {"speaker": c.speaker_en, "claim": c.claim_en} for n, c in enumerate(s.claims, start=1)},
        # Who says so travels with the event, so that stories and perspectives stay attributed.
        "events": {f"e{n}": {"date": e.date, "event": e.description_en}
                   | ({"according_to": e.attributed_to} if e.attributed_to else {})
                   for n, e in enumerate(s.events, start=1)},
        "topics": s.topics,
    }


def _entities_payload(entities: list[BriefEntity]) -> list[dict[str, object]]:
    return [{"name_en": e.name_en, "type": e.type, "article_ids": e.article_ids,
             "variants": [v.name for v in e.variants]} for e in entities]


def _group_payload(g: StoryGroup) -> dict[str, object]:
    out: dict[str, object] = {"article_ids": g.article_ids, "first": g.first, "last": g.last,
                              "shared_entities": g.shared_entities}
    if g.earlier_stories:  # only with an earlier brief: a standalone brief's input is unchanged
        out["earlier_stories"] = [{"title": t, "summary": s, "date": d} for t, s, d in g.earlier_stories]
    return out


def merge_payload(summaries: list[ArticleSummary], entities: list[BriefEntity], stale: list[StaleArticle],
                  groups: list[StoryGroup], earlier: EarlierBrief | None = None) -> str:
    """What the model sees: the summaries (not the raw texts), joined entities, stale list and the
    deterministic story groups — as JSON; with an earlier brief, its date and title (each group lists
    the earlier stories it continues)."""
    payload: dict[str, object] = {
        "articles": [article_digest(s) for s in summaries],
        "entities": _entities_payload(entities),
        "stale_articles": [s.model_dump(mode="json") for s in stale],
        "story_groups": [_group_payload(g) for g in groups],
    }
    if earlier is not None:
        payload["earlier_brief"] = {"date": earlier.date, "title": earlier.title}
    return json.dumps(payload, ensure_ascii=False, indent=1)


def merge_call(summaries: list[ArticleSummary], entities: list[BriefEntity], stale: list[StaleArticle],
               groups: list[StoryGroup], prompts: Prompts, earlier: EarlierBrief | None = None) -> Call:
    payload = merge_payload(summaries, entities, stale, groups, earlier)
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
    merge_budget: int = DEFAULT_MERGE_BUDGET
    aliases: Aliases = NO_ALIASES
    # Keeps a failed merge's raw answer (name, text) and says where; the caller owns the output folder.
    keep_raw: Callable[[str, str], str] | None = None
    earlier: Earlier | None = None


@dataclass(frozen=True)
class Plan:
    """Everything deterministic the merge step starts from."""

    summaries: list[ArticleSummary]  # today's articles, by id, without those already reported
    seen: list[str]  # ids of articles the earlier brief already had
    entities: list[BriefEntity]
    stale: list[StaleArticle]
    groups: list[StoryGroup]
    matcher: Matcher | None  # with an earlier brief
    companions: dict[str, list[str]]  # article id -> already reported articles grouped with it

    @property
    def earlier(self) -> EarlierBrief | None:
        return self.matcher.earlier.ref if self.matcher else None

    def call(self, prompts: Prompts) -> Call:
        return merge_call(self.summaries, self.entities, self.stale, self.groups, prompts, self.earlier)


def plan(summaries: list[ArticleSummary], aliases: Aliases = NO_ALIASES, stale_after_days: int = DEFAULT_STALE_DAYS,
         window_days: int = DEFAULT_WINDOW_DAYS, earlier: Earlier | None = None) -> Plan:
    everything = sorted(summaries, key=lambda s: s.id)
    aliases = seeded(aliases, earlier)
    seen = already_reported(everything, earlier)
    fresh = [s for s in everything if s.id not in seen]
    entities = join_entities(fresh, aliases)
    groups = group_stories(fresh, entities, window_days)
    companions: dict[str, list[str]] = {}
    matcher = None
    if earlier is not None:
        every_entity = entities
        if seen:  # already reported articles still say which earlier story today's articles continue
            every_entity = join_entities(everything, aliases)
            for g in group_stories(everything, every_entity, window_days):
                with_seen = [i for i in g.article_ids if i in seen]
                for i in g.article_ids:
                    companions[i] = with_seen
        matcher = Matcher(earlier, everything, every_entity)
        groups = [dataclasses.replace(g, earlier_stories=matcher.payload(_related(g.article_ids, companions)))
                  for g in groups]
    return Plan(fresh, seen, entities, find_stale(fresh, stale_after_days), groups, matcher, companions)


def _related(ids: list[str], companions: dict[str, list[str]]) -> list[str]:
    return sorted({*ids, *(c for i in ids for c in companions.get(i, ()))})


# ---------------------------------------------------------------- many articles: batches, then an overview


def _tokens(obj: object) -> int:
    """Estimated tokens of `obj` in a payload (written with indent=1, as the payloads are)."""
    return estimate_json_tokens(obj, indent=1)


def pack_batches(groups: list[StoryGroup], by_id: dict[str, ArticleSummary], budget: int,
                 digest_cost: dict[str, int] | None = None) -> list[list[StoryGroup]]:
    """Story groups packed into batches whose article digests fit the budget, in order. A group too
    large for one batch is cut into parts that each fit (they become separate stories)."""
    digest_cost = digest_cost or {aid: _tokens(article_digest(by_id[aid])) for g in groups for aid in g.article_ids}
    pieces: list[tuple[StoryGroup, int]] = []
    for g in groups:
        part: list[str] = []
        size = 0
        for aid in g.article_ids:
            cost = digest_cost[aid]
            if part and size + cost > budget:
                pieces.append((dataclasses.replace(g, article_ids=part), size))
                part, size = [], 0
            part.append(aid)
            size += cost
        pieces.append((dataclasses.replace(g, article_ids=part), size))
    batches: list[list[StoryGroup]] = []
    used = budget + 1
    for piece, cost in pieces:
        if used + cost > budget:
            batches.append([])
            used = 0
        batches[-1].append(piece)
        used += cost
    return batches


class EntityIndex:
    """The joined entities, indexed by article, so a batch's payload holds only what its articles use:
    the entities they mention and only the spellings they use (not every spelling of an entity found
    anywhere in the folder), built in time proportional to the batch, not to the whole folder."""

    def __init__(self, entities: list[BriefEntity]) -> None:
        self.entities = entities
        self.of_article: dict[str, list[int]] = defaultdict(list)
        self._articles = [set(e.article_ids) for e in entities]
        self._variants = [[(v.name, set(v.article_ids)) for v in e.variants] for e in entities]
        for n, e in enumerate(entities):
            for aid in e.article_ids:
                self.of_article[aid].append(n)

    def payload(self, ids: list[str]) -> list[dict[str, object]]:
        picked = sorted({n for aid in ids for n in self.of_article.get(aid, ())})
        ordered = sorted(ids)
        out: list[dict[str, object]] = []
        for n in picked:
            e, articles = self.entities[n], self._articles[n]
            out.append({"name_en": e.name_en, "type": e.type, "article_ids": [i for i in ordered if i in articles],
                        "variants": [name for name, where in self._variants[n] if not where.isdisjoint(ids)]})
        return out

    def cost(self, aid: str) -> int:
        """Tokens this article adds to a batch's entity list, at most (its entities with its own spellings)."""
        return sum(_tokens(item) for item in self.payload([aid]))


def _stories_payload(batch: list[StoryGroup], by_id: dict[str, ArticleSummary], entities: EntityIndex) -> str:
    ids = [aid for g in batch for aid in g.article_ids]
    return json.dumps({
        "articles": [article_digest(by_id[aid]) for aid in ids],
        "entities": entities.payload(ids),
        "story_groups": [_group_payload(g) for g in batch],
    }, ensure_ascii=False, indent=1)


def stories_call(n: int, batch: list[StoryGroup], by_id: dict[str, ArticleSummary], entities: EntityIndex,
                 prompts: Prompts, payload: str | None = None) -> Call:
    ids = [aid for g in batch for aid in g.article_ids]
    payload = payload or _stories_payload(batch, by_id, entities)
    rendered = prompts.render(STORIES_PROMPT, payload=payload, groups=len(batch), boundary=boundary_for(payload))
    return Call(stage="merge", subject=f"stories-{n}", prompt=STORIES_PROMPT, prompt_version=rendered.version,
                messages=rendered.messages, response_model=StoriesDraft, input_text=payload,
                context={"article_ids": ids})


def overview_call(stories: list[StoryDraft], stale: list[StaleArticle], total: int, newest: str | None, budget: int,
                  prompts: Prompts) -> Call:
    """The last call: the stories (largest first, as many as fit the budget), not the articles."""
    stale_listed = [s.model_dump(mode="json") for s in stale[:20]]
    base: dict[str, object] = {"articles": total, "newest": newest, "stale_articles": stale_listed,
                               "stale_not_listed": len(stale) - len(stale_listed), "stories_not_listed": len(stories)}
    used = _tokens(base) + 10
    listed: list[StoryDraft] = []
    for story in sorted(stories, key=lambda st: (-len(st.article_ids), st.title)):
        cost = _tokens(_story_item(story))
        if listed and used + cost > budget:
            break
        listed.append(story)
        used += cost
    payload = json.dumps({**base, "stories": [_story_item(st) for st in listed],
                          "stories_not_listed": len(stories) - len(listed)}, ensure_ascii=False, indent=1)
    rendered = prompts.render(OVERVIEW_PROMPT, payload=payload, boundary=boundary_for(payload))
    cited = sorted({aid for st in listed for aid in st.article_ids} | {s.article_id for s in stale[:20]})
    return Call(stage="merge", subject="overview", prompt=OVERVIEW_PROMPT, prompt_version=rendered.version,
                messages=rendered.messages, response_model=BriefOverview, input_text=payload,
                context={"article_ids": cited})


def _fit(batch: list[StoryGroup], cost: dict[str, int], budget: int) -> list[list[StoryGroup]]:
    """The batch, halved until its estimated input (articles, their entities, the groups) fits the budget.
    Sized from per-article costs computed once, never by serialising the batch again at every halving."""
    size = sum(cost[aid] + 2 for g in batch for aid in g.article_ids)
    if len(batch) == 1 or size <= budget:
        return [batch]
    half = len(batch) // 2
    return _fit(batch[:half], cost, budget) + _fit(batch[half:], cost, budget)


def _fitted_payloads(batch: list[StoryGroup], by_id: dict[str, ArticleSummary], entities: EntityIndex,
                     budget: int) -> list[tuple[list[StoryGroup], str]]:
    """Each batch with its payload, exactly within the budget (split again in the rare case the estimate
    was short)."""
    payload = _stories_payload(batch, by_id, entities)
    if len(batch) == 1 or estimate_tokens(payload) <= budget:
        return [(batch, payload)]
    half = len(batch) // 2
    return (_fitted_payloads(batch[:half], by_id, entities, budget)
            + _fitted_payloads(batch[half:], by_id, entities, budget))


def _story_item(story: StoryDraft) -> dict[str, object]:
    return {"title": story.title, "summary": story.summary, "article_ids": story.article_ids}


def _surely_over(digest_cost: dict[str, int], budget: int) -> bool:
    """Whether one merge call over these articles is over the budget, known from their digests' costs alone,
    without writing the whole folder's payload (a run of thousands of articles otherwise serialised them all
    to learn it needs batches). Exact: the payload holds each digest, so its estimate is at least the sum of
    theirs unrounded, and each rounded cost is less than one token above its unrounded one."""
    return sum(digest_cost.values()) - len(digest_cost) > budget


async def merge_in_batches(summaries: list[ArticleSummary], entities: list[BriefEntity], stale: list[StaleArticle],
                           groups: list[StoryGroup], budget: int, gateway: Gateway, prompts: Prompts,
                           digest_cost: dict[str, int]) -> BriefDraft:
    """The stories of each batch of story groups, then the overview. `digest_cost`: each article's digest's
    estimated tokens (build_brief measured them to choose batches)."""
    by_id = {s.id: s for s in summaries}
    index = EntityIndex(entities)
    cost = {aid: digest_cost[aid] + index.cost(aid) for aid in digest_cost}
    batches: list[tuple[list[StoryGroup], str]] = []
    for packed in pack_batches(groups, by_id, budget, digest_cost):
        for batch in _fit(packed, cost, budget):
            batches += _fitted_payloads(batch, by_id, index, budget)
    calls = [stories_call(n, b, by_id, index, prompts, payload) for n, (b, payload) in enumerate(batches, start=1)]
    # The gateway holds every request to the run's --concurrency (and the client to --rpm/--tpm).
    drafts = await asyncio.gather(*(gateway.ask(call) for call in calls))
    batches_kept = [d for d in drafts if isinstance(d, StoriesDraft)]
    stories = [st for d in batches_kept for st in d.stories]
    overview = await gateway.ask(overview_call(stories, stale, len(summaries), newest_published(summaries),
                                               budget, prompts))
    assert isinstance(overview, BriefOverview)
    merged = BriefDraft(
        title=overview.title,
        executive_summary=overview.executive_summary,
        stories=stories,
        disagreements=[d for draft in batches_kept for d in draft.disagreements] + overview.disagreements,
    )
    # Each answer kept in part says so, under the name of its request.
    merged._kept_warnings = [f"{call.subject}: {w}" for call, d in zip(calls, drafts, strict=True)
                             if isinstance(d, StoriesDraft) for w in d.kept_warnings]
    merged._kept_warnings += [f"overview: {w}" for w in overview.kept_warnings]
    return merged


def _why_no_merge(exc: BrieferError) -> str:
    """Why the merge step wrote nothing, in plain words (the exact message is listed under failures)."""
    if isinstance(exc, StaleRecording):
        return ("offline, the merge step's recording was made for other input (another set of articles, or "
                "other settings such as --stale-days or --merge-budget), so it is not replayed; the command that "
                "records it is listed under Failures")
    if isinstance(exc, MissingRecording):
        return "offline, the merge step was never recorded; the command that records it is listed under Failures"
    if isinstance(exc, BudgetExceeded):
        return "the merge request was not sent: --max-cost would have been exceeded"
    return "the merge request failed; the reason is listed under Failures"


def fallback_stories(groups: list[StoryGroup], summaries: list[ArticleSummary],
                     why: str = "the merge step did not run") -> list[Story]:
    """Stories from the deterministic groups alone, for when the merge call failed (or its answer, kept in
    part, has no story for them)."""
    by_id = {s.id: s for s in summaries}
    out = []
    for g in groups:
        newest = max((by_id[i] for i in g.article_ids), key=lambda s: (s.published or "", s.id))
        out.append(Story(
            title=newest.headline_en,
            summary=f"{newest.summary_en} (Grouped automatically by shared entities and dates; {why}.)",
            article_ids=g.article_ids,
            timeline=build_timeline(by_id[i] for i in g.article_ids),
            perspectives=[],
        ))
    return out


def with_timelines(stories: list[StoryDraft], summaries: list[ArticleSummary]) -> list[Story]:
    """Each story's timeline built by briefer from its articles' events, as the brief's timeline is:
    dates a model retells are not checked, so the model does not write them."""
    by_id = {s.id: s for s in summaries}
    return [Story(**st.model_dump(exclude={"since", "summary_atoms"}),  # the since line goes to the continuity
                  timeline=build_timeline(by_id[i] for i in sorted(set(st.article_ids))))
            for st in stories]


async def build_brief(inputs: MergeInputs, gateway: Gateway, prompts: Prompts) -> Brief:
    """The brief. If the merge call itself fails, the deterministic parts are still returned,
    with the failure listed, so nothing already produced is lost."""
    everything = sorted(inputs.summaries, key=lambda s: s.id)
    p = plan(everything, inputs.aliases, inputs.stale_after_days, inputs.story_window_days, inputs.earlier)
    summaries, entities, stale, groups = p.summaries, p.entities, p.stale, p.groups
    failures = list(inputs.failures)
    draft: BriefDraft | None = None
    why = ""
    try:
        if summaries:  # else every article was in the earlier brief: nothing to merge
            digest_cost = {s.id: _tokens(article_digest(s)) for s in summaries}
            call = None if _surely_over(digest_cost, inputs.merge_budget) else p.call(prompts)
            if call is not None and estimate_tokens(call.input_text) <= inputs.merge_budget:
                result = await gateway.ask(call)
            else:
                result = await merge_in_batches(summaries, entities, stale, groups, inputs.merge_budget, gateway,
                                                prompts, digest_cost)
            assert isinstance(result, BriefDraft)
            draft = result
    except EndpointError:
        raise
    except BrieferError as exc:
        reason = str(exc)
        raw = getattr(exc, "raw_output", None)
        if raw and inputs.keep_raw is not None:
            # "_merge": no article id starts with "_" (ingest/ids.py), so it never takes an article's place.
            reason += f" (last raw output: {inputs.keep_raw('_merge', raw)})"
        if p.earlier is not None:
            reason += merge_advice(p.earlier)
        failures.append(Failure(source_path="(merge)", kind=exc.kind, reason=reason))
        draft = None
        why = _why_no_merge(exc)
    quotes = sum(s.grounding.quotes for s in everything)
    verified = sum(s.grounding.verified for s in everything)
    published = date_range(summaries)
    stories = with_timelines(draft.stories, summaries) if draft else fallback_stories(groups, summaries)
    lines = [st.since for st in draft.stories] if draft else [None] * len(stories)
    merge_warnings = draft.kept_warnings if draft else []
    if merge_warnings:
        # A merge answer kept in part may have lost stories: no article vanishes with them.
        told_of = {aid for st in stories for aid in st.article_ids}
        untold = [g for g in groups if told_of.isdisjoint(g.article_ids)]
        if untold:
            stories += fallback_stories(untold, summaries, "the merge answer had no valid story for them")
            lines += [None] * len(untold)
            merge_warnings.append(f"{len(untold)} story group(s) no kept story covers: shown as grouped by "
                                  "briefer, summarised by their newest article")
    if draft:
        summary_lines, stories, disagreements = check_draft(draft, stories, summaries, entities)
    else:
        summary_lines, disagreements = [], []
    told = None
    if p.matcher is not None:
        # The model's since lines are kept only where briefer's own label says developing.
        told = continuity(stories, [_related(st.article_ids, p.companions) for st in stories], p.matcher, p.seen,
                          lines)
    if draft:
        title = draft.title
    elif not summaries and p.earlier:
        title = f"No new articles since the brief of {p.earlier.date}"
    else:
        title = f"Brief of {len(summaries)} articles (merge step failed)"
    return Brief(
        date=inputs.date,
        title=title,
        partial=bool(failures) or bool(merge_warnings) or any(s.warnings for s in everything),
        merge_warnings=merge_warnings,
        missing_parts=[] if draft or not summaries else [MissingPart(part=n, reason=why)
                                                         for n in get_args(MissingPartName)],
        date_range=published,
        newest_age_days=age_days(inputs.date, published[-1]) if published else None,
        stale_after_days=inputs.stale_after_days,
        continuity=told,
        executive_summary=summary_lines,
        stories=stories,
        entities=needed_entities(entities, stories),
        timeline=build_timeline(summaries),
        disagreements=disagreements,
        stale_articles=stale,
        articles=[
            ArticleRef(id=s.id, headline_en=s.headline_en, headline_original=s.headline_original,
                       outlet=s.outlet or s.site_name, published=s.published, language=s.language,
                       date_basis=s.date_basis, content_sha256=s.content_sha256, warnings=s.warnings, url=s.url,
                       canonical_url=s.canonical_url, site_name=s.site_name, page_title=s.page_title,
                       page_published=s.page_published)
            for s in everything
        ],
        failures=failures,
        skipped=inputs.skipped,
        notes=inputs.notes,
        stats=Stats(
            articles=len(everything),
            quotes=quotes,
            quotes_verified=verified,
            grounding_rate=round(verified / quotes, 4) if quotes else None,
            **support_stats(every_support(everything, summary_lines, stories, disagreements)),  # type: ignore[arg-type]
            chars_raw=sum(s.cleaning.raw_chars for s in everything),
            chars_removed=sum(s.cleaning.removed_chars for s in everything),
            tokens_raw_est=inputs.tokens_raw_est,
            tokens_saved_est=inputs.tokens_saved_est,
        ),
    )


def today() -> str:
    return dt.date.today().isoformat()
