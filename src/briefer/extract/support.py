"""Each English statement checked against its evidence, by briefer, without a model.

A key point, a claim or an event says in English what its quote says in the article's language.
briefer reads both with the lexicons (lexicon.py, lexicon/*.toml) and the date reader (when.py) and
compares what it can compare:

- numbers: every number the statement gives (digits of any script, number words, "hundreds") is one
  the quote gives; a number inside a date is left to the date check;
- dates: every date the statement gives is one the quote (or the date briefer checked for the event)
  gives, and no more precise ("27 September" from «سبتمبر المقبل» is a day the quote does not give);
- names: every person, organisation or place the statement names is named in the quote or its
  paragraph (through the article's entities and their spellings, and the alias file); a name that is
  none of the article's entities must at least be in the English translation of that paragraph;
- negation: a quote that negates («لم توافق») is not told without a negation ("agreed"), and a
  statement that negates rests on a quote that does;
- modality and tense: a quote that gives intent or future («ستُعلّق», «من المقرر») is not told as done
  ("suspended"): the statement keeps a word of intent (will, would, is to, plans…);
- hedges and attribution: a quote's uncertainty («ليس واضحاً ما إذا») stays in the statement ("it is
  not clear whether"); a quote that carries a source («بحسب», «مصادر») is attributed; a statement whose
  attribution is second-hand ("al-Sudani, according to an informed source") does not turn it into
  first-hand ("Al-Sudani said").

The verdict is "supported" when every check passes, "unsupported" with the problems found, and
"unchecked" when briefer cannot compare (the quote is not in the article). Never a model call.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from briefer.models import Support
from briefer.text import when
from briefer.text.names import NameFinder
from briefer.text.textnorm import match_key

from .lexicon import Found, Lexicon, fold, future_verbs, lexicon, numbers

EN = "en"


@dataclass(frozen=True)
class Named:
    """An entity as the check knows it: its English name and its spellings in the original script."""

    name_en: str
    spellings: tuple[str, ...]


@dataclass
class Evidence:
    """What one statement is checked against."""

    quote: str
    language: str
    found: bool = True
    context: Sequence[str] = ()  # the quote's paragraph (original), where names may be
    context_en: Sequence[str] = ()  # its English translation
    article_text: Sequence[str] = ()  # the whole article (original), for names in the attribution
    entities: Sequence[Named] = ()
    reference: str | None = None  # the publication date
    dates: Sequence[str] = ()  # dates briefer checked for this statement (an event's date)
    attribution: str | None = None  # attributed_to / speaker_en
    attribution_in_text: bool = True  # the statement itself must say who says so (key points)


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)


def verdict(problems: Sequence[str], unchecked: str | None = None) -> Support:
    if problems:
        return Support(verdict="unsupported", problems=list(problems))
    if unchecked:
        return Support(verdict="unchecked", problems=[unchecked])
    return Support(verdict="supported", problems=[])


def check(statement: str, evidence: Evidence) -> Support:
    """The verdict on one English statement against its evidence (module docstring)."""
    if not evidence.found:
        return verdict([], "not checked: its quote was not found in the article")
    lex, en = lexicon(evidence.language), lexicon(EN)
    said, quoted = fold(statement), fold(evidence.quote)
    out = Findings()
    check_numbers(statement, said, [(evidence.quote, quoted, lex)], evidence.reference, out)
    check_dates(statement, [(evidence.quote, lex.language)], evidence.reference, evidence.dates, out)
    check_names(statement, evidence, out)
    check_negation(said, [(evidence.quote, quoted, lex)], out)
    check_intent(said, [(evidence.quote, quoted, lex)], out)
    check_hedge(said, [(evidence.quote, quoted, lex)], out)
    check_attribution(said, quoted, lex, en, evidence, out)
    return verdict(out.problems)


# ---------------------------------------------------------------- numbers and dates


def _date_spans(text: str, reference: str | None, language: str) -> list[when.Resolution]:
    try:
        return when.resolve_all(text, reference, language)
    except ValueError:
        return []


def _without_dates(text: str, reference: str | None) -> str:
    """The statement with its date expressions blanked: their numbers are the date check's."""
    out = text
    for r in sorted(_date_spans(text, reference, EN), key=lambda r: -r.start):
        out = out[:r.start] + " " * (r.end - r.start) + out[r.end:]
    return out


