"""The daily brief: entities, stale articles, continuity with an earlier brief, failures, stats, and Brief."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from briefer.errors import FailureKind

from .common import (
    ArticleIds,
    EntityType,
    NonEmpty,
    PartialDate,
    Strict,
    _check_citations,
)
from .drafts import CheckedDisagreement, CheckedLine, Continuation, Story, TimelineEntry, _unchecked
from .sources import ArticleRef, OutletRef


class Variant(Strict):
    name: NonEmpty = Field(description="A spelling of the entity, as written in an article or in English.")
    article_ids: ArticleIds


class BriefEntity(Strict):
    name_en: NonEmpty
    variants: list[Variant]
    type: EntityType
    role_en: str | None = Field(
        default=None,
        description="Who or what this is, as most articles describe it (the first form of the most common role).",
    )
    article_ids: ArticleIds
    role_article_ids: list[NonEmpty] = Field(
        default_factory=list, description="The articles that give role_en, and only those (what the role cites)."
    )
    role_as_of: PartialDate | None = Field(
        default=None,
        description="The newest publication date of those articles: the role is as of that reporting, and is not "
        "presented as current in a brief dated later.",
    )


class StaleArticle(Strict):
    article_id: NonEmpty
    published: PartialDate | None
    reason: NonEmpty



class EarlierBrief(Strict):
    path: NonEmpty = Field(description="The folder of the earlier brief, as given or found.")
    date: PartialDate
    title: NonEmpty


class EarlierStory(Strict):
    title: NonEmpty
    summary: NonEmpty


class Continuity(Strict):
    """What this brief was compared with, and what that comparison found."""

    compared_with: EarlierBrief
    already_reported: list[NonEmpty] = Field(
        description="Ids of this folder's articles that the earlier brief already had (same content): taken "
        "from the cache, not told again as news."
    )
    stories: list[Continuation] = Field(description="One per story of this brief, in the same order.")
    no_new_reporting: list[EarlierStory] = Field(
        description="The earlier brief's stories that no story of this brief continues."
    )


class Failure(Strict):
    source_path: NonEmpty
    kind: FailureKind = Field(description="stale_recording / missing_recording (offline replay), model_error.")
    reason: NonEmpty


class Skipped(Strict):
    source_path: NonEmpty
    reason: NonEmpty


class IngestNote(Strict):
    source_path: NonEmpty
    note: NonEmpty = Field(description="What ingest did to a file it read: a guessed encoding, a truncation.")


class Stats(Strict):
    """What the brief rests on. What the run spent or replayed is in the run report (run.json), not here: a
    replayed run writes the same brief.json as the live one."""

    articles: int = Field(description="Articles summarised.")
    quotes: int = Field(description="Evidence quotes across all summaries.")
    quotes_verified: int = Field(description="Quotes briefer located in their source text.")
    grounding_rate: float | None = Field(description="quotes_verified / quotes; null when there are no quotes.")
    statements: int = Field(default=0, description="Statements briefer checked against their evidence: the "
                            "articles' key points, claims and events, and the merge's sentences.")
    statements_supported: int = Field(default=0, description="Statements checked and supported.")
    statements_unsupported: int = Field(default=0, description="Statements a check found wrong (marked ⚠).")
    statements_unchecked: int = Field(default=0, description="Statements briefer could not check (listed).")
    support_rate: float | None = Field(default=None, description="statements_supported / statements; null when "
                                       "there are none.")
    chars_raw: int = Field(description="Characters of the articles before cleaning.")
    chars_removed: int = Field(description="Characters removed by cleaning.")
    tokens_raw_est: int = Field(description="Estimated tokens of the articles before cleaning.")
    tokens_saved_est: int = Field(description="Estimated tokens cleaning kept from the model.")

    @model_validator(mode="before")
    @classmethod
    def _older_counters(cls, data: Any) -> Any:
        """A brief.json written before the run report held the run's counters here: read it (the earlier brief
        of --since), without them. Only these names; any other unknown key is still refused."""
        if isinstance(data, dict) and LEGACY_RUN_COUNTERS & data.keys():
            return {k: v for k, v in data.items() if k not in LEGACY_RUN_COUNTERS}
        return data


# Stats' fields before the run report (run.json) took them.
LEGACY_RUN_COUNTERS = frozenset({"model_calls", "cache_hits", "http_attempts", "prompt_tokens", "completion_tokens",
                                 "usage_by_stage", "price", "cost_usd_est"})


MissingPartName = Literal["title", "executive_summary", "story_summaries", "perspectives", "disagreements"]


class MissingPart(Strict):
    """A part of the brief that only the merge step writes, and that this brief lacks."""

    part: MissingPartName = Field(description="title / executive_summary / story_summaries (the stories are the "
                                  "deterministic groups, summarised by their newest article) / perspectives / "
                                  "disagreements.")
    reason: NonEmpty = Field(description="Why it is missing, in plain words.")


class Brief(Strict):
    date: PartialDate = Field(description="The day this brief is for.")
    title: NonEmpty
    partial: bool = Field(description="True when some articles failed (listed in failures) or were kept only in "
                          "part (their warnings in articles[].warnings), or the merge answer was kept only in "
                          "part (merge_warnings).")
    merge_warnings: list[str] = Field(
        default_factory=list,
        description="What briefer left out of the merge answer, not valid as a whole, when it kept the rest "
        "(empty when the answer was valid, or failed: see missing_parts).",
    )
    missing_parts: list[MissingPart] = Field(
        default_factory=list,
        description="Parts the merge step would have written and could not (empty when it ran). The "
        "deterministic parts (stories grouped by shared entities and dates, entities, timeline, stale "
        "articles, sources) are always written.",
    )
    date_range: list[PartialDate] = Field(
        default_factory=list,
        description="[earliest, newest] publication dates of the articles (partial ISO dates as known); "
        "empty when no article's date is known.",
    )
    newest_age_days: int | None = Field(
        default=None,
        description="Days from the newest article's latest possible day to the brief's date: how old the "
        "newest news is, at least. Null when no article's date is known.",
    )
    stale_after_days: int = Field(
        default=7,
        description="Articles older by more than this many days than the newest article are listed as stale; "
        "when the newest is older than the brief's date by more, none of the articles is today's news.",
    )
    continuity: Continuity | None = Field(
        default=None, description="The comparison with the earlier brief (--since); null when there was none."
    )
    executive_summary: list[CheckedLine]
    stories: list[Story]
    entities: list[BriefEntity]
    timeline: list[TimelineEntry]
    disagreements: list[CheckedDisagreement]
    stale_articles: list[StaleArticle]
    articles: list[ArticleRef]
    failures: list[Failure]
    skipped: list[Skipped]
    notes: list[IngestNote]
    stats: Stats
    outlets: list[OutletRef] = Field(
        default_factory=list,
        description="Every outlet of the sources with its description, in the order of the sources: who holds each "
        "perspective and position, by their article_ids.")

    _checked = field_validator("executive_summary", "disagreements", mode="before")(_unchecked)

    @model_validator(mode="after")
    def _citations_exist(self) -> Brief:
        _check_citations(self, {a.id for a in self.articles})
        return self
