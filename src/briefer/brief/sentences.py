"""The merge's sentences checked against the statements they cite, by briefer, without a model.

The merge model writes the executive summary, the stories' summaries, the perspectives and the
disagreements' positions from the articles' statements (key points, claims, events), and cites the
ones each sentence rests on by their ids ("004_6e0e75a60da96bca#k5", `atom_id`). Those statements
were themselves checked against their quotes (extract/support.py). Here each sentence is checked
against what it cites, with the same lexicons:

- every article the sentence cites has at least one of its statements cited (else the article is
  cited for something it does not say); every id cited is a statement of the input;
- numbers, dates and names in the sentence are among those of the cited statements (their English,
  their quotes, their checked dates; a name through the brief's entities and their spellings);
- each part of the sentence (clauses split at ; : and ", and"/", but"/", while") is aligned with the
  part of a cited statement it retells (most shared content words), and compared with it: a negation
  dropped or added, intent told as done ("would suspend" -> "suspended"), a hedge dropped ("it is not
  clear whether"), an attribution dropped, a second-hand report made first-hand ("reportedly said" ->
  "said"), a single unnamed source not said to be one.

A sentence citing no statement is "unchecked": briefer cannot say what it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from briefer.extract.lexicon import fold, lexicon
from briefer.extract.support import (
    EN,
    Findings,
    check_dates,
    check_numbers,
    completed_past,
    intent_in,
    name_tokens,
    second_hand,
    statement_names,
    verdict,
)
from briefer.models import ArticleSummary, BriefEntity, Support
from briefer.text.names import NameFinder

from .timeline import content_words


def atom_id(article_id: str, kind: str, number: int) -> str:
    """The stable id of an article's statement: k key point, c claim, e event, numbered from 1 in order."""
    return f"{article_id}#{kind}{number}"


@dataclass(frozen=True)
class Atom:
    """One statement of one article, as a merge sentence may cite it."""

    id: str
    article_id: str
    text: str  # the English statement
    quote: str
    language: str
    attribution: str | None
    single_anonymous: bool
    date: str | None  # the event's checked date
    published: str | None


def atoms_of(summaries: Iterable[ArticleSummary]) -> dict[str, Atom]:
    """Every statement of the articles, by id."""
    out: dict[str, Atom] = {}
    for s in summaries:
        for n, k in enumerate(s.key_points, start=1):
            a = Atom(atom_id(s.id, "k", n), s.id, k.text_en, k.evidence_quote, s.language, k.attributed_to,
                     k.single_anonymous_source, None, s.published)
            out[a.id] = a
        for n, c in enumerate(s.claims, start=1):
            a = Atom(atom_id(s.id, "c", n), s.id, c.claim_en, c.evidence_quote, s.language, c.speaker_en,
                     c.single_anonymous_source, None, s.published)
            out[a.id] = a
        for n, e in enumerate(s.events, start=1):
            a = Atom(atom_id(s.id, "e", n), s.id, e.description_en, e.evidence_quote, s.language, e.attributed_to,
                     e.single_anonymous_source, e.date, s.published)
            out[a.id] = a
    return out


_SEGMENT = re.compile(r"\s*[;:—–]\s*|,\s+(?=(?:and|but|while|whereas|although)\b)|\s+but\s+")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[A-Z\"“'(])")


def sentences(text: str) -> list[str]:
    """A summary's sentences, in order."""
    return [s for s in (p.strip() for p in _SENTENCE.split(text.strip())) if s]


def segments(text: str) -> list[str]:
    return [s for s in _SEGMENT.split(text) if s and s.strip()]


