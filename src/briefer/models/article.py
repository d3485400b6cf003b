"""One article: the model's extraction (and what is kept of an invalid one), its digest, and the summary
briefer reports with its quotes located."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from briefer.salvage import MISSING, keep_items, parse_partial, valid_value
from briefer.validation import current as validation_context

from .common import (
    _ATTRIBUTED_TO,
    _SINGLE_ANONYMOUS,
    _VERBATIM,
    KEEPING,
    DateBasis,
    EntityType,
    EventDateBasis,
    LanguageCode,
    NonEmpty,
    PartialDate,
    Span,
    Strict,
    Support,
    _at_most,
    count_sentences,
)

# ---------------------------------------------------------------- one article


class KeyPoint(Strict):
    text_en: NonEmpty = Field(description="The point, in English.")
    evidence_quote: NonEmpty = Field(description=_VERBATIM)
    attributed_to: str | None = Field(description=_ATTRIBUTED_TO)
    single_anonymous_source: bool = Field(description=_SINGLE_ANONYMOUS)


class Entity(Strict):
    name_en: NonEmpty = Field(description="Usual English name.")
    names_original: list[NonEmpty] = Field(min_length=1, description="Spellings as written.")
    type: EntityType = Field(description="Its kind.")
    role_en: str = Field(description="Its role, in English.")


class Claim(Strict):
    speaker_en: NonEmpty = Field(description="Who said it, as attributed.")
    claim_en: NonEmpty = Field(description="What they said, in English.")
    evidence_quote: NonEmpty = Field(description=_VERBATIM)
    single_anonymous_source: bool = Field(description=_SINGLE_ANONYMOUS)


class Event(Strict):
    date: PartialDate | None = Field(description="ISO 8601, or null.")
    description_en: NonEmpty = Field(description="What happened, one English sentence.")
    evidence_quote: NonEmpty = Field(description=_VERBATIM + " With its date words.")
    date_basis: EventDateBasis | None = Field(description="How it is dated; null with date.")
    attributed_to: str | None = Field(description=_ATTRIBUTED_TO)
    single_anonymous_source: bool = Field(description=_SINGLE_ANONYMOUS)

    # Set by keep_valid on an event whose date came without a basis: its date_basis ("outside") is briefer's
    # placeholder, not the model's word, and the date is checked against the quote as an unbacked claim.
    _basis_missing: bool = PrivateAttr(default=False)

    @property
    def basis_missing(self) -> bool:
        return self._basis_missing

    @model_validator(mode="after")
    def _basis_with_date(self) -> Event:
        if (self.date is None) != (self.date_basis is None):
            raise ValueError("date_basis must be null exactly when date is null: give both or neither")
        return self


_SOURCING = {"attributed_to": None, "single_anonymous_source": False}


def _fill_sourcing(item_type: type[BaseModel], name: str, items: list[Any]) -> tuple[list[Any], list[str]]:
    """Items that leave out their sourcing fields altogether (a small model without a grammar writes the short
    form of a key point: text and quote), kept as not attributed, with a warning: the rest of the item is the
    model's, and the article is flagged. An item broken otherwise too is left as it is (and dropped)."""
    fields = [f for f in _SOURCING if f in item_type.model_fields]
    out: list[Any] = []
    filled = 0
    for item in items:
        if isinstance(item, dict) and any(f not in item for f in fields):
            candidate = {**{f: _SOURCING[f] for f in fields if f not in item}, **item}
            try:
                item_type.model_validate({k: v for k, v in candidate.items() if k in item_type.model_fields})
            except ValueError:
                pass
            else:
                item, filled = candidate, filled + 1
        out.append(item)
    if not filled:
        return out, []
    plural = "s" if filled > 1 else ""
    return out, [f"{name}: {filled} item{plural} without {' or '.join(fields)}: kept, shown as not attributed"]