Source = tuple[str, str, Lexicon]  # a text as written, folded, and its lexicon


def _shown(values: Iterable[int | str]) -> str:
    return ", ".join(sorted({str(v) for v in values}, key=lambda v: (len(v), v))) or "none"


def check_numbers(statement: str, said: str, sources: Sequence[Source], reference: str | None, out: Findings) -> None:
    values, magnitudes = numbers(lexicon(EN), said)
    if not values and not magnitudes:
        return
    if _DATED.search(statement):  # the numbers of its dates are the date check's
        values, magnitudes = numbers(lexicon(EN), fold(_without_dates(statement, reference)))
    if not values and not magnitudes:
        return
    given: set[int] = set()
    given_mag: set[str] = set()
    for _text, folded, lex in sources:
        v, m = numbers(lex, folded)
        given |= v
        given_mag |= m
        if lex.language != EN:  # a quote may write a number in digits beside its words
            v, m = numbers(lexicon(EN), folded)
            given |= v
            given_mag |= m
    missing = sorted(v for v in values if v not in given and v != 1)
    if any(1900 <= v <= 2100 for v in missing):  # a year a relative date of the evidence gives
        given |= _years(sources, reference)
        missing = [v for v in missing if v not in given]
    if missing:
        out.add(f"the statement gives {_shown(missing)}; its evidence gives {_shown(given)}")
    for mag in sorted(magnitudes - given_mag):
        out.add(f"the statement says {mag}; its evidence does not")


def _years(sources: Sequence[Source], reference: str | None) -> set[int]:
    """Years a source's dates give (a relative date resolved against the publication date)."""
    years = set()
    for text, _f, lex in sources:
        if lex.language == EN and not _DATED.search(text):
            continue
        for r in _date_spans(text, reference, lex.language):
            if r.date:
                years.add(int(r.date[:4]))
    return years


def _interval(r: when.Resolution) -> tuple[dt.date, dt.date] | None:
    if r.earliest is None or r.latest is None:
        return None
    return dt.date.fromisoformat(r.earliest), dt.date.fromisoformat(r.latest)


def _iso_interval(date: str) -> tuple[dt.date, dt.date]:
    from briefer.text import dates

    return dates.earliest(date), dates.latest(date)


def check_dates(statement: str, sources: Sequence[tuple[str, str]], reference: str | None, checked: Sequence[str],
                out: Findings) -> None:
    """Each date of the statement is one a source gives (or briefer checked), and no more precise."""
    if not _DATED.search(statement):
        return  # no digit, month, weekday or relative date word: nothing the date reader could find
    claimed = [r for r in _date_spans(statement, reference, EN) if _interval(r) is not None]
    named = [m for m in _MONTH_NAME.finditer(statement) if not any(r.start <= m.start() < r.end for r in claimed)]
    if not claimed and not named:
        return
    given: list[tuple[str, tuple[dt.date, dt.date]]] = []
    for text, language in sources:
        if language == EN and not _DATED.search(text):
            continue  # an English text with no word of a date: nothing to read
        for r in _date_spans(text, reference, language):
            span = _interval(r)
            if span is not None:
                given.append((r.expression, span))
    given += [(d, _iso_interval(d)) for d in dict.fromkeys(checked) if d]
    given = list({(e.strip(" .،,"), g): None for e, g in given})
    if named:
        _months(named, sources, given, out)
    for r in claimed:
        s = _interval(r)
        assert s is not None
        if any(s[0] <= g[0] and g[1] <= s[1] for _e, g in given):
            continue
        if any(not (g[1] < s[0] or g[0] > s[1]) for _e, g in given):
            shown = "; ".join(dict.fromkeys(f"«{e}»" for e, g in given if not (g[1] < s[0] or g[0] > s[1])))
            out.add(f"the statement says «{r.expression}»; its evidence gives only {shown}, not that precisely")
        elif given:
            out.add(f"the statement says «{r.expression}»; its evidence gives "
                    f"{'; '.join(dict.fromkeys('«' + e + '»' for e, _g in given))}")
        else:
            out.add(f"the statement says «{r.expression}»; its evidence gives no date")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MONTH_NAME = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_DATED = re.compile(r"[0-9]|\b(?:" + "|".join(_MONTHS) + r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|"
                    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|tonight|tomorrow|ago|"
                    r"(?:last|next|this) (?:week|month|year))\b", re.I)


