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
import unicodedata
from dataclasses import dataclass
from importlib import resources

from briefer.text.textnorm import match_key

LANGUAGES = ("en", "ar", "fa")
_ARABIC_SCRIPT = ("ar", "fa")


_LEAD = re.compile(r"^([وفبلك]{0,2})(ال)?(?=\w\w)")
_NOT = re.compile(r"(?i)n['’]t\b")
_WILL = re.compile(r"(?i)['’]ll\b")
_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d{3}\b)")
_PARTICLES_BEFORE_ARTICLE = re.compile(r"^[وفبلك]{1,2}(?=ال)")
_PARTICLE = re.compile(r"^[وفبلك]")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d])(?=\d)")


@dataclass(frozen=True)
class Found:
    """A lexicon entry found in a text: the entry as written in the file and the words as written in the text."""

    entry: str
    text: str


class WordList:
    """One list of a lexicon. A text is read word by word: one-word entries are looked up (with the Arabic
    particles and article taken off the word), entries ending in "*" by prefix, and entries of several words
    with one pattern."""

    def __init__(self, entries: list[str], arabic: bool) -> None:
        self.entries = entries
        self._arabic = arabic
        self._single: dict[str, str] = {}  # folded word -> entry
        self._prefixes: dict[str, str] = {}  # folded prefix -> entry
        phrases: list[tuple[str, str]] = []
        for entry in entries:
            key = match_key(entry.rstrip("*").replace("n't", " not"))
            if not key:
                continue
            if " " in key:
                phrases.append((key, entry))
            elif entry.endswith("*"):
                self._prefixes.setdefault(key, entry)
            else:
                self._single.setdefault(key, entry)
        self._prefix_keys = tuple(self._prefixes)
        self._phrases = phrases
        self._phrase_pattern: re.Pattern[str] | None = None
        if phrases:
            lead = "[وفبلك]{0,2}" if arabic else ""
            body = "|".join(re.escape(k).replace(r"\ ", " ") + (r"[^\s]*" if e.endswith("*") else "")
                            for k, e in phrases)
            self._phrase_pattern = re.compile(r"(?:(?<=\s)|^)" + lead + "(" + body + r")(?=\s|$)")

    def _forms(self, word: str) -> list[tuple[str, bool]]:
        """The word, and in Arabic the word without its particles and article; with whether a particle was
        taken off (a two-letter entry, «لا», «لم», takes only و or ف)."""
        forms = [(word, False)]
        if self._arabic and word[:1] in "وفبلكا":
            m = _LEAD.match(word)
            if m and m.group(0):
                particles, article = m.group(1), m.group(2)
                rest = word[m.end():]
                if article and len(rest) >= 1:
                    forms.append((rest, True))
                    forms.append(("ال" + rest, bool(particles)))
                if particles:
                    forms.append((word[len(particles):], particles.strip("وف") != ""))
        return forms

    def find(self, folded: str, first: bool = False) -> list[Found]:
        """The entries in a text folded with `fold` (with `first`, only the first one found)."""
        out: list[Found] = []
        if self._phrase_pattern is not None and first:
            m = self._phrase_pattern.search(folded)
            if m is not None:
                return [Found(next((e for k, e in self._phrases if m.group(1).startswith(k)), self._phrases[0][1]),
                              m.group(0))]
        for word in folded.split():
            for form, strong in self._forms(word):
                entry = self._single.get(form)
                if entry is None and self._prefix_keys and form.startswith(self._prefix_keys):
                    entry = next(self._prefixes[k] for k in self._prefix_keys if form.startswith(k))
                if entry is not None and not (strong and len(entry.rstrip("*")) < 3):
                    out.append(Found(entry, word))
                    if first:
                        return out
                    break
        if self._phrase_pattern is not None and not first:
            for m in self._phrase_pattern.finditer(folded):
                key = m.group(1)
                entry = next((e for k, e in self._phrases if key == k or (e.endswith("*") and key.startswith(k))),
                             self._phrases[0][1])
                out.append(Found(entry, m.group(0)))
        return out

    def any(self, folded: str) -> Found | None:
        found = self.find(folded, first=True)
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


@functools.lru_cache(maxsize=1 << 13)  # a quote is read by several checks, and by the merge's sentences again
def fold(text: str) -> str:
    """Text as the lexicons are matched: contractions spelled out, thousands separators dropped, then
    match_key (digits of any script kept as they are; `numbers` reads them)."""
    text = _NOT.sub(" not", text)
    text = _WILL.sub(" will", text)
    text = _THOUSANDS.sub("", text)
    return match_key(text)


@functools.cache
def lexicon(language: str) -> Lexicon:
    """The lexicon of a language (its two-letter code); a language without one is read with the English one
    for numbers written as digits and nothing else."""
    code = language.split("-")[0].lower()
    if code not in LANGUAGES:
        return Lexicon(code, {}, {}, {}, (), WordList([], False))
    import tomllib  # here: a run that never reads a lexicon (a warm rerun's start) does not import it

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
        bare = _PARTICLES_BEFORE_ARTICLE.sub("", word)
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
    words = _LETTER_DIGIT.sub(" ", folded).split()  # «و900»: a particle before the digits
    i = 0
    while i < len(words):
        word = words[i]
        mag = lex.magnitudes.get(word) or lex.magnitudes.get(_PARTICLE.sub("", word))
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
