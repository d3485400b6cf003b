"""Normalisation for matching only: stored text is never rewritten.

Folds the orthographic variants that differ between outlets and transliterations:
Arabic hamza forms of alef, ta marbuta / ha, alef maqsura / ya, diacritics and tatweel;
Persian/Urdu letter forms; Latin case and accents; quote styles, punctuation and whitespace.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ة": "ه", "ى": "ي", "ی": "ي", "ې": "ي", "ک": "ك", "ۀ": "ه", "ە": "ه",
        "ؤ": "و", "ئ": "ي",
        "ـ": None,  # tatweel
        "\u200c": None, "\u200d": None, "\u200e": None, "\u200f": None,  # ZWNJ/ZWJ and direction marks
    }
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def strip_marks(text: str) -> str:
    """Remove combining marks (Arabic harakat, Latin accents) after canonical decomposition."""
    if text.isascii():  # nothing to decompose, no mark to remove: one check in C
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1 << 12)  # a text repeats its few hundred distinct characters
def fold_char(ch: str) -> str:
    """Fold a single character (may return '' for characters that do not count)."""
    return strip_marks(ch).translate(_ARABIC_FOLD).casefold()


_SHORT = 200  # characters: a name, a role, a title; an article's text is folded once and not kept


def match_key(text: str) -> str:
    """A key under which two spellings of the same name compare equal."""
    return _short_key(text) if len(text) <= _SHORT else _key(text)


@functools.lru_cache(maxsize=1 << 16)
def _short_key(text: str) -> str:
    """`_key` remembered: the merge asks for the key of each name of each entity of each article, and a folder's
    names are a few spellings each, repeated across its articles."""
    return _key(text)


def _key(text: str) -> str:
    folded = strip_marks(text).translate(_ARABIC_FOLD).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())
