"""Rendering escapes untrusted text and isolates right-to-left text."""

from __future__ import annotations

from briefer.models import ArticleRef, Brief, Stats, SummaryLine
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
        stats=Stats(articles=1, quotes=0, quotes_verified=0, grounding_rate=None, model_calls=0, cache_hits=0,
                    http_attempts=0, tokens_raw_est=0, tokens_saved_est=0, usage_by_stage={}, price=None,
                    cost_usd_est=None,
                    prompt_tokens=0, completion_tokens=0, chars_raw=0,
                    chars_removed=0),
    )


def test_brief_markdown_escapes_model_and_article_text() -> None:
    out = brief_markdown(_brief("Title _x_", "عنوان [1](javascript:x)"))
    assert out.startswith("# Title \\_x\\_\n")
    assert "\\<img src=x onerror=alert(1)\\> [1]" in out
    assert f"{FSI}عنوان \\[1\\](javascript:x){PDI}" in out
