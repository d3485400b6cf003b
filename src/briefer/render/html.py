"""brief.html: the brief and every article side by side, as one self-contained page. Computes nothing new.

The page is rendered from templates/brief.html.j2 with jinja2 autoescaping, from the same Brief and
ArticleSummary models as brief.md (citation numbers and the unverified quotes come from render/common.py).
What this module adds is layout only: each evidence quote's span cut out of its paragraph so the template
can highlight it, and anchors for the links between a key point and its highlight.

Safety: every value printed is HTML-escaped by jinja2 and bidi-balanced by `bidi_balanced` (an unmatched
right-to-left override in an article cannot reorder the page around it); the few snippets built here in Python
for speed (citation links, an article's paragraphs with their highlights, names in their own script) print each
value the same way, through `_printed`. The links are in-page anchors, and each source's own http(s) address
(`common.link_target`: no other scheme becomes a link); the Content-Security-Policy forbids script, and allows exactly
the page's own stylesheet by hash.

Two reading depths: the top of the page is the brief (as brief.md); the evidence, article by article, is in
collapsed <details> sections under Evidence, each opened by a click on its summary or on a citation [n] (a link to
an element inside a closed <details> opens it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

import jinja2
from markupsafe import Markup, escape

from briefer.models import (
    ArticleRef,
    ArticleSummary,
    Brief,
    GroundedClaim,
    GroundedEvent,
    GroundedKeyPoint,
    Span,
    StaleArticle,
)
from briefer.text import dates

from .common import (
    KEPT_IN_PART,
    KEPT_INTRO,
    MERGE_KEPT,
    MERGE_LINE,
    MISSING_TAIL,
    UNVERIFIED,
    Citations,
    age_line,
    carried_line,
    compact_group,
    date_mark,
    difference_line,
    entity_groups,
    grounding_line,
    kept_in_part,
    link_target,
    missing_note,
    named_outlets,
    other_spellings,
    page_differences,
    published_line,
    role_in_time,
    source_links,
    stale_banner,
    statements_to_list,
    story_parts,
    summary_unwritten,
    support_note,
    untold_timeline,
    unverified_quotes,
    voices_line,
    who_says,
)

TEMPLATES = Path(__file__).parent / "templates"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "dv", "sd", "ug", "ckb"})

# Explicit directional formatting characters (UAX #9): openers and the closer each one needs.
_OPENERS = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",  # LRE RLE LRO RLO → PDF
            "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}  # LRI RLI FSI → PDI
_CLOSERS = {"\u202c", "\u2069"}
_ANY_CONTROL = re.compile("[" + "".join(sorted({*_OPENERS, *_CLOSERS})) + "]")  # from the two sets above


def bidi_balanced(text: str) -> str:
    """The text with its directional controls balanced: closers without an opener dropped, openers left open
    closed at the end. An article's stray override then reorders only its own text, never the page around it."""
    if not _ANY_CONTROL.search(text):  # nearly every string: one scan in C, not a Python step per character
        return text
    out: list[str] = []
    stack: list[str] = []
    for ch in text:
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in _CLOSERS:
            if ch not in stack:
                continue
            # A PDI also closes the embeddings opened after its isolate (UAX #9, X6a).
            while stack and stack[-1] != ch:
                out.append(stack.pop())
            stack.pop()
        out.append(ch)
    out.extend(reversed(stack))
    return "".join(out)


# Control characters but tab and newline (NUL, ESC, …): removed from every value printed.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted({*_OPENERS, *_CLOSERS})) + "]")


def _finalize(value: object) -> object:
    # Called for every {{ }} on the page (a third of a million at 2,000 articles): the search is inlined here so
    # that the common case, a string without control characters, costs no further call.
    if isinstance(value, str) and not isinstance(value, Markup) and _UNSAFE.search(value):
        return bidi_balanced(_CONTROLS.sub("", value))
    return value


