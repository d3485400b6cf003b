"""The checks `briefer eval` can run, and how an expectation file (TOML) declares them.

Every pattern is a Python regex, matched case-insensitively anywhere in the text; a list of
patterns means all of them, in one item (one key point, one claim, one translated paragraph,
one summary line; the summary is one item). Article ids may be given by a unique prefix ("004").
Every table of an array may carry `label = "..."` to name it in the report.

Article file (`<article-id>.toml`)                Brief file (`brief.toml`)
    language, outlet (regex, or false: none)      min_grounding (stats.grounding_rate)
                                                  min_statement_support (stats.support_rate),
                                                    max_unsupported (statements found unsupported)
    published (date or list; a more precise       stale / fresh (ids listed / not listed as stale)
      date inside it also passes), date_basis     min_stories, max_stories
    min_translation_coverage, min_grounding       min_summary_lines, max_summary_lines
    max_summary_sentences, max_summary_words      summary_cites = true (each line cites >= 1 article)
    [[entity]] name, type, original               [[entity]] name, type, variants, articles
    [[number]] value, spelled, near, in           [[story]] together, not_with, about, and against an
                                                    earlier brief: status (new / developing /
                                                    continuing), since (regex), since_cites (ids)
    [[point]] about, in, speaker                  [[disagreement]] topic, min_positions, articles
    [[claim]] speaker, says                       [[point]] / [[number]] / [[event]] (timeline)
    [[event]] date, about                         [[custom]] python = "checks:function"
                                                  [[event]] not_articles: ids never cited for that date
    [[custom]] python = "checks:function"        already_reported (ids), no_new_reporting (regexes,
                                                    one per earlier story listed)

A custom check is called with the ArticleSummary or Brief and returns (ok, found_text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from briefer.errors import UsageError
from briefer.models import ArticleSummary, Brief, count_sentences

Found = tuple[bool, str]
Pattern = re.Pattern[str]
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
BASES = ("explicit", "inferred", "unknown")
TYPES = ("person", "organization", "place", "other")


class ExpectationError(UsageError):
    """A bad expectation file; the message names the file and the key."""


@dataclass(frozen=True)
class Check:
    kind: str
    label: str
    test: Callable[[Any], Found]


ARTICLE_FIELDS: dict[str, Callable[[ArticleSummary], list[str]]] = {
    "headline_en": lambda s: [s.headline_en],
    "summary_en": lambda s: [s.summary_en],
    "key_points": lambda s: [k.text_en for k in s.key_points],
    "claims": lambda s: [c.claim_en for c in s.claims],
    "events": lambda s: [e.description_en for e in s.events],
    "translation_en": lambda s: list(s.translation_en),
}
BRIEF_FIELDS: dict[str, Callable[[Brief], list[str]]] = {
    "title": lambda b: [b.title],
    "executive_summary": lambda b: [line.text for line in b.executive_summary],
    "stories": lambda b: [t for s in b.stories for t in (s.title, s.summary, *(p.view for p in s.perspectives))],
    "disagreements": lambda b: [t for d in b.disagreements for t in (d.topic, *(p.position for p in d.positions))],
    "timeline": lambda b: [t.event for t in b.timeline],
}
ALIASES = {"key_points[].text_en": "key_points", "claims[].claim_en": "claims", "events[].description_en": "events",
           "executive_summary[].text": "executive_summary", "timeline[].event": "timeline"}


# ---------------------------------------------------------------- reading a TOML table


class Spec:
    """One TOML table being read: typed accessors that report errors as 'file: key: problem'."""

    def __init__(self, data: dict[str, Any], file: str, path: str = "") -> None:
        self.data, self.file, self.path = data, file, path
        self.known: set[str] = {"label"}

    def error(self, key: str, problem: str) -> ExpectationError:
        return ExpectationError(f"{self.file}: {self.path}{key}: {problem}")

    def raw(self, key: str) -> Any:
        self.known.add(key)
        return self.data.get(key)

    def text(self, key: str, choices: Sequence[str] = ()) -> str | None:
        value = self.raw(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        if value is not None and choices and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def texts(self, key: str, choices: Sequence[str] = (), required: bool = False) -> list[str]:
        value = self.raw(key)
        items = [value] if isinstance(value, str) else value if value is not None else []
        if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
            raise self.error(key, f"must be a string or a list of strings, got {value!r}")
        if required and not items:
            raise self.error(key, "is required")
        for v in items:
            if choices and v not in choices:
                raise self.error(key, f"must be one of {', '.join(choices)}, got {v!r}")
        return items

    def patterns(self, key: str, required: bool = False) -> list[Pattern]:
        out = []
        for text in self.texts(key, required=required):
            try:
                out.append(re.compile(text, re.IGNORECASE))
            except re.error as exc:
                raise self.error(key, f"bad regex {text!r}: {exc}") from None
        return out

    def number(self, key: str, low: float = 0.0, high: float | None = None, required: bool = False) -> float | None:
        value = self.raw(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, got {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            raise self.error(key, f"must be {bounds}, got {value!r}")
        return float(value)

    def dates(self, key: str, required: bool = False) -> list[str]:
        values = self.texts(key, required=required)
        for v in values:
            if not _DATE.match(v):
                raise self.error(key, f"must be YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
        return values

    def ids(self, key: str, known: Sequence[str], required: bool = False) -> list[str]:
        out = []
        for given in self.texts(key, required=required):
            hits = [i for i in known if i == given] or [i for i in known if i.startswith(given)]
            if len(hits) != 1:
                why = "matches several articles" if hits else "names no article in the fixtures"
                raise self.error(key, f"{given!r} {why}")
            out.append(hits[0])
        return out

    def fields(self, key: str, table: dict[str, Any], default: str) -> list[str]:
        names = [ALIASES.get(n, n) for n in self.texts(key)] or [default]
        for n in names:
            if n != "any" and n not in table:
                raise self.error(key, f"unknown field {n!r} (known: {', '.join([*table, 'any'])})")
        return list(table) if "any" in names else names

    def tables(self, key: str) -> list[Spec]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        return [Spec(v, self.file, f"{self.path}{key}[{n}].") for n, v in enumerate(value)]

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.known)
        if unknown:
            raise self.error(unknown[0], f"unknown key (known: {', '.join(sorted(self.known))})")


# ---------------------------------------------------------------- helpers


def show(text: str, limit: int = 160) -> str:
    """One line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _all(patterns: Sequence[Pattern], text: str) -> bool:
    return all(p.search(text) for p in patterns)


