"""brief.html as written: self-contained, every link in-page, every string escaped, every quote highlighted where
briefer found it. (What a browser makes of it is tested in test_browser.py.)"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from briefer.models import MissingPart, Span
from briefer.pipeline import RunConfig, run
from briefer.render.common import (
    UNVERIFIED,
    Citations,
    age_line,
    date_mark,
    grounding_line,
    untold_timeline,
    who_says,
)
from briefer.render.html import (
    Cited,
    CiteLinks,
    Quote,
    Segment,
    bidi_balanced,
    brief_html,
    evidence,
    highlighted,
    in_own_script,
    segments,
    sourcing,
)
from conftest import FIXTURES
from html_pages import HOSTILE, Outputs, Page, poisoned_brief, poisoned_summary, seed_outputs, with_every_section

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return seed_outputs(tmp_path_factory.mktemp("seed"))


def test_segments_cut_text_at_every_quote_and_keep_it_whole() -> None:
    text = "abcdefghij"
    quotes = [Quote("q1", "key point 1", Span(part="body", paragraph=0, start=2, end=6)),
              Quote("q2", "claim 1", Span(part="body", paragraph=0, start=4, end=8)),
              Quote("q3", "claim 2", Span(part="body", paragraph=0, start=4, end=6))]
    assert segments(text, quotes) == [
        Segment("ab"),
        Segment("cd", ("key point 1",), ("q1",)),
        Segment("ef", ("key point 1", "claim 1", "claim 2"), ("q2", "q3")),
        Segment("gh", ("claim 1",)),
        Segment("ij"),
    ]
    # A span outside the text (a hand-edited JSON) is cut back to it, never an error.
    assert segments("abc", [Quote("q", "k", Span(part="body", paragraph=0, start=1, end=99))]) == [
        Segment("a"), Segment("bc", ("k",), ("q",))]
    assert segments("", []) == []


def test_bidi_balanced_closes_what_an_article_opens_and_drops_what_it_did_not() -> None:
    assert bidi_balanced("plain عربي") == "plain عربي"
    assert bidi_balanced(f"a{RLO}bc") == f"a{RLO}bc{PDF}"
    assert bidi_balanced(f"a{PDI}b{PDF}c") == "abc"
    assert bidi_balanced(f"{LRI}x{RLO}y{PDI}z") == f"{LRI}x{RLO}y{PDF}{PDI}z"
    assert bidi_balanced(f"{RLO}{LRI}x{PDF}") == f"{RLO}{LRI}x{PDI}{PDF}"


def test_snippets_built_in_python_print_article_text_escaped_and_balanced() -> None:
    # An article's paragraphs (with their highlights), names in their own script, who a line rests on and unfound
    # quotes are built in Python for speed, not by {{ }}: what they print from the article or the model must still
    # be escaped, and bidi-balanced piece by piece.
    text = "AT&T " + HOSTILE
    cut = text.index(RLO) + 3  # a quote that ends inside the article's open override
    quote = Quote("a1-kp1", "key point 1", Span(part="body", paragraph=0, start=5, end=cut))
    marks = [("span", {"class": "qa", "id": "a1-kp1"}), ("mark", {"title": "key point 1"})]
    cases = [
        (highlighted(segments(text, [])), [], bidi_balanced(text)),
        (highlighted(segments(text, [quote])), marks, "".join(map(bidi_balanced, [text[:5], text[5:cut], text[cut:]]))),
        (in_own_script([text, text[5:cut]], "ar"), [("bdi", {"lang": "ar"})] * 2,
         bidi_balanced(text) + ", " + bidi_balanced(text[5:cut])),
        (sourcing(text, True), [("span", {"class": "attr anon"}), ("bdi", {"dir": "ltr"})],
         " " + bidi_balanced(f"according to {text} (a single anonymous source)")),
        (evidence(Cited(None, None, ""), text, "ar"), [("span", {"class": "unverified"}), ("bdi", {"lang": "ar"})],
         f"{UNVERIFIED}: “{bidi_balanced(text)}”"),
    ]
    for out, elements, shown in cases:
        page = Page.parse(out)
        assert [(e.tag, e.attrs) for e in page.elements] == elements  # the article's markup stays text
        assert "AT&amp;T" in out and "&lt;script&gt;" in out and "<script" not in out
        assert page.text == shown
    assert sourcing(None, False) == "" and evidence(Cited(None, "a1-kp1", "¶ 2"), text, "ar") == (
        '<a class="ev" href="#a1-kp1">see ¶ 2</a>')


def test_cite_links_each_source_once_in_order() -> None:
    cite = CiteLinks(Citations({"x": 2, "y": 1}))
    assert cite(["x", "y", "x"]) == ('<a class="cite" href="#evidence-1" aria-label="source 1">[1]</a>'
                                     '<a class="cite" href="#evidence-2" aria-label="source 2">[2]</a>')
    assert cite(("x", "y", "x")) is cite(["x", "y", "x"])  # each list of ids is built once
    assert cite([]) == ""


def test_the_compiled_page_template_is_reused_by_the_next_run(tmp_path: Path) -> None:
    # Compiling the page template cost every run 0.15 s: the next process loads Jinja's compiled code from its
    # per-user cache instead, and renders the same page.
    import subprocess
    import sys

    code = "from briefer.render.html import _environment\n_environment().get_template('brief.html.j2')\n"
    env = {"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    cached = list(tmp_path.glob("_jinja2-cache-*/*.cache"))
    assert len(cached) == 1 and cached[0].stat().st_size > 10_000


def test_seed_page_is_self_contained_and_forbids_script(seed: Outputs) -> None:
    page = Page.parse(seed.html)
    assert seed.html.startswith("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">")
    tags = {e.tag for e in page.elements}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form", "input", "svg"}
    assert not [e for e in page.elements if {"src", "srcset", "style", "action"} & e.attrs.keys()]
    assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)]
    assert "url(" not in page.style and "@import" not in page.style and "@font-face" not in page.style
    (csp,) = [e.attrs["content"] for e in page.find("meta", **{"http-equiv": "Content-Security-Policy"})]
    assert "default-src 'none'" in csp and "script-src 'none'" in csp and "base-uri 'none'" in csp
    # The one stylesheet is allowed by its hash, and nothing else is.
    digest = base64.b64encode(hashlib.sha256(page.style.encode("utf-8")).digest()).decode()
    assert f"style-src 'sha256-{digest}';" in csp and "unsafe-inline" not in csp
    assert seed.html.index("Content-Security-Policy") < seed.html.index("<style>")


def test_every_link_is_in_page_and_has_a_target(seed: Outputs) -> None:
    page = Page.parse(seed.html)
    ids = page.ids()
    assert len(ids) == len(set(ids)), "element ids must be unique"
    hrefs = page.hrefs()
    assert hrefs and all(h.startswith("#") for h in hrefs)  # the seed articles are text files: no address to open
    assert sorted({h[1:] for h in hrefs} - set(ids)) == []
    # Every article is cited by number, linked to its evidence (key points, claims, events and the article side by
    # side, collapsed until opened), which links back to its source card.
    for n in range(1, len(seed.brief.articles) + 1):
        assert f"#evidence-{n}" in hrefs and f"#src-{n}" in hrefs
        opens, target = seed.html.index(f'<details class="article" id="a{n}">'), seed.html.index(f'id="evidence-{n}"')
        assert opens < target < seed.html.find(f'<details class="article" id="a{n + 1}">') % len(seed.html)


def test_brief_sections_and_sources(seed: Outputs) -> None:
    page = Page.parse(seed.html)
    text = page.text
    headings = [e.attrs.get("id") for e in page.elements if e.tag == "h2"]
    # Each story's timeline tells its events: the seed has no event outside a story, so no Timeline section.
    assert headings == ["summary-h", "stories-h", "disagreements-h", "entities-h", "stale-h", "statements-h",
                        "sources-h", "evidence-h"]
    assert seed.brief.title in text and "Not today's news:" in text
    assert grounding_line(seed.brief.stats) in text and age_line(seed.brief) in text
    assert seed.brief.stats.grounding_rate == 1.0 and "Grounding: 100% of evidence quotes" in text
    for s in seed.summaries:
        assert s.headline_en in text and s.headline_original in text and s.source_path in text
    # Date and its basis on the source card: Al-Ain's article is dated from a quote, linked to its highlight.
    card = seed.html[seed.html.index('id="src-1"'):seed.html.index('id="src-2"')]
    assert "2024-09" in card and "(inferred from “" in card and 'href="#a1-date"' in card
    assert "Al-Ain News" in card and "000_6f0ae3a4b7243325.txt" in card
    # Who's who: every spelling, in its own direction.
    assert "<bdi>قاآني</bdi>" in seed.html


def test_article_view_side_by_side_with_quotes_highlighted_where_found(seed: Outputs) -> None:
    page = Page.parse(seed.html)
    ids = set(page.ids())
    for n, ref in enumerate(seed.brief.articles, start=1):
        s = next(x for x in seed.summaries if x.id == ref.id)
        rows = [e for e in page.elements if e.tag == "li" and re.fullmatch(rf"a{n}-p\d+", e.attrs.get("id", ""))]
        assert len(rows) == len(s.paragraphs_original) == len(s.translation_en)
        originals = [e for e in page.elements if e.attrs.get("class") == "orig" and e.attrs.get("lang") == "ar"]
        assert all(e.attrs["dir"] == "rtl" for e in originals)
        for i, k in enumerate(s.key_points, start=1):
            assert k.verified and f"a{n}-kp{i}" in ids
        for i, c in enumerate(s.claims, start=1):
            assert c.verified and f"a{n}-cl{i}" in ids
    # The highlight is the quote's span in the text as written; the paragraph around it is unchanged.
    s = seed.summaries[0]
    n = next(i for i, a in enumerate(seed.brief.articles, 1) if a.id == s.id)
    kp = s.key_points[0]
    assert kp.span is not None and kp.span.paragraph is not None
    paragraph = s.paragraphs_original[kp.span.paragraph]
    row = seed.html[seed.html.index(f'id="a{n}-p{kp.span.paragraph + 1}"'):]
    row = row[:row.index("</li>")]
    original = re.search(r'<p class="orig"[^>]*>(.*?)</p>', row, re.S)
    assert original is not None
    assert Page.parse(original.group(1)).text == paragraph
    assert re.search(rf'<span class="qa" id="a{n}-kp1"></span>(<span class="qa" id="[^"]+"></span>)*'
                     r'<mark title="([^"]*, )?key point 1[,"]', row)
    marked = html.unescape("".join(re.findall(r"<mark[^>]*>(.*?)</mark>", original.group(1))))
    assert paragraph[kp.span.start:kp.span.end] in marked


def test_unverified_quotes_failures_and_removed_lines_are_shown(seed: Outputs) -> None:
    brief, summaries = with_every_section(seed.brief, seed.summaries)
    out = brief_html(brief, summaries)
    page = Page.parse(out)
    assert "⚠ quote not found in the source:</span> “<bdi lang=\"ar\">جملة لم ترد في المقال</bdi>”" in out
    assert "a1-kp1" not in page.ids()  # nothing to link to
    assert [e.attrs["id"] for e in page.elements if e.tag == "h2"][4:8] == ["stale-h", "failures-h", "skipped-h",
                                                                             "notes-h"]
    # The quotes not found are evidence: in their own collapsed section under Evidence.
    assert '<details class="article" id="unverified">' in out and "unverified-h" in page.ids()
    assert "Partial brief:" in page.text and "broken.txt" in page.text and "photo.jpg" in page.text
    removed = [s for s in summaries if s.cleaning.removed_text]
    assert removed, "the seed articles have lines cleaning removed"
    for line in removed[0].cleaning.removed_text:
        assert line in page.text
    assert out.count("<details class=\"removed\">") == len(removed)


def test_hostile_text_is_text(seed: Outputs) -> None:
    brief, summaries = with_every_section(seed.brief, seed.summaries)
    base = Page.parse(brief_html(brief, summaries))
    out = brief_html(poisoned_brief(brief), [poisoned_summary(s) for s in summaries])
    page = Page.parse(out)
    # Not one element or attribute more, fewer or different: the hostile text changed only text.
    assert page.skeleton() == base.skeleton()
    assert page.comments == base.comments == []
    assert page.style == base.style
    shown = bidi_balanced(HOSTILE)
    assert page.text.count(shown) > 100  # the payload is on the page as text, everywhere it was put
    # Every text and attribute value is balanced: the payload's stray closers and its open override never escape it.
    assert all(bidi_balanced(t) == t for t in page.texts)
    assert all(bidi_balanced(v) == v for e in page.elements for v in e.attrs.values())
    assert "{{ 7*7 }}" in page.text and "{% if true %}jinja{% endif %}" in page.text
    assert "&lt;script&gt;" in out and "<script" not in out.lower()


def test_run_writes_brief_html_unless_turned_off(tmp_path: Path) -> None:
    cfg = RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path / "out", date="2026-11-22", offline=True)
    asyncio.run(run(cfg))
    assert (tmp_path / "out" / "brief.html").is_file()
    asyncio.run(run(replace(cfg, html=False)))
    # The page of the first run is gone: it would contradict a brief written since.
    assert (tmp_path / "out" / "brief.md").is_file() and not (tmp_path / "out" / "brief.html").exists()


def test_missing_parts_are_said_at_the_top(seed: Outputs) -> None:
    brief = seed.brief.model_copy(update={"executive_summary": [], "missing_parts": [
        MissingPart(part="executive_summary", reason="the merge answer was <b>cut off</b>")]})
    page = Page.parse(brief_html(brief, seed.summaries))
    assert ("Missing from this brief: the executive summary, because the merge answer was <b>cut off</b>. "
            "The stories below are grouped automatically") in page.text
    assert "(not written: the merge step did not run; see the note above)" in page.text
    assert not page.find("b")


def test_who_says_so_and_how_dates_are_known_are_shown(seed: Outputs) -> None:
    page = Page.parse(seed.html)
    said = [who_says(x.attributed_to, x.single_anonymous_source) for s in seed.summaries
            for x in [*s.key_points, *s.events]]
    said += [who_says(None, c.single_anonymous_source) for s in seed.summaries for c in s.claims]
    timeline = [t for story in seed.brief.stories for t in story.timeline] + untold_timeline(seed.brief)
    said += [who_says(t.attributed_to, t.single_anonymous_source, len(t.article_ids)) for t in timeline]
    assert any(said) and all(w in page.text for w in said if w)
    assert page.text.count("single anonymous source") == sum("single anonymous source" in (w or "") for w in said)
    marks = [date_mark(t.date_basis) for t in timeline]
    assert "date computed by briefer" in marks
    assert all(page.text.count(f"({m}") >= marks.count(m) for m in set(marks) if m)
    # Every event's quote is highlighted where briefer found it, and linked from the event.
    ids = set(page.ids())
    for n, ref in enumerate(seed.brief.articles, start=1):
        s = next(x for x in seed.summaries if x.id == ref.id)
        assert all((f"a{n}-ev{i}" in ids) == e.verified for i, e in enumerate(s.events, start=1))
        assert all(e.date_note in page.text for e in s.events if e.date_note)
