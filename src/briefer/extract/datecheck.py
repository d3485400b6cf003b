"""Dates the model gives, checked against the words they rest on. briefer decides, not the model.

An event's date has a basis: "stated" (every part of it is written in the event's quote),
"computed" (the quote has a relative expression, «الأربعاء الماضي», "four years ago", resolved by
briefer against the article's publication date with when.py) or "outside" (knowledge from
outside the article: allowed, always shown as such). The model proposes a date and a basis;
briefer keeps only what the quote supports:

- a date the quote supports as given keeps it, with the basis briefer found (stated wins a tie);
- a date more precise than the quote supports is cut back to what it does support (2024-09-16
  from «مساء الإثنين» against a publication date of "2024-09" is only "2024"); the model's date
  is kept in `date_as_given`;
- a date the model called stated or computed that the quote contradicts is replaced by what
  briefer reads in the quote, and the model's kept in `date_as_given`; one the quote gives no date
  for at all, or whose quote is not in the article, is shown as outside the article;
- a date the model called outside stays outside, as precise as given, unless the quote supports it
  as given;
- a date the model gave without a basis (claimed_basis None: an answer kept in part) is checked like a
  stated one; one the quote gives no date for is shown as outside the article, "not checked".

The publication date follows the same rule: an "explicit" date must be written in its evidence
(or the page's date line); one that is only partly written is cut back, one that is not written
at all is "inferred". An inferred date is already shown as inferred, never as stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from briefer.models import DateBasis, EventDateBasis
from briefer.text import when

B = TypeVar("B")


@dataclass(frozen=True)
class Checked(Generic[B]):
    date: str | None
    basis: B  # events: stated / computed / outside (None without a date); publication: explicit / inferred / unknown
    as_given: str | None  # the model's date when briefer changed it
    note: str | None  # one short English line: how the date was checked, when it is not simply stated


def _against(reference: str | None) -> str:
    return f"the publication date, {reference}" if reference else "an unknown publication date"


def check_event_date(claimed: str | None, claimed_basis: str | None, quote: str, quote_found: bool,
                     reference: str | None, language: str) -> Checked[EventDateBasis | None]:
    """The event's date and basis as the quote supports them (module docstring)."""
    if claimed is None:
        return Checked(None, None, None, None)
    if not quote_found:
        return Checked(claimed, "outside", None, "not checked: the event's quote was not found in the article")
    supported, found = when.supports(claimed, quote, reference, language)
    basis = cast(EventDateBasis, found)
    if supported == claimed:
        note = f"computed by briefer from the quote and {_against(reference)}" if basis == "computed" else None
        return Checked(claimed, basis, None, note)
    if claimed_basis == "outside":
        return Checked(claimed, "outside", None, "from outside the article: the model's own knowledge")
    if supported is not None:
        how = f", with {_against(reference)}," if basis == "computed" else ""
        return Checked(supported, basis, claimed, f"cut back from {claimed}: the quote{how} supports only {supported}")
    read = when.resolve(quote, reference, language)
    if read is not None and read.date is not None:
        how = f", with {_against(reference)}," if read.basis == "computed" else ""
        return Checked(read.date, read.basis, claimed, f"recomputed: the quote{how} gives {read.date}, not {claimed}")
    if claimed_basis is None:  # a date the model gave without a basis (mended by keep_valid): backed by nothing
        return Checked(claimed, "outside", None,
                       "not checked: the model gave this date without a basis, and the quote does not give it")
    return Checked(claimed, "outside", None,
                   f"the quote does not give this date (the model called it {claimed_basis}): from outside the article")


def check_published(published: str | None, basis: DateBasis, evidence: str | None, evidence_found: bool,
                    dateline: str | None, language: str) -> Checked[DateBasis]:
    """The publication date as its evidence supports it: an explicit date must be written there."""
    if published is None or basis != "explicit":
        return Checked(published, basis, None, None)
    best: str | None = None
    for text in (evidence if evidence_found else None, dateline):
        if text:
            supported, how = when.supports(published, text, None, language)
            if supported is not None and how == "stated" and (best is None or len(supported) > len(best)):
                best = supported
    if best == published:
        return Checked(published, "explicit", None, None)
    if best is not None:
        return Checked(best, "explicit", published, f"cut back from {published}: the text writes only {best}")
    why = "its evidence was not found in the article" if evidence and not evidence_found else \
        "the text does not write it"
    return Checked(published, "inferred", None, f"not explicit: {why}")