def _rx(patterns: Sequence[Pattern]) -> str:
    return " + ".join(f"/{p.pattern}/" for p in patterns)


def date_within(expected: str, actual: str | None) -> bool:
    """`actual` is `expected` or a more precise date inside it ("2024-09-16" is within "2024-09")."""
    return actual is not None and (actual == expected or actual.startswith(expected + "-"))


def numbers_in(text: str) -> list[float]:
    """Numbers written with digits (any script), thousands commas removed."""
    return [float(t.replace(",", "")) for t in _NUMBER.findall(text)]


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _items(obj: Any, fields: list[str], table: dict[str, Callable[[Any], list[str]]]) -> list[str]:
    return [item for f in fields for item in table[f](obj)]


def _closest(items: list[str], patterns: Sequence[Pattern]) -> str | None:
    scored = [(sum(1 for p in patterns if p.search(i)), i) for i in items]
    best = max(scored, key=lambda s: s[0], default=(0, ""))
    return best[1] if best[0] else None


def _named(spec: Spec, label: str) -> str:
    return spec.text("label") or label


# ---------------------------------------------------------------- checks shared by articles and the brief


def _point(spec: Spec, table: dict[str, Any], default: str, speaker_ok: bool) -> Check:
    about = spec.patterns("about", required=True)
    fields = spec.fields("in", table, default)
    if speaker_ok and spec.raw("speaker") is not None:
        if spec.raw("in") is not None and fields != ["claims"]:
            raise spec.error("speaker", "applies to claims only: drop 'in' or set in = \"claims\"")
        return _claim(spec, spec.patterns("speaker"), about, "point")
    where = ",".join(fields) if len(fields) < len(table) else "any"

    def test(obj: Any) -> Found:
        items = _items(obj, fields, table)
        hit = next((i for i in items if _all(about, i)), None)
        if hit is not None:
            return True, show(hit)
        near = _closest(items, about)
        return False, f"no {where} item matches all" + (f"; closest: {show(near)}" if near else "")

    return Check("point", _named(spec, f"point {_rx(about)} in {where}"), test)


