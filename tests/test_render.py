"""Rendering escapes untrusted text and isolates right-to-left text."""

from __future__ import annotations

from briefer.models import ArticleRef, Brief, Span, Stats, SummaryLine
from briefer.render.evidence import evidence_markdown
from briefer.render.markdown import FSI, PDI, brief_markdown, md


def test_markdown_escaping() -> None:
    assert md("**bold** [link](http://x) <script>") == "\\*\\*bold\\*\\* \\[link\\](http://x) \\<script\\>"
    assert md("line one\n# not a heading") == "line one \\# not a heading"


def _brief(title: str, headline: str) -> Brief:
    return Brief(
        date="2026-11-22", title=title, partial=False,
        executive_summary=[SummaryLine(text="<img src=x onerror=alert(1)>", article_ids=["a"])],
        stories=[], entities=[], timeline=[], disagreements=[], stale_articles=[],
        articles=[ArticleRef(id="a", headline_en="Headline", headline_original=headline, outlet=None,
                             published=None, language="ar")],
        failures=[], skipped=[], notes=[],
        stats=Stats(articles=1, quotes=0, quotes_verified=0, grounding_rate=None, tokens_raw_est=0,
                    tokens_saved_est=0, chars_raw=0, chars_removed=0),
    )


def test_brief_markdown_escapes_model_and_article_text() -> None:
    out = brief_markdown(_brief("Title _x_", "عنوان [1](javascript:x)"))
    assert out.startswith("# Title \\_x\\_\n")
    assert "\\<img src=x onerror=alert(1)\\> [[1]](evidence.md#evidence-1)" in out
    assert f"{FSI}عنوان \\[1\\](javascript:x){PDI}" in out


def test_header_gives_the_date_range_and_the_newest_articles_age_against_the_brief() -> None:
    old = _brief("T", "عنوان").model_copy(update={"date_range": ["2021-07", "2024-09"], "newest_age_days": 783})
    out = brief_markdown(old)
    assert ("· published July 2021 to September 2024; the newest is at least 783 days (about 26 months) older "
            "than this brief") in out
    assert ("> **Not today's news:** the newest article (September 2024) is at least 783 days (about 26 months) "
            "older than this brief's date (2026-11-22), so none of the 1 articles is today's news.") in out
    fresh = old.model_copy(update={"date_range": ["2026-11-21", "2026-11-21"], "newest_age_days": 1})
    out = brief_markdown(fresh)
    assert "· published 2026-11-21; the newest is at least 1 day older than this brief" in out
    assert "Not today's news" not in out
    undated = brief_markdown(_brief("T", "عنوان"))
    assert "· publication dates unknown" in undated and "Not today's news" not in undated


def test_each_quote_shows_the_english_of_its_paragraph_numbered_from_one() -> None:
    from test_merge import summary
    s = summary("a", text="q")
    s.paragraphs_original.append("الفقرة الثانية فيها الاقتباس")
    s.translation_en[:] = ["The first paragraph.", "The second paragraph, with the *quote*."]
    located = s.key_points[0].model_copy(update={"span": Span(part="body", paragraph=1, start=0, end=5)})
    in_headline = s.key_points[0].model_copy(update={"span": Span(part="headline", paragraph=None, start=0, end=5)})
    lost = s.key_points[0].model_copy(update={"verified": False, "span": None})
    s = s.model_copy(update={"key_points": [located, in_headline, lost]})
    out = evidence_markdown(_brief("T", "عنوان"), [s])
    assert "\n  *¶2 in English:* “The second paragraph, with the \\*quote\\*.”\n" in out
    assert "\n  *In the headline:* “Headline”\n" in out
    assert out.count("in English:*") == 1  # an unverified quote has no place to show
