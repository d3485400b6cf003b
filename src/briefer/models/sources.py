"""The sources: outlets as outlets.toml describes them, syndicated copies, and the brief's article list."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from .common import (
    DateBasis,
    LanguageCode,
    NonEmpty,
    PartialDate,
    Strict,
)

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
