"""The timeline: every dated event of the articles, in order, each event once.

Order: by the last day a date can be, so a partial date sorts at the end of its span, after the
full dates it contains ("2024-01" after "2024-01-28"); events with equal dates keep the order the
articles give them (article by article, in each article's own order), never alphabetical.

Only verified events are on it (their quote was found in the article), with the date briefer
checked (extract/datecheck.py). The same event reported by several articles becomes one entry
citing all of them: two events from different articles are the same when their dates are
compatible (equal, or one contains the other) and their descriptions share most of their content
words (see `similar`). The entry keeps the words of the report with the most precise date, but claims
no more than each report gives: its date is the one every report supports (the least precise), and
when the reports differ, each is listed with its own date ("27 September 2024 [1]; September 2024
[2]"), so an article that gives only the month is never cited for a day.
Deterministic: no model is involved.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from briefer.models import ArticleSummary, GroundedEvent, TimelineEntry, TimelineReport
from briefer.text import dates
from briefer.text.textnorm import match_key

# Words that say nothing about which event it is.
_STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but as is are was were be been being has have had will "
    "would shall should can could may might must do does did its it their his her they he she them this that "
    "these those there which who whom what when where after before about into over under than then also not "
    "no s said says say according".split()
)
_TOKEN = re.compile(r"\w+")
STEM = 6  # words compared by their first letters: "announced" meets "announcement"
MIN_SHARED = 3
MIN_OVERLAP = 0.6  # shared content words / content words of the shorter description


def content_words(text: str) -> frozenset[str]:
    words = _TOKEN.findall(match_key(text))
    return frozenset(w[:STEM] for w in words if w not in _STOPWORDS)


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two descriptions of the same event: the same content words, or at least MIN_SHARED in
    common and at least MIN_OVERLAP of the shorter one's."""
    if a == b:
        return bool(a)
    shared = len(a & b)
    return shared >= MIN_SHARED and shared >= MIN_OVERLAP * min(len(a), len(b))


@dataclass
class _Entry:
    """One timeline entry being built: its reports, in article order."""

    reports: list[tuple[str, GroundedEvent, frozenset[str]]] = field(default_factory=list)

    @property
    def best(self) -> tuple[str, GroundedEvent, frozenset[str]]:
        """The report with the most precise date (the first such), whose words the entry keeps."""
        return max(self.reports, key=lambda r: dates.precision(r[1].date or ""))

    def accepts(self, article_id: str, event: GroundedEvent, words: frozenset[str]) -> bool:
        date = event.date
        assert date is not None
        if any(aid == article_id for aid, _e, _w in self.reports):
            return False  # one article never reports one event twice; its events stay apart
        for _a, e, _w in self.reports:
            if not (dates.contains(e.date or "", date) or dates.contains(date, e.date or "")):
                return False
        return any(similar(words, w) for _a, _e, w in self.reports)


def _prefixes(date: str) -> list[str]:
    bits = date.split("-")
    return ["-".join(bits[:n]) for n in range(1, len(bits) + 1)]


def build_timeline(summaries: Iterable[ArticleSummary]) -> list[TimelineEntry]:
    """Every dated event of the articles, oldest first, each event once (module docstring)."""
    entries: list[_Entry] = []
    # Candidate entries are found through their dates and words, so a day of thousands of
    # articles is not compared pairwise: (date or date prefix, word) -> entry numbers.
    within: dict[tuple[str, str], list[int]] = defaultdict(list)  # entries dated within that date
    exact: dict[tuple[str, str], list[int]] = defaultdict(list)  # entries dated exactly that
    for s in summaries:
        for event in s.events:
            date = event.date
            if date is None or not event.verified:
                continue  # a timeline line is checkable: its quote was found in the article
            words = content_words(event.description_en)
            hits: Counter[int] = Counter()
            for w in words:
                found = set(within.get((date, w), ())) | {n for p in _prefixes(date) for n in exact.get((p, w), ())}
                hits.update(found)
            candidates = sorted(n for n, k in hits.items() if k >= min(MIN_SHARED, len(words)))
            number = next((n for n in candidates if entries[n].accepts(s.id, event, words)), None)
            if number is None:
                number = len(entries)
                entries.append(_Entry())
            entries[number].reports.append((s.id, event, words))
            for w in words:
                exact[(date, w)].append(number)
                for p in _prefixes(date):
                    within[(p, w)].append(number)
    out = []
    for entry in entries:
        _aid, event, _w = entry.best
        assert event.date is not None
        reports = [e for _a, e, _w in entry.reports]
        sources = list(dict.fromkeys(e.attributed_to for e in reports if e.attributed_to))
        common = min(reports, key=lambda e: dates.precision(e.date or ""))  # the date every report supports
        assert common.date is not None
        own = sorted({(aid, e.date or "") for aid, e, _w in entry.reports})
        out.append(TimelineEntry(
            date=common.date, event=event.description_en, article_ids=sorted({aid for aid, _e, _w in entry.reports}),
            reports=[TimelineReport(article_id=aid, date=d) for aid, d in own] if len({d for _a, d in own}) > 1
            else [],
            date_basis=common.date_basis, date_note=common.date_note,
            # Said in an outlet's own voice by any report: not only someone's word.
            attributed_to="; ".join(sources) if all(e.attributed_to for e in reports) else None,
            single_anonymous_source=all(e.single_anonymous_source for e in reports),
        ))
    # sorted() is stable: equal dates keep the order of first report (article order, then the article's own).
    return sorted(out, key=lambda t: dates.timeline_key(t.date))
