"""The data that crosses stage boundaries, as pydantic models.

Field descriptions are part of the prompt: instructor sends them to the model as the
response schema, so they say what a good answer contains. `schemas/*.json` are
generated from these classes (`briefer schemas --write`); a test fails when they drift.

Field names of `ArticleSummary` and `Brief` are public: people script against the JSON.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import FailureKind
from .salvage import MISSING, keep_items, parse_partial, valid_value
from .validation import current as validation_context

# Validation context key: validating what briefer keeps of an invalid answer (soft rules are not raised).
KEEPING = "keeping"

# ISO 8601 calendar date, possibly partial: "2024", "2024-09", "2024-09-27". [0-9], not \d: servers turn the
# schema into a grammar, and llama.cpp's converter drops a pattern with \d ("accepting any string").
PartialDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
ArticleIds = Annotated[list[NonEmpty], Field(min_length=1, description="Ids of the articles this rests on.")]

EntityType = Literal["person", "organization", "place", "other"]
DateBasis = Literal["explicit", "inferred", "unknown"]
# Where an event's date comes from: written in its quote, resolved from a relative expression in its
# quote against the publication date, or the model's own knowledge (allowed, always shown as such).
EventDateBasis = Literal["stated", "computed", "outside"]

# Upper bounds on the lists of an answer, in its JSON Schema (maxItems). A server that turns the schema into a
# grammar (llama.cpp, vLLM, OpenAI strict) must close a list there, so a model that loops (the same entity again
# and again) is stopped at the bound instead of at --max-tokens. Generous: the seed articles' answers have at
# most 31 entities, 28 claims, 13 events, 10 key points, 6 topics. Not a validation rule: a model without a
# grammar that gives more real items keeps them, and a long article joined from its parts may have more.
# translation_en has none: its length is the article's paragraph count, which a static schema cannot say.
# Strings get no maxLength: llama.cpp spells `maxLength: N` as N nested grammar rules, and a translated
# paragraph has no sensible bound.
MAX_ITEMS = {"key_points": 15, "entities": 60, "claims": 50, "events": 40, "topics": 12}


def _at_most(field: str) -> dict[str, Any]:
    return {"maxItems": MAX_ITEMS[field]}


# The answer models' descriptions are short labels: the extraction prompt (prompts/extract.system.j2) writes each
# field's rules once, for every server (llama.cpp never shows the schema to the model); the schema is sent with
# every request, so each word here is paid for on every article.
_ATTRIBUTED_TO = "Who says so, in English, or null."
_SINGLE_ANONYMOUS = "Rests on one unnamed source."
_VERBATIM = "Verbatim from the article."

# A sentence ends at . ! ? (or their Arabic forms) followed by whitespace and the end or a new word.
_SENTENCE_END = re.compile(r"[.!?؟…](?:[\"'”’)\]]*)(?=\s+|$)")


def count_sentences(text: str) -> int:
    """Rough sentence count used to keep summaries within bounds."""
    return len(_SENTENCE_END.findall(text.strip()))


def _drop_field_titles(schema: dict[str, Any]) -> None:
    """No "title" per field ("Name En" beside "name_en"): it tells the model nothing, and costs tokens on every
    request (a field named `title` keeps its schema: only a string-valued "title" is dropped)."""
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict) and isinstance(prop.get("title"), str):
            del prop["title"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_field_titles)


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
        for name in ("language", "headline_original", "headline_en", "summary_en"):
            if not valid_value(cls.model_fields[name].rebuild_annotation(), data.get(name, MISSING)):
                return None
            kept[name] = data[name]
        dated = {name: data.get(name, MISSING) for name in ("outlet", "published", "date_basis", "date_evidence")}
        if all(valid_value(cls.model_fields[n].rebuild_annotation(), v) for n, v in dated.items()) and not \
                _date_problems(dated["published"], dated["date_basis"]):
            kept.update(dated)
        else:
            outlet = dated["outlet"]
            kept.update(outlet=outlet if valid_value(str | None, outlet) else None, published=None,
                        date_basis="unknown", date_evidence=None)
            warnings.append("the publication date was missing or broke its rules: kept as unknown")
        looping = None
        missing = []
        unbacked_events: list[str] = []
        for name, item_type in (("key_points", KeyPoint), ("entities", Entity), ("claims", Claim),
                                ("events", Event), ("topics", NonEmpty)):
            items = data.get(name)
            if not isinstance(items, list):
                missing.append(name)
                kept[name] = []
                continue
            if name == "events":
                items, unbacked_events, repaired = _repair_event_dates(items)
                warnings += repaired
            sourced: dict[str, type[BaseModel]] = {"key_points": KeyPoint, "claims": Claim, "events": Event}
            if name in sourced:
                items, repaired = _fill_sourcing(sourced[name], name, items)
                warnings += repaired
            result = keep_items(item_type, items)
            kept[name] = result.items
            invalid = result.invalid - (1 if cut_off and name == last and result.invalid else 0)  # the cut item
            if result.repeated:
                warnings.append(f"{name}: {result.repeated} repeated item{'s' if result.repeated > 1 else ''} "
                                "dropped")
                if cut_off and name == last:
                    looping = name
            if invalid:
                warnings.append(f"{name}: {invalid} item{'s' if invalid > 1 else ''} that broke the schema dropped")
        if not kept["key_points"]:
            return None
        translation = data.get("translation_en")
        if isinstance(translation, list):
            kept["translation_en"] = keep_items(str, translation, prefix_only=True).items
        else:
            missing.append("translation_en")
            kept["translation_en"] = []
        if missing:
            warnings.append(f"missing from the answer: {', '.join(missing)}")
        try:
            answer = cls.model_validate(kept, context={**context, KEEPING: True})
        except ValueError:
            return None
        if cut_off:
            warnings.insert(0, f"the answer was cut off at the token limit after {completion_tokens} tokens"
                            + (f", repeating {looping} (a loop)" if looping else "") + "; what came before is kept")
        n = count_sentences(answer.summary_en)
        if not 3 <= n <= 6:
            warnings.append(f"summary_en has {n} sentence{'s' if n != 1 else ''} (3 to 6 asked)")
        if expected is not None and len(answer.translation_en) != expected:
            warnings.append(translation_warning(len(answer.translation_en), expected))
        answer._kept_warnings = warnings
        for event in answer.events:
            event._basis_missing = event.model_dump_json() in unbacked_events
        return answer


TRANSLATION_INCOMPLETE = "translation incomplete"


def translation_warning(items: int, paragraphs: int) -> str:
    """The warning of an article whose translation does not have one item per paragraph."""
    if items < paragraphs:
        return f"{TRANSLATION_INCOMPLETE}: {items} of {paragraphs} paragraphs translated"
    return f"{TRANSLATION_INCOMPLETE}: {items} items for {paragraphs} paragraphs (not aligned)"


class Span(Strict):
    part: Literal["headline", "dateline", "body"] = Field(description="Where in the cleaned article the quote is.")
    paragraph: int | None = Field(description="Index of the body paragraph (0-based, as in paragraphs_original).")
    start: int = Field(description="Offset of the first character of the quote in that part, as written.")
    end: int = Field(description="Offset just past the last character.")


SupportVerdict = Literal["supported", "unsupported", "unchecked"]


class Support(Strict):
    """briefer's own check of an English statement against its evidence (extract/support.py for an article's
    statements, brief/sentences.py for the merge's sentences): no model call."""

    verdict: SupportVerdict = Field(
        description="supported: every check passed; unsupported: a check failed (problems says which); "
        "unchecked: briefer could not compare (problems says why). Never shown as supported unless supported."
    )
    problems: list[str] = Field(description="What disagrees with the evidence, or why it was not checked.")


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