def _number(spec: Spec, table: dict[str, Any]) -> Check:
    value = spec.number("value", low=float("-inf"), required=True)
    assert value is not None
    spelled = [re.compile(rf"\b{re.escape(w)}\b", re.IGNORECASE) for w in spec.texts("spelled")]
    near = spec.patterns("near")
    fields = spec.fields("in", table, "any")
    where = ",".join(fields) if len(fields) < len(table) else "any"
    label = f"number {_fmt(value)}" + (f" near {_rx(near)}" if near else "") + f" in {where}"

    def test(obj: Any) -> Found:
        items = [i for i in _items(obj, fields, table) if _all(near, i)]
        for item in items:
            if value in numbers_in(item) or any(w.search(item) for w in spelled):
                return True, show(item)
        if near and not items:
            return False, f"no {where} item matches {_rx(near)}"
        seen = sorted({_fmt(n) for i in items for n in numbers_in(i)}, key=float)
        scope = f"the {len(items)} item(s) matching {_rx(near)}" if near else where
        return False, f"{_fmt(value)} not in {scope}; numbers there: {', '.join(seen[:20]) or 'none'}"

    return Check("number", _named(spec, label), test)


def _timeline_rows(brief: Brief) -> list[tuple[str, str, list[str]]]:
    """(date, event, articles cited for that date): an entry whose reports give different dates is one row per
    date, each with the articles that give it."""
    rows = []
    for t in brief.timeline:
        if not t.reports:
            rows.append((t.date, t.event, t.article_ids))
            continue
        for date in dict.fromkeys(r.date for r in t.reports):
            rows.append((date, t.event, [r.article_id for r in t.reports if r.date == date]))
    return rows


def _event(spec: Spec, brief: bool, known: Sequence[str]) -> Check:
    dates = spec.dates("date", required=True)
    about = spec.patterns("about")
    ids = spec.ids("articles", known) if brief else []
    never = spec.ids("not_articles", known) if brief else []
    label = f"event {'|'.join(dates)}" + (f" {_rx(about)}" if about else "")
    label += f" not cited to {', '.join(spec.texts('not_articles'))}" if never else ""

    def test(obj: Any) -> Found:
        events = (_timeline_rows(obj) if brief else [(e.date, e.description_en, []) for e in obj.events])
        on_date = [(d, text, cited) for d, text, cited in events if any(date_within(x, d) for x in dates)]
        wrong = [(d, text, cited) for d, text, cited in on_date if _all(about, text) and set(never) & set(cited)]
        if wrong:
            d, text, cited = wrong[0]
            return False, f"{d}: {show(text)} cites {', '.join(sorted(set(never) & set(cited)))}"
        for d, text, cited in on_date:
            if _all(about, text) and set(ids) <= set(cited):
                return True, f"{d}: {show(text)}"
        if on_date:
            first = f"{on_date[0][0]}: {show(on_date[0][1])}"
            return False, f"{len(on_date)} event(s) on that date, none matching; e.g. {first}"
        near = _closest([f"{d}: {text}" for d, text, _ in events], about) if about else None
        return False, "no event on that date" + (f"; closest: {show(near)}" if near else "")

    return Check("event", _named(spec, label), test)


def _entity(spec: Spec, brief: bool, known: Sequence[str]) -> Check:
    name = spec.patterns("name", required=True)
    kind = spec.text("type", TYPES)
    spellings = spec.patterns("variants" if brief else "original")
    ids = spec.ids("articles", known) if brief else []
    label = f"entity {_rx(name)}" + (f" ({kind})" if kind else "")
    label += f" with {', '.join(p.pattern for p in spellings)}" if spellings else ""

    def names_of(e: Any) -> list[str]:
        return [v.name for v in e.variants] if brief else list(e.names_original)

    def test(obj: Any) -> Found:
        matching = [e for e in obj.entities if _all(name, e.name_en)]
        for e in matching:
            names = names_of(e)
            if ((kind is None or e.type == kind) and all(any(p.search(n) for n in names) for p in spellings)
                    and set(ids) <= set(getattr(e, "article_ids", []))):
                return True, show(f"{e.name_en} ({e.type}): {', '.join(names)}" + (
                    f" [{len(e.article_ids)} articles]" if brief else ""))
        if matching:
            return False, "; ".join(show(f"{e.name_en} ({e.type}): {', '.join(names_of(e))}" + (
                f" in {', '.join(e.article_ids)}" if brief else ""), 200) for e in matching)
        return False, "no such entity; entities: " + ", ".join(e.name_en for e in obj.entities)

    return Check("entity", _named(spec, label), test)