class Checker:
    """Checks the merge's sentences against the articles' statements."""

    def __init__(self, summaries: Sequence[ArticleSummary], entities: Sequence[BriefEntity]) -> None:
        self.atoms = atoms_of(summaries)
        self.published = {s.id: s.published for s in summaries}
        self.entities = list(entities)
        self._parts_of: dict[str, list[tuple[Atom, str, frozenset[str]]]] = {}

    def check(self, text: str, article_ids: Sequence[str], cited: Sequence[str]) -> Support:
        if not cited:
            return verdict([], "the sentence cites none of its articles' statements")
        out = Findings()
        atoms = [self.atoms[i] for i in dict.fromkeys(cited) if i in self.atoms]
        unknown = [i for i in dict.fromkeys(cited) if i not in self.atoms]
        if unknown:
            out.add(f"cites statements that are not in the articles: {', '.join(unknown)}")
        for aid in dict.fromkeys(article_ids):
            if not any(a.article_id == aid for a in atoms):
                out.add(f"cites article {aid} but none of its statements")
        if atoms:
            self._facts(text, atoms, out)
            self._parts(text, atoms, out)
        return verdict(out.problems)

    def _facts(self, text: str, atoms: list[Atom], out: Findings) -> None:
        dated = [p for p in (self.published.get(a.article_id) for a in atoms) if p]
        reference = max(dated) if dated else None
        sources = [(a.text, fold(a.text), lexicon(EN)) for a in atoms]
        sources += [(a.quote, fold(a.quote), lexicon(a.language)) for a in atoms]
        check_numbers(text, fold(text), sources, reference, out)
        given_dates = [(a.text, EN) for a in atoms] + [(a.quote, a.language) for a in atoms]
        checked = [d for a in atoms for d in (a.date, a.published) if d]
        check_dates(text, given_dates, reference, checked, out)
        self._names(text, atoms, out)

    def _names(self, text: str, atoms: list[Atom], out: Findings) -> None:
        english = set().union(*(name_tokens(f"{a.text} {a.attribution or ''}") for a in atoms))
        finder = NameFinder([a.quote for a in atoms])
        for name, at_start in statement_names(text):
            words = name_tokens(name)
            if not words or words <= english:
                continue
            if any(words <= name_tokens(e.name_en, capitalised=True) and self._cited(e, english, finder)
                   for e in self.entities):
                continue
            if at_start and " " not in name:
                continue
            out.add(f"names {name}; none of the statements it cites does")

    @staticmethod
    def _cited(entity: BriefEntity, english: set[str], finder: NameFinder) -> bool:
        """Whether the cited statements name the entity, under any of its names or spellings."""
        for v in (entity.name_en, *(v.name for v in entity.variants)):
            tokens = name_tokens(v, capitalised=True)
            if tokens and tokens <= english:
                return True
            if re.search(r"[^\x00-\x7f]", v) and finder.found(v):
                return True
        return False

    def _segments(self, atom: Atom) -> list[tuple[Atom, str, frozenset[str]]]:
        """A statement's parts with their content words, worked out once (sentences cite the same statements)."""
        if atom.id not in self._parts_of:
            self._parts_of[atom.id] = [(atom, seg, content_words(seg)) for seg in segments(atom.text)]
        return self._parts_of[atom.id]

    def _parts(self, text: str, atoms: list[Atom], out: Findings) -> None:
        """Each part of the sentence against the part of a cited statement it retells."""
        parts = [part for a in atoms for part in self._segments(a)]
        parts_said = segments(text)
        lead = fold(parts_said[0]) if parts_said else ""  # "According to Reuters, ...": covers the sentence
        whole = fold(text)
        for seg in parts_said:
            words = content_words(seg)
            scope = f"{lead} {fold(seg)}"
            best = max(parts, key=lambda p: (len(words & p[2]), -len(p[2])), default=None)
            if best is None or len(words & best[2]) < 2 or len(words & best[2]) < 0.3 * len(words):
                continue
            atom, told, _w = best
            said, source = fold(seg), fold(told)
            _compare(seg, said, scope, whole, source, atom, out)


def _compare(seg: str, said: str, scope: str, whole: str, source: str, atom: Atom, out: Findings) -> None:
    """One part of a sentence (`said`, folded; `scope`: it with the sentence's first part, where an attribution
    covers the sentence; `whole`: the sentence) against the part of the statement it retells (`source`)."""
    en = lexicon(EN)
    negated, was_negated = en.has("negation", said), en.has("negation", source)
    if was_negated and not negated and not en.has("negation_like", said):
        out.add(f"«{seg}»: the statement it retells negates («{was_negated.text}»); the sentence does not")
    if negated and not was_negated and not en.has("negation_like", source):
        out.add(f"«{seg}»: the sentence negates («{negated.text}»); the statement it retells does not")
    intent = intent_in(en, source)
    if intent and not intent_in(en, said) and (done := completed_past(said)):
        out.add(f"«{seg}»: the statement it retells gives intent («{intent}»); the sentence says it as done ({done})")
    hedge = en.has("hedge", source)
    if hedge and not en.has("hedge", said):
        out.add(f"«{seg}»: the statement it retells hedges («{hedge.text}»); the sentence does not")
    names_source = bool(name_tokens(atom.attribution or "", capitalised=True) & name_tokens(scope))
    if (second_hand(atom.attribution) or en.has("second_hand", source)) and not en.has("second_hand", scope) \
            and not (atom.attribution and _names_chain(atom.attribution, scope)):
        out.add(f"«{seg}»: the statement it retells is second-hand ({atom.attribution or 'as reported'}); "
                "the sentence drops that")
    elif atom.attribution and not en.has("attribution", scope) and not names_source:
        out.add(f"«{seg}»: the statement it retells is {atom.attribution}'s; the sentence does not say so")
    if atom.single_anonymous and not en.has("anonymous", whole):
        out.add(f"«{seg}»: the statement it retells rests on a single unnamed source ({atom.attribution}); "
                "the sentence does not say so")


def _names_chain(attribution: str, scope: str) -> bool:
    """Whether the sentence names who the article has it through ("Reuters" of "al-Sudani, citing Reuters")."""
    rest = re.split(r"according to|citing|cited by|quoted by|via|through", attribution, maxsplit=1)
    return len(rest) > 1 and bool(name_tokens(rest[1], capitalised=True) & name_tokens(scope))


__all__ = ["Atom", "Checker", "atom_id", "atoms_of", "segments", "sentences"]
