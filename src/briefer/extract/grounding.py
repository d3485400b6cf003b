"""Locate evidence quotes in the source text. briefer checks them itself; it never asks a model.

A quote is found when its words appear, in order and complete, in the cleaned article (headline,
date line or a body paragraph). Matching forgives what differs between copies of the same words:
Arabic hamza forms of alef, ta marbuta / ha, alef maqsura / ya, diacritics and tatweel, Persian
letter forms and digits, Latin case and accents, quote-mark styles and other punctuation, and
whitespace. It does not forgive a changed, added or dropped word.

The match is made on a folded copy of the text with a map back to the original, so the span
reported is in the text as written.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from briefer.text.textnorm import fold_char


@dataclass(frozen=True)
class Folded:
    """A folded text: words separated by single spaces, and for each character its original offset."""

    text: str
    origin: tuple[int, ...]  # origin[i]: offset in the original of folded character i
    origin_end: tuple[int, ...]  # origin_end[i]: offset just past that original character


@functools.lru_cache(maxsize=65536)  # a text repeats its few hundred distinct characters
def _fold_one(ch: str) -> str:
    if ch.isdigit():
        try:
            return str(unicodedata.digit(ch))
        except (TypeError, ValueError):
            return ch
    return "".join(c for c in fold_char(ch) if c.isalnum())


def fold(text: str) -> Folded:
    out: list[str] = []
    origin: list[int] = []
    origin_end: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        folded = _fold_one(ch)
        if not folded:
            # Whitespace and punctuation separate words; combining marks and tatweel vanish inside them.
            if ch.isspace() or unicodedata.category(ch)[0] in "PSZ":
                pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            origin.append(i)
            origin_end.append(i)
            pending_space = False
        for c in folded:
            out.append(c)
            origin.append(i)
            origin_end.append(i + 1)
    return Folded("".join(out), tuple(origin), tuple(origin_end))


@dataclass(frozen=True)
class Located:
    part: str  # "headline", "dateline" or "body"
    paragraph: int | None  # index into the body paragraphs (0-based) when part == "body"
    start: int  # character offsets in that part, as written
    end: int


class Source:
    """The parts of a cleaned article a quote may come from, folded once."""

    def __init__(self, headline: str, paragraphs: Sequence[str], dateline: str | None = None) -> None:
        parts: list[tuple[str, int | None, str]] = [("headline", None, headline)]
        if dateline:
            parts.append(("dateline", None, dateline))
        parts += [("body", i, p) for i, p in enumerate(paragraphs)]
        self._parts = [(name, idx, fold(text)) for name, idx, text in parts]

    def locate(self, quote: str) -> Located | None:
        """Where the quote stands in the source, or None when its words are not there as given."""
        needle = fold(quote).text
        if not needle:
            return None
        for name, idx, folded in self._parts:
            at = folded.text.find(needle)
            while at >= 0:
                end = at + len(needle)
                if _word_edges_ok(folded.text, at, end):
                    return Located(part=name, paragraph=idx, start=folded.origin[at],
                                   end=folded.origin_end[end - 1])
                at = folded.text.find(needle, at + 1)
        return None


# Arabic proclitics written joined to the next word (wa-, fa-, bi-, li-, ka-): a quote may leave
# them out ("قال" from "وقال"). Any other partial word at either end is a different word.
_PROCLITICS = set("وفبلك")


def _word_edges_ok(text: str, start: int, end: int) -> bool:
    if end < len(text) and text[end] != " ":
        return False
    word_start = text.rfind(" ", 0, start) + 1
    prefix = text[word_start:start]
    return len(prefix) <= 2 and all(c in _PROCLITICS for c in prefix)