def _custom(spec: Spec, resolve: Callable[[str], Callable[[Any], Any]]) -> Check:
    ref = spec.text("python")
    if not ref:
        raise spec.error("python", "is required: 'module:function' (module: a .py file beside the expectations)")
    try:
        fn = resolve(ref)
    except (ValueError, OSError, ImportError, SyntaxError) as exc:
        raise spec.error("python", str(exc)) from None

    def test(obj: Any) -> Found:
        result = fn(obj)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], bool)):
            raise TypeError(f"{ref} returned {result!r}; expected (ok: bool, found: str)")
        return result[0], show(str(result[1]), 400)

    return Check("custom", _named(spec, f"python {ref}"), test)


def _claim(spec: Spec, speaker: list[Pattern], says: list[Pattern], kind: str = "claim") -> Check:
    def test(s: ArticleSummary) -> Found:
        by = [c for c in s.claims if _all(speaker, c.speaker_en)]
        hit = next((c for c in by if _all(says, c.claim_en)), None)
        if hit is not None:
            return True, show(f"{hit.speaker_en}: {hit.claim_en}")
        if by:
            return False, f"{len(by)} claim(s) by that speaker, none matching; e.g. {show(by[0].claim_en)}"
        return False, "no claim by that speaker; speakers: " + "; ".join(sorted({c.speaker_en for c in s.claims}))

    return Check(kind, _named(spec, f"claim by {_rx(speaker)} says {_rx(says)}"), test)


def _arrays(spec: Spec, builders: dict[str, Callable[[Spec], Check]]) -> list[Check]:
    out = []
    for key, build in builders.items():
        for sub in spec.tables(key):
            out.append(build(sub))
            sub.finish()
    return out


# ---------------------------------------------------------------- an article


def article_checks(data: dict[str, Any], file: str, known: Sequence[str],
                   resolve: Callable[[str], Callable[[Any], Any]]) -> list[Check]:
    """The checks an article's expectation file declares."""
    spec = Spec(data, file)
    spec.known.discard("label")
    out: list[Check] = []
    lang = spec.text("language")
    if lang is not None:
        out.append(Check("language", f"language = {lang}", lambda s: (s.language == lang, s.language)))
    outlet = spec.raw("outlet")
    if isinstance(outlet, bool):
        out.append(Check("outlet", "outlet is named" if outlet else "outlet is null (not named in the text)",
                         lambda s: ((s.outlet is not None) == outlet, str(s.outlet))))
    elif isinstance(outlet, str):
        rx = spec.patterns("outlet")
        out.append(Check("outlet", f"outlet {_rx(rx)}", lambda s: (
            bool(s.outlet and _all(rx, s.outlet)), str(s.outlet))))
    elif outlet is not None:
        raise spec.error("outlet", f"must be a regex or false, got {outlet!r}")
    if published := spec.dates("published"):
        out.append(Check("published", f"published {'|'.join(published)}", lambda s: (
            any(date_within(p, s.published) for p in published), f"{s.published} ({s.date_basis})")))
    if bases := spec.texts("date_basis", BASES):
        out.append(Check("date_basis", f"date_basis {'|'.join(bases)}", lambda s: (
            s.date_basis in bases, f"{s.date_basis}: {s.date_evidence}")))
    if (cover := spec.number("min_translation_coverage", high=1.0)) is not None:
        out.append(Check("coverage", f"translation coverage >= {cover:g}", lambda s: _coverage(s, cover)))
    if (rate := spec.number("min_grounding", high=1.0)) is not None:
        out.append(Check("grounding", f"grounding >= {rate:g}", lambda s: _grounding(
            s.grounding.rate, s.grounding.verified, s.grounding.quotes, rate)))
    if (most := spec.number("max_summary_sentences", low=1)) is not None:
        out.append(Check("length", f"summary <= {most:g} sentences", lambda s: (
            count_sentences(s.summary_en) <= most, f"{count_sentences(s.summary_en)} sentences")))
    if (words := spec.number("max_summary_words", low=1)) is not None:
        out.append(Check("length", f"summary <= {words:g} words", lambda s: (
            len(s.summary_en.split()) <= words, f"{len(s.summary_en.split())} words")))
    out += _arrays(spec, {
        "entity": lambda t: _entity(t, False, known),
        "number": lambda t: _number(t, ARTICLE_FIELDS),
        "point": lambda t: _point(t, ARTICLE_FIELDS, "key_points", True),
        "claim": lambda t: _claim(t, t.patterns("speaker", required=True), t.patterns("says", required=True)),
        "event": lambda t: _event(t, False, known),
        "custom": lambda t: _custom(t, resolve),
    })
    spec.finish()
    return out


