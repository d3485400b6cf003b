"""The merge: what the model is asked for (drafts, kept in part when invalid) and the checked lines, stories
and timeline the brief holds."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from briefer.salvage import MISSING, keep_items, parse_partial, valid_value
from briefer.validation import current as validation_context

from .common import (
    ArticleIds,
    EventDateBasis,
    NonEmpty,
    PartialDate,
    Strict,
    Support,
    _check_citations,
    cited_ids,
)

_ATOMS = (
    "Ids of the articles' key points, claims and events this rests on, exactly as the input gives them (e.g. "
    "'004_6e0e75a60da96bca#k5'), at least one for each article cited; briefer checks the words against them."
)


def _unchecked(items: Any) -> Any:
    """A brief's list built from the merge's own items (a SummaryLine where a CheckedLine goes): taken as their
    fields, without a check (support null: shown as unchecked)."""
    if isinstance(items, list):
        return [i.model_dump() if isinstance(i, BaseModel) else i for i in items]
    return items


def _atoms() -> Any:
    return Field(default_factory=list, description=_ATOMS)


class SummaryLine(Strict):
    text: NonEmpty = Field(description="One sentence of the executive summary.")
    article_ids: ArticleIds
    atoms: list[NonEmpty] = _atoms()


class CheckedLine(SummaryLine):
    """A summary line in the brief, with briefer's check of it against the statements it cites."""

    support: Support | None = Field(default=None, description="briefer's check against the cited statements.")


class Sentence(Strict):
    """One sentence of a story's summary, with the statements it cites and briefer's check against them."""

    text: NonEmpty
    atoms: list[NonEmpty] = Field(default_factory=list, description="The statements it cites.")
    support: Support | None = Field(default=None, description="briefer's check against the cited statements.")


class TimelineReport(Strict):
    """One article's report of a timeline entry, with the date that article gives."""

    article_id: NonEmpty
    date: PartialDate = Field(description="The date this article's report gives, as checked by briefer.")


class TimelineEntry(Strict):
    """One event on a timeline, built by briefer from the articles' verified events: the same event
    reported by several articles is one entry citing all of them."""

    date: PartialDate = Field(description="ISO 8601 date, possibly partial (YYYY or YYYY-MM), as checked by briefer: "
                              "one every cited report supports (the least precise of their dates).")
    reports: list[TimelineReport] = Field(
        default_factory=list,
        description="Each cited article with the date its own report gives, when they differ in precision "
        "(a day from one, only the month from another); empty when they all give the entry's date.",
    )
    event: NonEmpty = Field(description="What happened, in English.")
    article_ids: ArticleIds
    date_basis: EventDateBasis | None = Field(
        default=None,
        description="stated (written in the event's quote), computed (by briefer from a relative date in the "
        "quote and the publication date) or outside (not in the article).",
    )
    date_note: str | None = Field(default=None, description="How briefer checked the date, when not simply stated.")
    attributed_to: str | None = Field(
        default=None, description="Who the articles say this comes from; null when the outlets say it themselves."
    )
    single_anonymous_source: bool = Field(
        default=False, description="True when every report of it rests on a single unnamed source."
    )


class Perspective(Strict):
    view: NonEmpty = Field(
        description="One view of the story, attributed as the sources attribute it; a source's framing words "
        "('the resistance', 'the occupation') stay quoted and attributed, never adopted."
    )
    article_ids: ArticleIds
    atoms: list[NonEmpty] = _atoms()


class CheckedPerspective(Perspective):
    support: Support | None = Field(default=None, description="briefer's check against the cited statements.")


class SinceDraft(Strict):
    text: NonEmpty = Field(
        description="What today's articles add to the earlier brief's story this story continues, in one or two "
        "English sentences, attributed as the sources attribute it."
    )
    article_ids: ArticleIds