def _repair_event_dates(items: list[Any]) -> tuple[list[Any], list[str], list[str]]:
    """Events whose date and date_basis do not pair, mended without inventing anything (once the re-asks are
    spent; a small model breaks this rule in most events). A basis without a date, or a date that is not a date,
    is dropped with its basis: the event is kept undated. A date without a (valid) basis is kept for briefer to
    check against the event's quote (extract/datecheck.py), as a claim nobody backed: its placeholder basis is
    marked (`basis_missing`). Returns the items, the JSON of those so marked, and the warnings."""
    out: list[Any] = []
    unbacked: list[str] = []
    undated = no_basis = 0
    for item in items:
        if not isinstance(item, dict):
            out.append(item)
            continue
        date, basis = item.get("date"), item.get("date_basis")
        date_ok = date is not None and valid_value(PartialDate, date)
        basis_ok = basis is not None and valid_value(EventDateBasis, basis)
        if date_ok and basis_ok or date is None and basis is None:
            out.append(item)
            continue
        repaired = {**item, "date_basis": "outside"} if date_ok else {**item, "date": None, "date_basis": None}
        try:  # an event broken otherwise too (cut off, a field missing) is not mended: it is dropped as it is
            # (its sourcing left out is mended next, by _fill_sourcing, as the defaults here)
            known = {k: v for k, v in repaired.items() if k in Event.model_fields}
            event = Event.model_validate({**_SOURCING, **known})
        except ValueError:
            out.append(item)
            continue
        out.append(repaired)
        if date_ok:
            unbacked.append(event.model_dump_json())
            no_basis += 1
        else:
            undated += 1
    warnings = []
    if undated:
        plural = "s" if undated > 1 else ""
        warnings.append(f"events: {undated} date_basis given without a valid date: the event{plural} kept undated")
    if no_basis:
        warnings.append(f"events: {no_basis} date{'s' if no_basis > 1 else ''} given without a date_basis: "
                        "checked against the event's quote by briefer")
    return out, unbacked, warnings