def _coverage(s: ArticleSummary, least: float) -> Found:
    total = len(s.paragraphs_original)
    blank = [i for i in range(total) if i >= len(s.translation_en) or not s.translation_en[i].strip()]
    rate = (total - len(blank)) / total if total else 1.0
    missing = f"; untranslated paragraphs: {', '.join(map(str, blank))}" if blank else ""
    return rate >= least, f"{total - len(blank)}/{total} paragraphs translated ({rate:.2f}){missing}"


def _grounding(rate: float | None, verified: int, quotes: int, least: float) -> Found:
    if rate is None:
        return False, "no quotes to verify"
    return rate >= least, f"{verified}/{quotes} quotes verified ({rate:.2f})"


# ---------------------------------------------------------------- the brief


def brief_checks(data: dict[str, Any], file: str, known: Sequence[str],
                 resolve: Callable[[str], Callable[[Any], Any]]) -> list[Check]:
    """The checks brief.toml declares."""
    spec = Spec(data, file)
    spec.known.discard("label")
    out: list[Check] = []
    if (rate := spec.number("min_grounding", high=1.0)) is not None:
        out.append(Check("grounding", f"grounding >= {rate:g}", lambda b: _grounding(
            b.stats.grounding_rate, b.stats.quotes_verified, b.stats.quotes, rate)))
    if stale := spec.ids("stale", known):
        out.append(Check("stale", f"stale lists {', '.join(spec.texts('stale'))}", lambda b: (
            set(stale) <= {s.article_id for s in b.stale_articles}, _stale_found(b))))
    if fresh := spec.ids("fresh", known):
        out.append(Check("stale", f"not stale: {', '.join(spec.texts('fresh'))}", lambda b: (
            not set(fresh) & {s.article_id for s in b.stale_articles}, _stale_found(b))))
    if (least := spec.number("min_statement_support", high=1.0)) is not None:
        out.append(Check("support", f"statements checked and supported >= {least:g}", lambda b: (
            b.stats.support_rate is not None and b.stats.support_rate >= least, _support_found(b))))
    if (most := spec.number("max_unsupported")) is not None:
        out.append(Check("support", f"statements found unsupported <= {most:g}", lambda b: (
            b.stats.statements_unsupported <= most, _support_found(b))))
    low, high = spec.number("min_stories"), spec.number("max_stories")
    if low is not None or high is not None:
        out.append(Check("stories", f"stories {_range(low, high)}", lambda b: (
            _between(len(b.stories), low, high), f"{len(b.stories)} stories")))
    low_l, high_l = spec.number("min_summary_lines"), spec.number("max_summary_lines")
    if low_l is not None or high_l is not None:
        out.append(Check("summary", f"executive summary {_range(low_l, high_l)} lines", lambda b: (
            _between(len(b.executive_summary), low_l, high_l), f"{len(b.executive_summary)} lines")))
    cites = spec.raw("summary_cites")
    if cites is not None and not isinstance(cites, bool):
        raise spec.error("summary_cites", f"must be true or false, got {cites!r}")
    if cites:
        out.append(Check("summary", "every summary line cites an article", _lines_cite))
    if seen := spec.ids("already_reported", known):
        out.append(Check("continuity", f"already reported: {', '.join(spec.texts('already_reported'))}", lambda b: (
            bool(b.continuity) and set(seen) == set(b.continuity.already_reported),
            f"already reported: {', '.join(b.continuity.already_reported) if b.continuity else '(no earlier brief)'}")))
    if quiet := spec.patterns("no_new_reporting"):
        out.append(Check("continuity", f"no new reporting: {_rx(quiet)}", lambda b: _quiet(b, quiet)))
    out += _arrays(spec, {
        "entity": lambda t: _entity(t, True, known),
        "story": lambda t: _story(t, known),
        "disagreement": lambda t: _disagreement(t, known),
        "point": lambda t: _point(t, BRIEF_FIELDS, "executive_summary", False),
        "number": lambda t: _number(t, BRIEF_FIELDS),
        "event": lambda t: _event(t, True, known),
        "custom": lambda t: _custom(t, resolve),
    })
    spec.finish()
    return out