NOT_DESCRIBED = "not described"


class OutletEntry(Strict):
    """An outlet as the user describes it in outlets.toml (briefer ships no ratings of its own)."""

    name: NonEmpty = Field(description="The outlet's display name.")
    country: str | None = Field(default=None, description="Where it is based.")
    language: str | None = Field(default=None, description="The language it publishes in.")
    owner: str | None = Field(default=None, description="Who owns it.")
    state_affiliated: bool | None = Field(default=None, description="Whether it is state-affiliated; null: not said.")
    note: str | None = Field(default=None, description="The user's own note (e.g. 'aligned with Hezbollah').")


class CopyDifference(Strict):
    kind: Literal["number", "name", "date"] = Field(description="What differs between the two copies.")
    chosen: NonEmpty = Field(description="What the copy the brief was written from says.")
    copy_says: NonEmpty = Field(description="What this copy says in its place.")
    context: NonEmpty = Field(description="This copy's sentence, shortened around it.")


class CarriedCopy(Strict):
    """Another outlet's copy of a syndicated story: not sent to the model, cited with the copy that was."""

    source_path: NonEmpty = Field(description="Path of the copy's file, relative to the folder summarised.")
    outlet: str | None = Field(description="The outlet that carried it (outlets.toml name, site name or URL host).")
    url: str | None = Field(default=None, description="Where it was published.")
    outlet_description: NonEmpty = Field(
        default=NOT_DESCRIBED, description="The outlet as outlets.toml describes it; 'not described' otherwise.")
    similarity: float = Field(description="Estimated Jaccard similarity of the two texts' shingles (0 to 1).")
    differences: list[CopyDifference] = Field(
        default_factory=list, description="Numbers, names and dates this copy gives differently.")