class ArticleExtraction(Strict):
    """One article's record."""

    language: LanguageCode = Field(description="ISO 639-1 code.")
    outlet: str | None = Field(description="The outlet or null.")
    published: PartialDate | None = Field(description="Publication date, ISO 8601, or null.")
    date_basis: DateBasis = Field(description="How the date is known.")
    date_evidence: str | None = Field(description="Verbatim passage it rests on, or null.")
    headline_original: NonEmpty = Field(description="The headline as written.")
    headline_en: NonEmpty = Field(description="The headline in English.")
    # Early in the record: an answer cut off loses its last fields first, and the translation is the one thing the
    # reader cannot get elsewhere.
    translation_en: list[str] = Field(description="The body in English, one item per paragraph.")
    summary_en: NonEmpty = Field(description="English summary, 3 to 6 sentences.")
    key_points: list[KeyPoint] = Field(min_length=1, json_schema_extra=_at_most("key_points"),
                                       description="The main points.")
    entities: list[Entity] = Field(json_schema_extra=_at_most("entities"),
                                   description="People, organisations, places.")
    claims: list[Claim] = Field(json_schema_extra=_at_most("claims"), description="Who said what.")
    events: list[Event] = Field(json_schema_extra=_at_most("events"), description="What happened or will.")
    topics: list[NonEmpty] = Field(json_schema_extra=_at_most("topics"), description="Short English topic labels.")

    # What briefer kept this answer in spite of (keep_valid): empty for an answer valid as a whole.
    _kept_warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def kept_warnings(self) -> list[str]:
        return list(self._kept_warnings)

    def soft_problems(self, paragraph_count: int | None) -> list[str]:
        """The rules an answer is re-asked for, and kept in spite of once the re-asks are spent."""
        problems = _summary_and_date_problems(self.summary_en, self.published, self.date_basis)
        if paragraph_count is not None and len(self.translation_en) != paragraph_count:
            problems.append(
                f"translation_en has {len(self.translation_en)} items but the article has {paragraph_count} "
                "paragraphs: translate every paragraph, one item per paragraph, in order"
            )
        return problems

    @model_validator(mode="after")
    def _check_against_source(self, info: ValidationInfo) -> ArticleExtraction:
        context = validation_context(info.context)
        if context.get(KEEPING):
            return self
        # Every problem at once: a re-ask that names only the first gets an answer with the next one.
        if problems := self.soft_problems(context.get("paragraph_count")):
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def keep_valid(cls, raw: str, context: dict[str, Any] | None, *, cut_off: bool,
                   completion_tokens: int) -> ArticleExtraction | None:
        """What can be kept of an answer still invalid after the re-asks (or cut off at the token limit), with
        a warning for each thing left out or wrong; None when nothing usable is left.

        Hard (None): no JSON object, or no valid language, headline, English headline, summary, or key point.
        Soft (kept, warned): the summary's sentence count; a publication date that breaks its rules (made
        unknown); an event's date and date_basis that do not pair (mended, never a date made up); an item that
        leaves out its sourcing fields (kept as not attributed); list items that break the schema otherwise or
        repeat an earlier one (dropped); lists cut off or left
        out (empty); a translation with fewer or more items than paragraphs (kept as it is: the article is
        flagged as translation incomplete). An answer cut off at the token limit loses its unfinished end."""
        data = parse_partial(raw)
        if data is None:
            return None
        context = dict(context or {})
        expected = context.get("paragraph_count")
        order = [name for name in cls.model_fields if name in data]
        last = order[-1] if order else None  # where a cut-off answer stopped
        kept: dict[str, Any] = {}
        warnings: list[str] = []
        summary = data.get("summary_en")
        if isinstance(summary, list) and summary and all(isinstance(s, str) for s in summary):
            # A weak model writes the summary as a list of sentences, in the shape of the translation before it.
            data["summary_en"] = " ".join(s.strip() for s in summary if s.strip())
            warnings.append("summary_en was written as a list of sentences; they are joined into one text")
        for name in ("language", "headline_original", "headline_en", "summary_en"):
            if not valid_value(cls.model_fields[name].rebuild_annotation(), data.get(name, MISSING)):
                return None
            kept[name] = data[name]
        warnings += cls._kept_dates(data, kept)
        lists = _kept_lists(data, kept, last if cut_off else None)
        warnings += lists.warnings
        if not kept["key_points"]:
            return None
        try:
            answer = cls.model_validate(kept, context={**context, KEEPING: True})
        except ValueError:
            return None
        if cut_off:
            warnings.insert(0, f"the answer was cut off at the token limit after {completion_tokens} tokens"
                            + (f", repeating {lists.looping} (a loop)" if lists.looping else "")
                            + "; what came before is kept")
        n = count_sentences(answer.summary_en)
        if not 3 <= n <= 6:
            warnings.append(f"summary_en has {n} sentence{'s' if n != 1 else ''} (3 to 6 asked)")
        if expected is not None and len(answer.translation_en) != expected:
            warnings.append(translation_warning(len(answer.translation_en), expected))
        answer._kept_warnings = warnings
        for event in answer.events:
            event._basis_missing = event.model_dump_json() in lists.unbacked_events
        return answer

    @classmethod
    def _kept_dates(cls, data: dict[str, Any], kept: dict[str, Any]) -> list[str]:
        """The outlet and publication date of an answer kept in part (into `kept`): as given when they keep
        their rules, else the date unknown; the warning, if any."""
        dated = {name: data.get(name, MISSING) for name in ("outlet", "published", "date_basis", "date_evidence")}
        if all(valid_value(cls.model_fields[n].rebuild_annotation(), v) for n, v in dated.items()) and not \
                _date_problems(dated["published"], dated["date_basis"]):
            kept.update(dated)
            return []
        outlet = dated["outlet"]
        kept.update(outlet=outlet if valid_value(str | None, outlet) else None, published=None,
                    date_basis="unknown", date_evidence=None)
        return ["the publication date was missing or broke its rules: kept as unknown"]


@dataclass
class _KeptLists:
    warnings: list[str] = dc_field(default_factory=list)
    looping: str | None = None  # the list a cut-off answer was repeating when it stopped
    unbacked_events: list[str] = dc_field(default_factory=list)


_LIST_ITEMS: tuple[tuple[str, Any], ...] = (("key_points", KeyPoint), ("entities", Entity), ("claims", Claim),
                                            ("events", Event), ("topics", NonEmpty))
_SOURCED: dict[str, type[BaseModel]] = {"key_points": KeyPoint, "claims": Claim, "events": Event}