def _support_found(b: Brief) -> str:
    st = b.stats
    if not st.statements:
        return "no statement checked"
    first = next((f"{line.text[:80]}: {'; '.join(line.support.problems)}" for line in b.executive_summary
                  if line.support and line.support.verdict == "unsupported"), None)
    shown = f"{st.statements_supported} of {st.statements} supported, {st.statements_unsupported} unsupported, " \
            f"{st.statements_unchecked} unchecked"
    return show(f"{shown}; e.g. {first}" if first else shown)


def _range(low: float | None, high: float | None) -> str:
    return f"{'' if low is None else _fmt(low)}..{'' if high is None else _fmt(high)}"


def _between(n: int, low: float | None, high: float | None) -> bool:
    return (low is None or n >= low) and (high is None or n <= high)


def _stale_found(b: Brief) -> str:
    return "stale: " + (", ".join(f"{s.article_id} ({s.published})" for s in b.stale_articles) or "none")


def _lines_cite(b: Brief) -> Found:
    bare = [line.text for line in b.executive_summary if not line.article_ids]
    if not b.executive_summary:
        return False, "no executive summary"
    return not bare, f"uncited: {show(bare[0])}" if bare else f"{len(b.executive_summary)} lines, each cites"


def _story(spec: Spec, known: Sequence[str]) -> Check:
    together = spec.ids("together", known, required=True)
    apart = spec.ids("not_with", known)
    about = spec.patterns("about")
    status = spec.text("status", ("new", "developing", "continuing"))
    since = spec.patterns("since")
    since_cites = spec.ids("since_cites", known)
    label = f"story with {', '.join(spec.texts('together'))}"
    label += f" without {', '.join(spec.texts('not_with'))}" if apart else ""
    label += f" {_rx(about)}" if about else ""
    label += f", {status}" if status else ""
    label += f", since {_rx(since)}" if since else ""
    label += f", since citing {', '.join(spec.texts('since_cites'))}" if since_cites else ""

    def continues(b: Brief, n: int) -> bool:
        if not (status or since or since_cites):
            return True
        if b.continuity is None:
            return False
        c = b.continuity.stories[n]
        text, cited = (c.since.text, set(c.since.article_ids)) if c.since else ("", set())
        return ((status is None or c.label == status) and (not since or (bool(c.since) and _all(since, text)))
                and set(since_cites) <= cited)

    def test(b: Brief) -> Found:
        for n, s in enumerate(b.stories):
            ids = set(s.article_ids)
            if (set(together) <= ids and not ids & set(apart) and _all(about, f"{s.title} {s.summary}")
                    and continues(b, n)):
                found = f"{s.title} [{', '.join(s.article_ids)}]"
                return True, show(f"{found} {_continuation(b, n)}")
        near = [(n, s) for n, s in enumerate(b.stories) if together[0] in s.article_ids]
        return False, "; ".join(show(f"{s.title} [{', '.join(s.article_ids)}] {_continuation(b, n)}", 200)
                                for n, s in near) or "in no story"

    return Check("story", _named(spec, label), test)


def _continuation(b: Brief, n: int) -> str:
    if b.continuity is None:
        return ""
    c = b.continuity.stories[n]
    return f"({c.label}{'; since: ' + c.since.text if c.since else ''})"


def _quiet(b: Brief, patterns: Sequence[Pattern]) -> Found:
    titles = [st.title for st in b.continuity.no_new_reporting] if b.continuity else []
    missing = [p.pattern for p in patterns if not any(p.search(t) for t in titles)]
    return not missing and b.continuity is not None, "no new reporting: " + ("; ".join(titles) or "none")


def _disagreement(spec: Spec, known: Sequence[str]) -> Check:
    topic = spec.patterns("topic", required=True)
    least = spec.number("min_positions", low=2) or 2.0
    ids = spec.ids("articles", known)

    def test(b: Brief) -> Found:
        for d in b.disagreements:
            text = " ".join([d.topic, *(p.position for p in d.positions)])
            cited = {i for p in d.positions for i in p.article_ids}
            if _all(topic, text) and len(d.positions) >= least and set(ids) <= cited:
                return True, show(f"{d.topic} ({len(d.positions)} positions)")
        return False, "disagreements: " + ("; ".join(d.topic for d in b.disagreements) or "none")

    return Check("disagreement", _named(spec, f"disagreement {_rx(topic)}"), test)