@functools.cache
def _environment() -> jinja2.Environment:
    # The compiled template is kept in Jinja's per-user cache (a 0700 folder under the temporary directory, keyed
    # by the template's checksum): compiling it anew costs every run 0.15 s.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             bytecode_cache=jinja2.FileSystemBytecodeCache(),
                             undefined=jinja2.StrictUndefined, finalize=_finalize, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    # Filters rather than globals: Jinja calls a filter directly, a global through Context.call (3 µs a call).
    env.filters.update(highlighted=highlighted, in_own_script=in_own_script, sourcing=sourcing, evidence=evidence)
    return env


@functools.cache
def _stylesheet() -> tuple[Markup, str]:
    """The page's CSS (our own file, inserted unescaped) and its CSP source expression."""
    css = (TEMPLATES / "brief.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return Markup(css), f"'sha256-{digest}'"


# ---------------------------------------------------------------- highlights


class Segment(NamedTuple):  # a tuple rather than a dataclass: a 2,000-article page makes 14,000, at a third the cost
    """A run of text with the quotes that cover it; `starts` are the anchors of the quotes beginning here."""

    text: str
    labels: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quote:
    anchor: str  # element id of the highlight
    label: str  # "key point 2", for the highlight's title
    span: Span


def segments(text: str, quotes: Sequence[Quote]) -> list[Segment]:
    """The text cut at every quote's start and end, each piece with the quotes covering it."""
    if not quotes:  # most paragraphs quote nothing
        return [Segment(text)] if text else []
    bounds = [(max(0, min(q.span.start, len(text))), max(0, min(q.span.end, len(text))), q) for q in quotes]
    bounds = [(s, e, q) for s, e, q in bounds if s < e]
    cuts = sorted({0, len(text)} | {s for s, _, _ in bounds} | {e for _, e, _ in bounds})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        out.append(Segment(text[a:b], labels=tuple(q.label for s, e, q in bounds if s <= a and b <= e),
                           starts=tuple(q.anchor for s, _, q in bounds if s == a)))
    return out


# The few snippets below are built in Python rather than by the page template, for speed (each says why). They print
# every value through `_printed`, as {{ }} prints it: bidi-balanced if it is a string, then escaped.


def _printed(value: object) -> Markup:
    """A value as {{ value }} prints it on the page: bidi-balanced if it is a string, then escaped (Markup as is)."""
    return escape(_finalize(value))


def _html(template: str, *values: object) -> Markup:
    """The template (briefer's own HTML, never data) with each value `_printed` into its {}. Markup(template).format
    would escape but not balance, and its formatter is written in Python (three times slower)."""
    return Markup(template.format(*map(_printed, values)))


def highlighted(segs: Sequence[Segment]) -> Markup:
    """The template's `segments|highlighted`: a paragraph of an article, its quotes marked. A function, not a Jinja
    macro, because the page prints every paragraph of every article through it (a macro call per paragraph was a
    tenth of the page's time). Its text is the article's, printed segment by segment as {{ }} would."""
    if len(segs) == 1 and not segs[0].starts and not segs[0].labels:  # most paragraphs: no quote
        return _printed(segs[0].text)
    out: list[Markup] = []
    for seg in segs:
        out += [_html('<span class="qa" id="{}"></span>', anchor) for anchor in seg.starts]
        text = _printed(seg.text)
        out.append(_html('<mark title="{}">{}</mark>', ", ".join(seg.labels), text) if seg.labels else text)
    return _joined(out)


def in_own_script(texts: Sequence[str], lang: str) -> Markup:
    """The template's `names|in_own_script(lang)`: `<bdi lang="ar">…</bdi>, <bdi lang="ar">…</bdi>`, names as an
    article writes them. A function, not a {% for %} with loop.last, for the same reason as `highlighted`: every
    article lists its names. Each is the article's, printed as {{ }} would."""
    return _joined([_html('<bdi lang="{}">{}</bdi>', lang, text) for text in texts], ", ")


def sourcing(attributed_to: str | None, single_anonymous: bool, reports: int = 1) -> Markup:
    """The template's `attributed_to|sourcing(single_anonymous)`: who a line rests on, " according to …", or nothing.
    A function for the same reason as `highlighted`: every key point, claim and event of every article has one."""
    who = who_says(attributed_to, single_anonymous, reports)
    if not who:
        return Markup()
    return _html(' <span class="attr{}"><bdi dir="ltr">{}</bdi></span>', " anon" if single_anonymous else "", who)


def evidence(c: Cited[object], quote: str, lang: str) -> Markup:
    """The template's `cited|evidence(quote, lang)`: a link to where the quote is highlighted, or the quote itself,
    marked as not found in the article. A function for the same reason as `sourcing`."""
    if c.anchor:
        return _html('<a class="ev" href="#{}">see {}</a>', c.anchor, c.where)
    return _html('<span class="unverified">{}:</span> “<bdi lang="{}">{}</bdi>”', UNVERIFIED, lang, quote)


def _joined(pieces: list[Markup], separator: str = "") -> Markup:
    """Markup pieces as one. Markup(separator).join would escape each piece again, only to find it safe: 4 calls a
    piece. The separator is briefer's own text, never data."""
    return Markup(separator.join(pieces))


T = TypeVar("T")


@dataclass(frozen=True)
class Cited(Generic[T]):
    """An item of an article's summary and where its quote is highlighted (None: not found in the source)."""

    item: T
    anchor: str | None
    where: str  # "¶ 4", "headline", "date line"


class Row(NamedTuple):  # as Segment: one per paragraph of every article
    anchor: str
    number: int  # 1-based, as a reader counts paragraphs
    original: list[Segment]
    translation: str | None  # None: the model's translation stops before this paragraph


@dataclass(frozen=True)
class ArticleView:
    n: int
    summary: ArticleSummary
    ref: ArticleRef | None
    stale: StaleArticle | None
    dir: str  # of the original text
    headline: list[Segment]
    dateline: list[Segment] | None
    rows: list[Row]
    key_points: list[Cited[GroundedKeyPoint]]
    claims: list[Cited[GroundedClaim]]
    events: list[Cited[GroundedEvent]]
    date_evidence: Cited[str] | None


def _where(span: Span) -> str:
    if span.part == "body" and span.paragraph is not None:
        return f"¶ {span.paragraph + 1}"
    return "headline" if span.part == "headline" else "date line"


def _article_view(n: int, s: ArticleSummary, ref: ArticleRef | None, stale: StaleArticle | None) -> ArticleView:
    prefix = f"a{n}"
    quotes: list[Quote] = []

    def cite(item: T, kind: str, label: str, verified: bool | None, span: Span | None) -> Cited[T]:
        if not verified or span is None:
            return Cited(item, None, "")
        quote = Quote(f"{prefix}-{kind}", label, span)
        quotes.append(quote)
        return Cited(item, quote.anchor, _where(span))

    key_points = [cite(k, f"kp{i}", f"key point {i}", k.verified, k.span) for i, k in enumerate(s.key_points, 1)]
    claims = [cite(c, f"cl{i}", f"claim {i}", c.verified, c.span) for i, c in enumerate(s.claims, 1)]
    events = [cite(e, f"ev{i}", f"event {i}", e.verified, e.span) for i, e in enumerate(s.events, 1)]
    date_evidence = (cite(s.date_evidence, "date", "date evidence", s.date_evidence_verified, s.date_evidence_span)
                     if s.date_evidence else None)

    # The quotes of each place, found once rather than by scanning them all for each paragraph.
    placed: dict[tuple[str, int | None], list[Quote]] = {}
    for q in quotes:
        placed.setdefault((q.span.part, q.span.paragraph if q.span.part == "body" else None), []).append(q)
    translation = s.translation_en
    rows = [Row(f"{prefix}-p{i + 1}", i + 1, segments(text, placed.get(("body", i), ())),
                translation[i] if i < len(translation) else None)
            for i, text in enumerate(s.paragraphs_original)]
    return ArticleView(
        n=n, summary=s, ref=ref, stale=stale,
        dir="rtl" if s.language in RTL_LANGUAGES else "ltr",
        headline=segments(s.headline_original, placed.get(("headline", None), ())),
        dateline=segments(s.dateline, placed.get(("dateline", None), ())) if s.dateline else None,
        rows=rows, key_points=key_points, claims=claims, events=events, date_evidence=date_evidence,
    )


class ArticleViews:
    """The articles' views for the template, each made when the page reaches it and dropped after: all of them at
    once would be tens of thousands of objects held while the page renders, for the garbage collector to walk."""

    def __init__(self, articles: list[tuple[int, ArticleSummary, ArticleRef, StaleArticle | None]]) -> None:
        self._articles = articles

    def __bool__(self) -> bool:
        return bool(self._articles)

    def __iter__(self) -> Iterator[ArticleView]:
        return (_article_view(*a) for a in self._articles)


# ---------------------------------------------------------------- the page


class CiteLinks:
    """The template's `cite(ids)`: links to the cited sources, "[1][4]". A function, not a Jinja macro, because the
    page cites thousands of times (an entity of the who's who can cite hundreds of sources): each source's link
    and each list of ids is built once. The links hold only source numbers (ints), escaped all the same."""

    def __init__(self, citations: Citations) -> None:
        self._citations = citations
        self._lists: dict[tuple[str, ...], Markup] = {}
        self._links: dict[int, Markup] = {}

    def _link(self, n: int) -> Markup:
        link = self._links.get(n)
        if link is None:
            link = self._links[n] = _html('<a class="cite" href="#evidence-{0}" aria-label="source {0}">[{0}]</a>', n)
        return link

    def __call__(self, ids: Iterable[str]) -> Markup:
        key = tuple(ids)
        links = self._lists.get(key)
        if links is None:
            links = self._lists[key] = _joined([self._link(n) for n in self._citations.numbers(key)])
        return links


def brief_html(brief: Brief, summaries: Sequence[ArticleSummary]) -> str:
    """The whole brief, then each article's original beside its translation, as one HTML page."""
    return "".join(brief_html_pieces(brief, summaries))


def brief_html_pieces(brief: Brief, summaries: Sequence[ArticleSummary]) -> Iterator[str]:
    """`brief_html` in the pieces Jinja renders it in, to write without holding the whole page."""
    citations = Citations.of(brief)
    by_id = {s.id: s for s in summaries}
    refs = {a.id: a for a in brief.articles}
    stale = {s.article_id: s for s in brief.stale_articles}
    articles = ArticleViews([(citations.number[a.id], by_id[a.id], a, stale.get(a.id))
                             for a in brief.articles if a.id in by_id])
    css, style_source = _stylesheet()
    return _environment().get_template("brief.html.j2").generate(
        brief=brief,
        css=css,
        csp=f"default-src 'none'; style-src {style_source}; img-src 'none'; script-src 'none'; "
            "base-uri 'none'; form-action 'none'",
        citations=citations,
        cite=CiteLinks(citations),
        refs=refs,
        summaries=by_id,
        stale=stale,
        articles=articles,
        rtl=RTL_LANGUAGES,
        outlets=named_outlets(brief),
        grounding=grounding_line(brief.stats),
        support_note=support_note,
        role_in_time=role_in_time,
        statements=statements_to_list(brief, [by_id[a.id] for a in brief.articles if a.id in by_id]),
        age_line=age_line(brief),
        banner=stale_banner(brief),
        missing=missing_note(brief),
        missing_tail=MISSING_TAIL,
        unwritten=summary_unwritten(brief),
        entity_groups=entity_groups(brief),
        compact_group=compact_group,
        untold=untold_timeline(brief),
        timeline_title="Timeline" if not brief.stories else "Other dated events (in no story)",
        story_parts=lambda story: story_parts(brief, story),
        source_links=source_links,
        link_target=link_target,
        page_differences=page_differences,
        show_date=dates.show,
        date_mark=date_mark,
        published_line=published_line,
        unverified=unverified_quotes([by_id[a.id] for a in brief.articles if a.id in by_id]),
        unverified_mark=UNVERIFIED,
        other_spellings=other_spellings,
        kept=kept_in_part(brief),
        kept_mark=KEPT_IN_PART,
        kept_intro=KEPT_INTRO,
        merge_kept=MERGE_KEPT,
        merge_line=MERGE_LINE,
        voices_line=voices_line,
        carried_line=carried_line,
        difference_line=difference_line,
    )