class OutletRef(Strict):
    """One outlet of the brief's sources, as perspectives, positions and the sources list name it."""

    name: NonEmpty = Field(description="The outlet's name (outlets.toml, else the article's site or outlet).")
    description: NonEmpty = Field(description="As outlets.toml describes it; 'not described' when it has no entry.")
    article_ids: list[NonEmpty] = Field(
        description="The sources it published or carried (a syndicated copy counts for the source it is cited with).")


class ArticleRef(Strict):
    id: NonEmpty
    headline_en: NonEmpty
    headline_original: NonEmpty
    outlet: str | None = Field(description="The outlet: as the article's text names it, else the file's site_name.")
    published: PartialDate | None
    language: LanguageCode
    date_basis: DateBasis | None = Field(
        default=None, description="explicit (written in the text), inferred (worked out from clues) or unknown."
    )
    content_sha256: str | None = Field(
        default=None, description="SHA-256 of the file's bytes (how the next day's brief knows it was read)."
    )
    warnings: list[str] = Field(
        default_factory=list, description="The article's warnings: kept only in part (see the article's JSON)."
    )
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
    outlet_description: NonEmpty = Field(
        default=NOT_DESCRIBED,
        description="The outlet as the user's outlets.toml describes it, in words; 'not described' when it has no "
        "entry (never read as neutral).")
    outlet_entry: OutletEntry | None = Field(default=None, description="The outlets.toml entry applied, if any.")
    origin: str | None = Field(
        default=None, description="Who the syndicated story comes from (the agency the copies credit), if known.")
    carried_by: list[CarriedCopy] = Field(
        default_factory=list, description="The other outlets' copies of this story (syndicated copies, told once).")


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


def cited_ids(value: Any) -> list[str]:
    """Every article id cited anywhere inside a model (fields named article_ids / article_id)."""
    out: list[str] = []
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            item = getattr(value, name)
            if name == "article_ids":
                out += item
            elif name == "article_id":
                out.append(item)
            elif name != "articles":
                out += cited_ids(item)
    elif isinstance(value, list):
        for item in value:
            out += cited_ids(item)
    return out


def _check_citations(value: BaseModel, known: set[str]) -> None:
    unknown = sorted(set(cited_ids(value)) - known)
    if unknown:
        raise ValueError(f"cites unknown article ids: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