def _months(named: Sequence[re.Match[str]], sources: Sequence[tuple[str, str]],
            given: Sequence[tuple[str, tuple[dt.date, dt.date]]], out: Findings) -> None:
    """A month the statement names outside a date briefer reads ("last May": «May» may be the verb) is a month
    its evidence names, or the month of a date it gives."""
    months = {g[0].month for _e, g in given if (g[0].year, g[0].month) == (g[1].year, g[1].month)}
    months |= {n for n, name in enumerate(_MONTHS, 1) for text, _l in sources if name in text}
    for m in named:
        if _MONTHS.index(m.group(1)) + 1 not in months:
            out.add(f"the statement names {m.group(1)}; its evidence gives no date in that month")


# ---------------------------------------------------------------- names

_TOKENS = re.compile(r"[\w’'\-‐]+|[^\w\s]")
_WORDISH = re.compile(r"\w")
_HYPHENATED = re.compile(r"[A-Z][\w’']*(?:-[A-Z][\w’']*)+")
_ARTICLE = re.compile(r"^(?:al|el|ad|ash|as|at|an|ar|az)[-‐]", re.I)
_NAME_TOKENS = re.compile(r"[\w’'\-‐]+")


_NAME_WORD = re.compile(r"(?:(?:al|el|ad|ash|as|at|an|ar|az)[-‐])?[A-Z0-9][\w\-‐]*")
_POSSESSIVE = re.compile(r"[’']s$")


def _words(statement: str) -> list[tuple[str, bool]]:
    """The statement's words (hyphenated names split: "Baghdad-Washington", "US-Iraq", with a break between
    them), each with whether it begins a sentence."""
    out: list[tuple[str, bool]] = []
    start = True
    for tok in _TOKENS.findall(statement):
        if not _WORDISH.match(tok):
            start = tok in ".!?:;" or (start and tok in "\"'“‘(")
            out.append((tok, False))
            continue
        parts = [tok]
        if _HYPHENATED.fullmatch(tok):
            parts = tok.split("-")
        for n, part in enumerate(parts):
            if n:
                out.append(("-", False))
            out.append((part, start and n == 0))
        start = False
    return out


def statement_names(statement: str) -> list[tuple[str, bool]]:
    """The names a statement gives, each with whether it begins a sentence: runs of capitalised words (joined
    by of, in, al-...), without the capitalised words that are no names (lexicon en `not_names`: titles,
    demonyms, calendar words). A possessive ends a name ("the Pentagon's Pat Ryder")."""
    not_names, joiners = _word_sets()
    runs: list[tuple[list[str], bool]] = []
    current: list[str] = []
    first = False

    def close() -> None:
        nonlocal current
        while current and current[-1].lower() in joiners:
            current = current[:-1]
        if current:
            runs.append((current, first))
        current = []

    for tok, starts in _words(statement):
        bare = _POSSESSIVE.sub("", tok)
        if _NAME_WORD.fullmatch(bare) and not bare.isdigit() and match_key(bare) not in not_names \
                and match_key(_bare(bare)) not in not_names:
            if not current:
                first = starts
            current.append(bare)
            if bare != tok:
                close()
        elif current and tok.lower() in joiners:
            current.append(tok)
        else:
            close()
    close()
    return [(" ".join(run), at_start) for run, at_start in runs]


@functools.cache
def _word_sets() -> tuple[frozenset[str], frozenset[str]]:
    en = lexicon(EN)
    return frozenset(match_key(w) for w in en.lists["not_names"].entries), frozenset(en.lists["name_joiners"].entries)


@functools.cache
def _past_sets() -> tuple[frozenset[str], frozenset[str]]:
    en = lexicon(EN)
    return (frozenset(match_key(w) for w in en.lists["past_irregular"].entries),
            frozenset(match_key(w) for w in en.lists["not_past"].entries))


