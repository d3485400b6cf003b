"""The words the statement check reads, from the lexicon files beside this module (lexicon/*.toml).

A lexicon says, for one language, which words are numbers (and their values), which negate, which
say intent or future, which hedge, which attribute a statement to someone and which say it is
second-hand. The check (support.py) asks only "which of these does this text hold"; the words are
data, changed in the files, never in the code.

Matching is on folded text (textnorm.match_key: hamza forms, diacritics, case folded; punctuation
is a word break), word by word. An entry ending in "*" matches any word it begins. In Arabic, the
particles و ف ب ل ك and the article ال may be written before a word.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources

from .textnorm import match_key

LANGUAGES = ("en", "ar", "fa")
_ARABIC_SCRIPT = ("ar", "fa")


@dataclass(frozen=True)
class Found:
    """A lexicon entry found in a text: the entry as written in the file and the words as written in the text."""

    entry: str
    text: str


class WordList:
    """One list of a lexicon, compiled once into a single pattern over folded text."""

    def __init__(self, entries: list[str], arabic: bool) -> None:
        self.entries = entries
        alternatives = []
        for n, entry in enumerate(entries):
            key = match_key(entry.rstrip("*").replace("n't", " not"))
            if not key:
                continue
            body = re.escape(key).replace(r"\ ", " ")
            tail = r"[^\s]*" if entry.endswith("*") else ""
            lead = ""
            if arabic:
                particles = "[وف]{0,2}" if len(key) < 3 else "[وفبلك]{0,2}"
                article = "(?:ال)?" if len(key) >= 3 and not key.startswith("ال") else ""
                lead = particles + article
            alternatives.append(f"(?P<e{n}>{lead}{body}{tail})")
        self._pattern = re.compile(r"(?:(?<=\s)|^)(?:" + "|".join(alternatives) + r")(?=\s|$)") if alternatives \
            else None

    def find(self, folded: str) -> list[Found]:
        """The entries in a text folded with `fold` (each place once)."""
        if self._pattern is None:
            return []
        out = []
        for m in self._pattern.finditer(folded):
            name = m.lastgroup
            assert name is not None
            out.append(Found(self.entries[int(name[1:])], m.group(0)))
        return out

    def any(self, folded: str) -> Found | None:
        found = self.find(folded)
        return found[0] if found else None


@dataclass(frozen=True)
class Lexicon:
    language: str
    numbers: dict[str, int]  # folded word -> value
    magnitudes: dict[str, str]  # folded word -> "hundreds", "thousands"...
    lists: dict[str, WordList]
    future_prefix: tuple[str, ...]
    not_future: WordList

    def has(self, name: str, folded: str) -> Found | None:
        words = self.lists.get(name)
        return words.any(folded) if words is not None else None


def fold(text: str) -> str:
    """Text as the lexicons are matched: contractions spelled out, thousands separators dropped, then
    match_key (digits of any script kept as they are; `numbers` reads them)."""
    text = re.sub(r"(?i)n['’]t\b", " not", text)
    text = re.sub(r"(?i)['’]ll\b", " will", text)
    text = re.sub(r"(?<=\d)[,٬](?=\d{3}\b)", "", text)
    return match_key(text)


@functools.cache
def lexicon(language: str) -> Lexicon:
    """The lexicon of a language (its two-letter code); a language without one is read with the English one
    for numbers written as digits and nothing else."""
    code = language.split("-")[0].lower()
    if code not in LANGUAGES:
        return Lexicon(code, {}, {}, {}, (), WordList([], False))
    raw = tomllib.loads(resources.files("briefer.extract").joinpath("lexicon", f"{code}.toml").read_text("utf-8"))
    arabic = code in _ARABIC_SCRIPT
    lists = {name: WordList(list(words), arabic) for name, words in raw.get("lists", {}).items()
             if name not in ("future_prefix", "not_future")}
    return Lexicon(
        language=code,
        numbers={match_key(k): int(v) for k, v in raw.get("numbers", {}).items()},
        magnitudes={match_key(k): str(v) for k, v in raw.get("magnitudes", {}).items()},
        lists=lists,
        future_prefix=tuple(match_key(p) for p in raw["lists"].get("future_prefix", [])),
        not_future=WordList(list(raw["lists"].get("not_future", [])), arabic),
    )


def _digit_value(word: str) -> int | None:
    if not word or not all(ch.isdigit() for ch in word):
        return None
    try:
        return int("".join(str(unicodedata.digit(ch)) for ch in word))
    except (TypeError, ValueError):
        return None


def _word_value(lex: Lexicon, word: str) -> int | None:
    candidates = [word]
    if lex.language in _ARABIC_SCRIPT:
        bare = re.sub(r"^[وفبلك]{1,2}(?=ال)", "", word)
        candidates += [bare, bare.removeprefix("ال"), word[1:] if word[:1] in "وفبلك" else word]
    for c in candidates:
        if c in lex.numbers:
            return lex.numbers[c]
    return None


_MULTIPLIERS = (100, 1000, 1_000_000, 1_000_000_000)


def numbers(lex: Lexicon, folded: str) -> tuple[set[int], set[str]]:
    """The numbers a folded text gives, as values (digits of any script, number words, ordinals; adjacent
    words combined: "twenty three" 23, «ثلاثة آلاف» 3000), and the magnitudes it gives ("hundreds")."""
    values: set[int] = set()
    magnitudes: set[str] = set()
    words = re.sub(r"(?<=[^\W\d])(?=\d)", " ", folded).split()  # «و900»: a particle before the digits
    i = 0
    while i < len(words):
        word = words[i]
        mag = lex.magnitudes.get(word) or lex.magnitudes.get(re.sub(r"^[وفبلك]", "", word))
        if mag:
            magnitudes.add(mag)
            i += 1
            continue
        value = _digit_value(word)
        if value is None:
            value = _word_value(lex, word)
            if value is None:
                i += 1
                continue
            # A phrase of number words: units and tens add, a multiplier multiplies what came before.
            total, j = value, i + 1
            while j < len(words):
                nxt = words[j]
                if nxt in ("and", "و") and j + 1 < len(words):
                    j += 1
                    continue
                more = _word_value(lex, nxt)
                if more is None:
                    break
                total = total * more if more in _MULTIPLIERS and total < more else total + more
                j += 1
            values.add(total)
            i = j
            continue
        if i + 1 < len(words) and (_word_value(lex, words[i + 1]) or 0) in _MULTIPLIERS:
            value *= _word_value(lex, words[i + 1]) or 1  # "2 million", «3 آلاف»
            i += 1
        values.add(value)
        i += 1
    return values, magnitudes


def future_verbs(lex: Lexicon, folded: str) -> list[str]:
    """Words written with a future prefix before a verb (Arabic سيعلن، ستبدأ، سنعلن), not the nouns
    that begin the same way (lexicon `not_future`)."""
    out = []
    for word in folded.split():
        bare = word[1:] if word[:1] in "وف" else word
        if len(bare) >= 4 and bare.startswith(lex.future_prefix) and not lex.not_future.any(bare):
            out.append(word)
    return out
