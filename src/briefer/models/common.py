"""What every model module shares: the base class (Strict, no field titles in the schema), the constrained types,
the list bounds, briefer's Support verdict and the citation check (package docstring: briefer.models)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

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