class StoryDraft(Strict):
    """A story as the merge model writes it; briefer adds its timeline from the articles' events."""

    title: NonEmpty = Field(description="Short English title of the story.")
    summary: NonEmpty = Field(
        description="What the articles in this story report, in 2 to 5 sentences, saying who says what."
    )
    article_ids: ArticleIds
    summary_atoms: list[list[NonEmpty]] = Field(
        default_factory=list,
        description="For each sentence of summary, in order, the ids of the key points, claims and events it "
        "rests on (as for atoms).",
    )
    perspectives: list[Perspective] = Field(description="The distinct views the sources give, without taking sides.")
    since: SinceDraft | None = Field(
        default=None,
        description="Only for a story whose group lists earlier_stories: what is new since then, citing today's "
        "articles; null when there is nothing new, or no earlier story.",
    )


class Story(Strict):
    """A story in the brief: the model's draft plus the timeline briefer builds from its articles' events."""

    title: NonEmpty = Field(description="Short English title of the story.")
    summary: NonEmpty = Field(description="What the articles in this story report, in 2 to 5 sentences.")
    article_ids: ArticleIds
    timeline: list[TimelineEntry] = Field(
        description="Dated events of this story, oldest first, built by briefer from its articles' events."
    )
    perspectives: list[CheckedPerspective] = Field(
        description="The distinct views the sources give, without taking sides.")

    _perspectives = field_validator("perspectives", mode="before")(_unchecked)
    sentences: list[Sentence] = Field(
        default_factory=list, description="The summary's sentences, each with briefer's check against what it cites."
    )


StoryLabel = Literal["new", "developing", "continuing"]


class Since(Strict):
    text: NonEmpty = Field(description="What changed since the earlier brief, citing today's articles.")
    article_ids: ArticleIds
    written_by: Literal["model", "briefer"] = Field(
        description="model: the merge model wrote it; briefer: no model line, so briefer listed the new "
        "articles' headlines."
    )


class Continuation(Strict):
    """How a story of this brief stands to the earlier brief's stories (decided by briefer, not the model)."""

    label: StoryLabel = Field(
        description="new: matches no earlier story; developing: continues one, with newer articles; "
        "continuing: continues one, with nothing newer than the earlier brief had."
    )
    earlier_titles: list[str] = Field(description="Titles of the earlier brief's stories it continues.")
    since: Since | None = Field(description="For a developing story: what changed; else null.")


class Position(Strict):
    position: NonEmpty = Field(description="One side of the disagreement, attributed.")
    article_ids: ArticleIds
    atoms: list[NonEmpty] = _atoms()


class CheckedPosition(Position):
    support: Support | None = Field(default=None, description="briefer's check against the cited statements.")


class Disagreement(Strict):
    topic: NonEmpty = Field(description="What the sources disagree about.")
    positions: list[Position] = Field(min_length=2, description="Each position with the articles that hold it.")


class CheckedDisagreement(Strict):
    topic: NonEmpty
    positions: list[CheckedPosition] = Field(min_length=2)

    _positions = field_validator("positions", mode="before")(_unchecked)


# The items of a merge answer's lists, each kept or dropped on its own (CitesKnownArticles.keep_valid).
_DRAFT_ITEMS: dict[str, type[BaseModel]] = {
    "executive_summary": SummaryLine, "stories": StoryDraft, "disagreements": Disagreement,
}


