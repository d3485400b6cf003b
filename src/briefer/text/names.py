"""Spellings of names, checked against the article they come from. Stored text is never changed.

A spelling the model gives for an entity counts only when it is a name as written in the article:
- it is found in the article's headline, date line or body, word for word (compared as quotes are:
  hamza forms, diacritics, case… forgiven; a proclitic و ف ب ل ك written before it allowed);
- it is one name, not a list: a spelling with a comma or semicolon («وزارتي الدفاع العراقية،
  والأمريكية») names two things at once;
- it is not the adjective of another of the entity's names («الإيراني» beside «إيران»).

Arabic particles attached to a name («للحرس الثوري», «والأمريكية», «بالعراق») are stripped before
spellings are compared, so the same name with and without them meets (`strip_particles`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .textnorm import match_key

# و ف (and, so) then ب ك (with, like) before the article ال; ل + ال is written لل.
_ATTACHED = re.compile(r"^[وف]?[بك]?(?=ال\w\w)|^[وف]?ل(?=ل\w\w)")
BARE_PARTICLES = frozenset("وفبلك")  # written before any word, not only before ال
_LIST = re.compile(r"[,،;؛]")
_PROCLITICS = frozenset("وفبلك")


def strip_particles(spelling: str) -> str:
    """The name without the particles attached to its first word before the article ال:
    «للحرس الثوري» → «الحرس الثوري», «والأمريكية» → «الأمريكية», «وبالعراق» → «العراق».
    A name that merely begins with one of those letters (بغداد, واشنطن, فرهاد) is left alone."""
    m = _ATTACHED.match(spelling)
    if not m or not m.group(0):
        return spelling
    rest = spelling[m.end():]
    return "ا" + rest if m.group(0).endswith("ل") and rest.startswith("ل") else rest


_NISBA = ("ي", "يه", "ية", "يون", "يين", "يان")


def adjective_of(spelling: str, names: Sequence[str]) -> bool:
    """True when the spelling is the adjective (nisba) of one of `names` rather than a name:
    «الإيراني» of «إيران», «الأمريكي» of «أمريكا», «الإسرائيلية» of «إسرائيل»."""
    return adjective_of_stems(spelling, nisba_stems(names))


def nisba_stems(names: Sequence[str]) -> frozenset[str]:
    """The stems an adjective of one of `names` is made from (computed once for a group's spellings: checking
    each spelling against every other one folded them all again, quadratically)."""
    stems = set()
    for name in names:
        stem = match_key(name)
        stem = stem[2:] if stem.startswith("ال") else stem
        stem = stem[:-1] if stem[-1:] in ("ا", "ه") else stem
        if len(stem) >= 3 and " " not in stem:
            stems.add(stem)
    return frozenset(stems)


def adjective_of_stems(spelling: str, stems: frozenset[str]) -> bool:
    """`adjective_of` against stems from `nisba_stems`: the word is a stem and one of the nisba endings."""
    word = match_key(spelling)
    word = word[2:] if word.startswith("ال") else word
    return any(word.endswith(end) and word[:-len(end)] in stems for end in _NISBA)


def is_list(spelling: str) -> bool:
    """True for a spelling that names several things at once (it holds a list separator)."""
    return bool(_LIST.search(spelling))


class NameFinder:
    """Finds spellings in one article. The article is folded only when a spelling is not found as
    written, which is rare: most spellings are copied exactly."""

    def __init__(self, parts: Sequence[str]) -> None:
        self._raw = "\n".join(parts)
        self._folded: str | None = None

    def found(self, spelling: str) -> bool:
        if not spelling.strip():
            return False
        if _found_in(self._raw, spelling.strip()):
            return True
        if self._folded is None:
            self._folded = match_key(self._raw)
        key = match_key(spelling)
        return bool(key) and _found_in(self._folded, key)


def _found_in(text: str, needle: str) -> bool:
    """`needle` in `text` as whole words; a proclitic (up to two letters) may be written before it,
    and a name with the article ال may be written after ل as لل («للحرس» holds «الحرس»)."""
    if needle.startswith("ال") and len(needle) > 3 and _found_at_word(text, "لل" + needle[2:], "وف"):
        return True
    return _found_at_word(text, needle, _PROCLITICS)


def _found_at_word(text: str, needle: str, proclitics: frozenset[str] | str) -> bool:
    at = text.find(needle)
    while at >= 0:
        end = at + len(needle)
        if end == len(text) or not text[end].isalnum():
            word_start = at
            while word_start > 0 and text[word_start - 1].isalnum():
                word_start -= 1
            prefix = text[word_start:at]
            if len(prefix) <= 2 and all(c in proclitics for c in prefix):
                return True
        at = text.find(needle, at + 1)
    return False