@functools.lru_cache(maxsize=1 << 14)
def _bare(word: str) -> str:
    """A name word without its Arabic article or possessive: "al-Sudani's" -> "Sudani"."""
    word = _POSSESSIVE.sub("", word)
    return _ARTICLE.sub("", word)


@functools.lru_cache(maxsize=1 << 14)
def _token(word: str) -> str:
    key = match_key(_bare(word)).replace(" ", "")
    return key.replace("isation", "ization").replace("ise", "ize")  # British and American spellings meet


@functools.lru_cache(maxsize=1 << 14)  # the same entity names, asked of every statement
def name_tokens(text: str, capitalised: bool = False) -> frozenset[str]:
    """The words of a name that tell it apart (lower case, without al-, joiners and possessives); with
    `capitalised`, only its capitalised words ("Iraqi armed factions" is told apart by "Iraqi")."""
    joiners = _word_sets()[1]
    words = [w for w in _NAME_TOKENS.findall(text) if not capitalised or _NAME_WORD.fullmatch(_bare(w))]
    return frozenset(t for w in words for t in (_token(w),) if t and t not in joiners)


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Z][\w’']*", name) if w.lower() not in ("of", "the", "in"))


def entities_named(name: str, entities: Sequence[Named]) -> list[Named]:
    """The entities a name in a statement may be: its words are among the capitalised words of the entity's
    English name ("Qaani" is Esmail Qaani, "the Framework" the Coordination Framework), or it is the name's
    initials ("PMF")."""
    words = name_tokens(name)
    if not words:
        return []
    acronym = name if re.fullmatch(r"[A-Z]{2,6}", name) else None
    return [e for e in entities if words <= name_tokens(e.name_en, capitalised=True)
            or (acronym is not None and (_initials(e.name_en) == acronym or f"({acronym})" in e.name_en))]


_NISBA = ("ي", "ية", "يه", "يون", "يين")


@functools.lru_cache(maxsize=256)
def finder_of(texts: tuple[str, ...]) -> NameFinder:
    """One finder per text (a paragraph's statements, an article's): it folds its text once, when first asked."""
    return NameFinder(list(texts))


def _named_in(finder: NameFinder, spellings: Sequence[str]) -> bool:
    """A spelling in the text, or its adjective («العراقية» names Iraq, «الأمريكي» America)."""
    for spelling in spellings:
        if finder.found(spelling):
            return True
        if " " not in spelling.strip() and re.search(r"[\u0600-\u06ff]", spelling):
            stem = spelling.strip()
            stem = stem[:-1] if stem[-1:] in "اه" else stem
            if any(finder.found(stem + end) for end in _NISBA):
                return True
    return False


def check_names(statement: str, evidence: Evidence, out: Findings) -> None:
    finder = finder_of((evidence.quote, *evidence.context))
    everywhere = finder_of(tuple(evidence.article_text)) if evidence.article_text else finder
    attributed = name_tokens(evidence.attribution or "")
    english: str | None = None  # the paragraph's translation, folded when a name is none of the entities
    for name, at_start in statement_names(statement):
        matches = entities_named(name, evidence.entities)
        if not matches and at_start and " " in name:  # "Although al-Sudani": the first word is an ordinary one
            name, at_start = name.split(" ", 1)[1], False
            matches = entities_named(name, evidence.entities)
        if matches:
            look = everywhere if name_tokens(name) <= attributed else finder
            if not any(_named_in(look, e.spellings) for e in matches):
                out.add(f"the statement names {name}; its quote and paragraph do not")
            continue
        if english is None:
            english = " " + " ".join(fold(t) for t in evidence.context_en) + " "
        if f" {match_key(_bare(name))} " in english or f" {match_key(name)} " in english:
            continue
        if at_start and " " not in name:
            continue  # a capitalised first word that is none of the article's names: an ordinary word
        out.add(f"the statement names {name}, whom the article's names do not include")


# ---------------------------------------------------------------- negation, intent, hedges


def _found(lex: Lexicon, name: str, folded: str) -> Found | None:
    return lex.has(name, folded)


def _negation(lex: Lexicon, folded: str, strict: bool) -> Found | None:
    if strict and "negation_strict" in lex.lists:
        return _found(lex, "negation_strict", folded)
    return _found(lex, "negation", folded)


def check_negation(said: str, sources: Sequence[Source], out: Findings) -> None:
    en = lexicon(EN)
    stated = _negation(en, said, strict=True)
    quoted = [(text, _negation(lex, folded, strict=True), lex) for text, folded, lex in sources]
    strict = next(((t, f) for t, f, _l in quoted if f is not None), None)
    if strict is not None and stated is None and _found(en, "negation_like", said) is None:
        out.add(f"the evidence negates («{strict[1].text}»); the statement does not")
    if stated is not None and not any(_negation(lex, folded, strict=False) for _t, folded, lex in sources):
        out.add(f"the statement negates («{stated.text}»); its evidence does not")
    denied = _found(en, "denial", said)
    if denied is not None and not any(_found(lex, "denial", folded) for _t, folded, lex in sources):
        out.add(f"the statement says «{denied.text}»; its evidence reports no denial")


def intent_in(lex: Lexicon, folded: str) -> str | None:
    """The first word of intent or future in a folded text, as written there; None when it has none."""
    found = _found(lex, "intent", folded)
    if found is not None:
        return found.text
    verbs = future_verbs(lex, folded) if lex.future_prefix else []
    return verbs[0] if verbs else None


def completed_past(said: str) -> str | None:
    """A verb of the statement in a completed past tense, or None."""
    irregular, not_past = _past_sets()
    for word in said.split():
        if word in not_past:
            continue
        if word in irregular or (len(word) > 4 and word.endswith("ed")):
            return word
    return None


def check_intent(said: str, sources: Sequence[Source], out: Findings) -> None:
    en = lexicon(EN)
    if intent_in(en, said) is not None:
        return
    for _text, folded, lex in sources:
        word = intent_in(lex, folded)
        if word is not None:
            done = completed_past(said)
            if done is not None:
                out.add(f"the evidence gives intent or future («{word}»); the statement says it as done ({done})")
            return


def check_hedge(said: str, sources: Sequence[Source], out: Findings) -> None:
    en = lexicon(EN)
    if _found(en, "hedge", said) is not None:
        return
    for _text, folded, lex in sources:
        hedge = _found(lex, "hedge", folded)
        if hedge is not None:
            out.add(f"the evidence hedges («{hedge.text}»); the statement does not")
            return


def second_hand(text: str | None) -> bool:
    """Whether an English attribution says the article has it through someone else ("al-Sudani, according to
    an informed source", "Reuters, citing Iranian sources")."""
    return bool(text) and _found(lexicon(EN), "chain", fold(text or "")) is not None


def _head(attribution: str) -> frozenset[str]:
    """The capitalised names of whom an attribution gives first ("al-Sudani" of "al-Sudani, according to ...")."""
    head = re.split(r",|\(|;| according | citing | as | to | via | quoted ", attribution, maxsplit=1)[0]
    return name_tokens(head, capitalised=True)


def check_attribution(said: str, quoted: str, lex: Lexicon, en: Lexicon, evidence: Evidence, out: Findings) -> None:
    source = _found(lex, "second_hand", quoted)
    speaks = _found(en, "attribution", said)
    if evidence.attribution is None:
        if source is not None and speaks is None:
            out.add(f"the quote carries a source («{source.text}»); the statement has no attribution")
        return
    attributed_words = name_tokens(evidence.attribution, capitalised=True)
    names_source = bool(attributed_words & name_tokens(said, capitalised=False))
    if evidence.attribution_in_text and speaks is None and not names_source:
        out.add(f"the article attributes this to {evidence.attribution}; the statement does not say so")
    elif evidence.attribution_in_text and en.has("anonymous", fold(evidence.attribution)) \
            and not en.has("anonymous", said) and not en.has("second_hand", said):
        out.add(f"the article has this from {evidence.attribution}; the statement does not say it rests on a source")
    elif evidence.attribution_in_text and second_hand(evidence.attribution) and speaks is not None \
            and _found(en, "second_hand", said) is None and _head(evidence.attribution) & name_tokens(said):
        out.add(f"the article has this second-hand ({evidence.attribution}); the statement says it first-hand "
                "(no 'reportedly', 'according to' or source)")