class CitesKnownArticles(Strict):
    """An answer whose cited article ids must be among those the request gave (validation context
    "article_ids"); a live model citing an unknown id is re-asked with the error."""

    # The list an answer kept in part must keep at least one item of (else it fails whole), as the title.
    _kept_at_least: ClassVar[str] = "executive_summary"

    # What briefer kept this answer in spite of (keep_valid): empty for an answer valid as a whole.
    _kept_warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def kept_warnings(self) -> list[str]:
        return list(self._kept_warnings)

    @model_validator(mode="after")
    def _citations_exist(self, info: ValidationInfo) -> CitesKnownArticles:
        known = validation_context(info.context).get("article_ids")
        if known is not None:
            _check_citations(self, set(known))
        return self

    @classmethod
    def keep_valid(cls, raw: str, context: dict[str, Any] | None, *, cut_off: bool,
                   completion_tokens: int) -> Self | None:
        """What can be kept of a merge answer still invalid after the re-asks (or cut off at the token limit):
        each list item (summary line, story, disagreement) valid on its own and citing only articles the
        request gave, with a warning for each thing left out; None when too little is left.

        Hard (None): no JSON object, no valid title (when the answer has one), or not one valid item in the
        list the answer is for (`_kept_at_least`: the executive summary, or a batch's stories)."""
        data = parse_partial(raw)
        if data is None:
            return None
        known = validation_context(context).get("article_ids")
        order = [name for name in cls.model_fields if name in data]
        last = order[-1] if order else None  # where a cut-off answer stopped
        kept: dict[str, Any] = {}
        warnings: list[str] = []
        if "title" in cls.model_fields:
            if not valid_value(NonEmpty, data.get("title", MISSING)):
                return None
            kept["title"] = data["title"]
        missing = []
        for name in ("executive_summary", "stories", "disagreements"):
            if name not in cls.model_fields:
                continue
            items = data.get(name)
            if not isinstance(items, list):
                missing.append(name)
                kept[name] = []
                continue
            result = keep_items(_DRAFT_ITEMS[name], items)
            invalid = result.invalid - (1 if cut_off and name == last and result.invalid else 0)  # the cut item
            cited = [item for item in result.items if known is None or set(cited_ids(item)) <= set(known)]
            unknown = sorted({i for item in result.items for i in cited_ids(item)} - set(known or ()))
            kept[name] = cited
            for count, why in ((invalid, "that broke the schema"), (result.repeated, "repeated"),
                               (len(result.items) - len(cited), f"citing unknown article ids ({', '.join(unknown)})")):
                if count:
                    warnings.append(f"{name}: {count} item{'s' if count > 1 else ''} {why} dropped")
        if not kept[cls._kept_at_least]:
            return None
        if missing:
            warnings.append(f"missing from the answer: {', '.join(missing)}")
        try:
            answer = cls.model_validate(kept, context=context)
        except ValueError:
            return None
        if cut_off:
            warnings.insert(0, f"the answer was cut off at the token limit after {completion_tokens} tokens; what "
                            "came before is kept")
        answer._kept_warnings = warnings
        return answer


class BriefDraft(CitesKnownArticles):
    """What the merge call asks of the model; briefer adds the deterministic parts."""

    title: NonEmpty = Field(description="A short English title for the day's brief.")
    executive_summary: list[SummaryLine] = Field(
        min_length=1, description="3 to 7 sentences a busy reader needs, each citing its articles."
    )
    stories: list[StoryDraft] = Field(description="Articles about the same events grouped into stories.")
    disagreements: list[Disagreement] = Field(
        description="Where the sources contradict each other: each position with its sources, without taking sides."
    )


class StoriesDraft(CitesKnownArticles):
    """One batch of a large merge: the stories of the story groups given, and their disagreements."""

    _kept_at_least: ClassVar[str] = "stories"

    stories: list[StoryDraft] = Field(
        description="One story per story group given (refine the groups if needed)."
    )
    disagreements: list[Disagreement] = Field(
        description="Where the sources in this batch contradict each other, each position with its sources."
    )


class BriefOverview(CitesKnownArticles):
    """The last step of a large merge: what the whole day's news is, from its stories."""

    title: NonEmpty = Field(description="A short English title for the day's brief.")
    executive_summary: list[SummaryLine] = Field(
        min_length=1, description="3 to 7 sentences a busy reader needs, each citing the articles of its stories."
    )
    disagreements: list[Disagreement] = Field(
        description="Contradictions between stories (not within one), each position with its sources."
    )