def _kept_lists(data: dict[str, Any], kept: dict[str, Any], cut_in: str | None) -> _KeptLists:
    """The lists of an answer kept in part (into `kept`): each item valid on its own, events' dates mended,
    sourcing filled in; `cut_in` is the field a cut-off answer stopped in (its last item is not counted as
    broken). The translation keeps its valid prefix."""
    out = _KeptLists()
    missing = []
    for name, item_type in _LIST_ITEMS:
        items = data.get(name)
        if not isinstance(items, list):
            missing.append(name)
            kept[name] = []
            continue
        if name == "events":
            items, out.unbacked_events, repaired = _repair_event_dates(items)
            out.warnings += repaired
        if name in _SOURCED:
            items, repaired = _fill_sourcing(_SOURCED[name], name, items)
            out.warnings += repaired
        result = keep_items(item_type, items)
        kept[name] = result.items
        invalid = result.invalid - (1 if name == cut_in and result.invalid else 0)  # the cut item
        if result.repeated:
            out.warnings.append(f"{name}: {result.repeated} repeated item{'s' if result.repeated > 1 else ''} "
                                "dropped")
            if name == cut_in:
                out.looping = name
        if invalid:
            out.warnings.append(f"{name}: {invalid} item{'s' if invalid > 1 else ''} that broke the schema dropped")
    translation = data.get("translation_en")
    if isinstance(translation, list):
        kept["translation_en"] = keep_items(str, translation, prefix_only=True).items
    else:
        missing.append("translation_en")
        kept["translation_en"] = []
    if missing:
        out.warnings.append(f"missing from the answer: {', '.join(missing)}")
    return out


TRANSLATION_INCOMPLETE = "translation incomplete"


def translation_warning(items: int, paragraphs: int) -> str:
    """The warning of an article whose translation does not have one item per paragraph."""
    if items < paragraphs:
        return f"{TRANSLATION_INCOMPLETE}: {items} of {paragraphs} paragraphs translated"
    return f"{TRANSLATION_INCOMPLETE}: {items} items for {paragraphs} paragraphs (not aligned)"


class GroundedKeyPoint(KeyPoint):
    verified: bool = Field(description="True when briefer found the quote's words in the source text.")
    span: Span | None = Field(description="Where the quote stands in the source; null when not found.")
    support: Support | None = Field(default=None, description="briefer's check of the statement against its quote.")


class GroundedClaim(Claim):
    verified: bool = Field(description="True when briefer found the quote's words in the source text.")
    span: Span | None = Field(description="Where the quote stands in the source; null when not found.")
    support: Support | None = Field(default=None, description="briefer's check of the statement against its quote.")


class GroundedEvent(Event):
    """An event as briefer reports it: its quote located, its date and basis checked against the quote
    (extract/datecheck.py); `date` and `date_basis` are briefer's, the model's date is in date_as_given."""

    verified: bool = Field(description="True when briefer found the quote's words in the source text.")
    span: Span | None = Field(description="Where the quote stands in the source; null when not found.")
    date_as_given: PartialDate | None = Field(
        description="The model's date when briefer changed it (cut back to what the quote supports, or "
        "recomputed from the quote); null when the date stands as the model gave it."
    )
    date_note: str | None = Field(
        description="How briefer checked the date, when it is not simply stated in the quote: computed from a "
        "relative expression, cut back, or from outside the article."
    )
    support: Support | None = Field(default=None, description="briefer's check of the statement against its quote.")


class Grounding(Strict):
    quotes: int = Field(
        description="Evidence quotes in the article's summary (key points, claims, events, date evidence)."
    )
    verified: int = Field(description="Quotes briefer located in the source text.")
    rate: float | None = Field(description="verified / quotes; null when there are no quotes.")
    unverified: list[str] = Field(description="The quotes that were not found, as the model gave them.")


def _summary_and_date_problems(summary_en: str, published: str | None, date_basis: str) -> list[str]:
    problems = []
    n = count_sentences(summary_en)
    if not 3 <= n <= 6:
        problems.append(f"summary_en has {n} sentences; write 3 to 6")
    return problems + _date_problems(published, date_basis)


def _date_problems(published: str | None, date_basis: str) -> list[str]:
    if date_basis == "unknown" and published is not None:
        return ["date_basis is 'unknown' but published is set"]
    if date_basis != "unknown" and published is None:
        return [f"date_basis is '{date_basis}' but published is null"]
    return []


class ArticleDigest(Strict):
    """The reduce step for a long article read in parts: what the whole article says, from the parts."""

    language: LanguageCode = Field(description="ISO 639-1 code of the article's language.")
    outlet: str | None = Field(description="The outlet that published the article, if the parts name it; else null.")
    published: PartialDate | None = Field(description="Publication date, ISO 8601 (possibly partial), or null.")
    date_basis: DateBasis = Field(description="'explicit', 'inferred' or 'unknown', as for a single article.")
    date_evidence: str | None = Field(
        description="The verbatim passage the date rests on, taken from the parts' date evidence; null if unknown."
    )
    headline_en: NonEmpty = Field(description="The headline translated into English.")
    summary_en: NonEmpty = Field(description="A neutral English summary of the whole article in 3 to 6 sentences.")
    key_points: list[KeyPoint] = Field(
        min_length=1,
        json_schema_extra=_at_most("key_points"),
        description="The main points of the whole article, chosen from the parts' key points, each with its "
        "evidence_quote copied exactly as the part gives it.",
    )
    topics: list[NonEmpty] = Field(json_schema_extra=_at_most("topics"),
                                   description="A few short English topic labels.")

    @model_validator(mode="after")
    def _check(self) -> ArticleDigest:
        if problems := _summary_and_date_problems(self.summary_en, self.published, self.date_basis):
            raise ValueError("; ".join(problems))
        return self


class CleaningStats(Strict):
    raw_chars: int = Field(description="Characters in the file as read.")
    clean_chars: int = Field(description="Characters after cleaning (headline and paragraphs).")
    removed_chars: int = Field(description="raw_chars - clean_chars.")
    removed_lines: int = Field(description="Lines of scraping noise removed.")
    removed_text: list[str] = Field(description="The lines cleaning removed, as written, in order (what the "
                                    "model was not sent).")
    raw_tokens_est: int = Field(description="Estimated tokens of the file's text as read.")
    clean_tokens_est: int = Field(description="Estimated tokens after cleaning: what the model is sent.")


class ArticleSummary(Strict):
    """One article as briefer reports it: identity, cleaning figures, and the model's extraction."""

    id: NonEmpty = Field(description="Stable id derived from the file name.")
    source_path: NonEmpty = Field(description="Path of the source file, relative to the folder summarised.")
    content_sha256: NonEmpty = Field(description="SHA-256 of the file's bytes.")
    cleaning: CleaningStats
    language: LanguageCode
    outlet: str | None
    published: PartialDate | None
    date_basis: DateBasis
    date_evidence: str | None
    date_evidence_verified: bool | None = Field(description="Whether the date evidence was found; null if none.")
    date_evidence_span: Span | None
    published_as_given: PartialDate | None = Field(
        default=None,
        description="The model's publication date when briefer cut it back to what the text writes; else null.",
    )
    published_note: str | None = Field(
        default=None,
        description="Why briefer changed the publication date or its basis (cut back; not explicit); else null.",
    )
    headline_original: NonEmpty
    headline_en: NonEmpty
    summary_en: NonEmpty
    key_points: list[GroundedKeyPoint]
    entities: list[Entity]
    claims: list[GroundedClaim]
    events: list[GroundedEvent]
    dateline: str | None = Field(description="The page's date line, as found by cleaning (metadata).")
    paragraphs_original: list[str] = Field(description="The cleaned article body, one item per paragraph, as written.")
    translation_en: list[str] = Field(description="English translation, item i translating paragraphs_original[i].")
    topics: list[NonEmpty]
    grounding: Grounding
    url: str | None = Field(default=None, description="The article's address as its file gives it (a page's og:url "
                            "or canonical link, a feed record's url or link, front matter's url); null if none.")
    canonical_url: str | None = Field(default=None, description="The page's canonical address (<link rel=canonical>, "
                                      "a feed's or front matter's canonical_url); null if none.")
    site_name: str | None = Field(default=None, description="The outlet's name as the file gives it (og:site_name, a "
                                  "feed's site or source, front matter's site_name); null if none.")
    page_title: str | None = Field(default=None, description="The title the file itself gives (a page's <title>, a "
                                   "record's or front matter's title), beside the model's headline; null if none.")
    page_published: str | None = Field(default=None, description="The publication date the file itself gives (page "
                                       "metadata, a record's or front matter's date), ISO 8601 where it could be "
                                       "read, else as written; beside the model's date; null if none.")
    warnings: list[str] = Field(
        default_factory=list,
        description="Why this article is kept only in part: what briefer dropped or could not check in the model's "
        "answer once re-asks were spent (a cut-off answer, repeated items, names not in the article, an "
        "incomplete translation...). Empty for an answer valid as a whole.",
    )


# ---------------------------------------------------------------- the brief
