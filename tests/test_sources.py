"""Sources you can open: each article keeps url, canonical_url and site_name where its file gives them (HTML meta
and link tags, JSON feed fields, Markdown front matter), and brief.md, brief.html and brief.json link to them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import echo_model
from briefer.ingest.folder import read_folder
from briefer.ingest.formats import front_matter, page_date
from briefer.model.endpoint import EndpointConfig
from briefer.models import ArticleRef
from briefer.pipeline import RunConfig, run
from briefer.render.common import link_target, page_differences, source_links
from briefer.render.html import brief_html
from briefer.render.markdown import md
from fake_openai import FakeOpenAI
from html_pages import Page
from test_ingest_formats import BODY

PAGE_URL = "https://news.example.com/2024/03/05/visit?id=1&ref=rss"
PAGE_CANONICAL = "https://news.example.com/2024/03/05/visit"
FEED_URL = "https://feed.example.org/items/42"
MD_URL = "https://blog.example.net/posts/iraq-talks"
MD_CANONICAL = "https://www.example.net/iraq-talks"

PAGE = f"""<!DOCTYPE html>
<html lang="ar"><head><meta charset="utf-8">
<title>وزير الخارجية يزور بغداد | أخبار اليوم</title>
<meta property="og:title" content="وزير الخارجية يزور بغداد">
<meta property="og:url" content="{PAGE_URL.replace("&", "&amp;")}">
<meta property="og:site_name" content="أخبار اليوم">
<meta property="article:published_time" content="2024-03-05T10:30:00+03:00">
<link rel="canonical" href="{PAGE_CANONICAL}">
</head><body><main><article><h1>وزير الخارجية يزور بغداد</h1>
{"".join(f"<p>{p}</p>" for p in BODY)}
</article></main></body></html>
"""
FEED = {"version": "https://jsonfeed.org/version/1.1", "title": "Feed Outlet", "items": [
    {"id": "42", "url": FEED_URL, "title": "اجتماع في بغداد", "date_published": "2024-03-06T08:00:00Z",
     "content_text": "\n\n".join(BODY[1:])}]}
NOTE = f"""---
title: "محادثات العراق"
url: {MD_URL}
canonical_url: {MD_CANONICAL}
site_name: Example Weekly
date: 2024-03-07
tags: [iraq, talks]
---
محادثات العراق

{BODY[0]}

{BODY[2]}
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    (folder / "feed.json").write_text(json.dumps(FEED, ensure_ascii=False), encoding="utf-8")
    (folder / "note.md").write_text(NOTE, encoding="utf-8")
    return folder


def test_each_format_gives_its_url_canonical_url_and_site_name(tmp_path: Path) -> None:
    articles = {a.source_path: a for a in read_folder(_folder(tmp_path)).articles}
    page, feed, note = articles["page.html"], articles["feed.json"], articles["note.md"]
    assert (page.url, page.canonical_url, page.site_name) == (PAGE_URL, PAGE_CANONICAL, "أخبار اليوم")
    assert (page.page_title, page.page_date) == ("وزير الخارجية يزور بغداد | أخبار اليوم", "2024-03-05")
    # A JSON Feed's items take the feed's own title as their outlet.
    assert (feed.url, feed.canonical_url, feed.site_name, feed.page_date) == (FEED_URL, None, "Feed Outlet",
                                                                              "2024-03-06")
    assert (note.url, note.canonical_url, note.site_name, note.page_date) == (MD_URL, MD_CANONICAL, "Example Weekly",
                                                                              "2024-03-07")
    # The front matter is the file's metadata, not the article: the model is sent the text after it.
    assert note.title == "محادثات العراق" and note.paragraphs == (BODY[0], BODY[2])
    assert "canonical_url" not in note.clean_text and note.raw_text.startswith("---\n")


def test_sources_link_to_each_original_in_md_html_and_json(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    # The three files tell one story (shared paragraphs): copies of it, were they not kept apart here.
    with FakeOpenAI(echo_model.respond) as server:
        result = asyncio.run(run(RunConfig(folder=folder, out_dir=out, date="2024-03-08", cache_dir=None,
                                           recordings_dir=tmp_path / "none", copy_threshold=0,
                                           endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))))
    assert result.exit_code == 0
    expected = {"page.html": (PAGE_URL, PAGE_CANONICAL, "أخبار اليوم"), "feed.json": (FEED_URL, None, "Feed Outlet"),
                "note.md": (MD_URL, MD_CANONICAL, "Example Weekly")}
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    summaries = {s.source_path: s for s in result.summaries}
    by_id = {a["id"]: a for a in brief["articles"]}
    for path, (url, canonical, site) in expected.items():
        s = summaries[path]
        assert (s.url, s.canonical_url, s.site_name) == (url, canonical, site)
        stored = json.loads((out / "articles" / f"{s.id}.json").read_text(encoding="utf-8"))
        assert (stored["url"], stored["canonical_url"], stored["site_name"]) == (url, canonical, site)
        ref = by_id[s.id]
        assert (ref["url"], ref["canonical_url"], ref["site_name"]) == (url, canonical, site)
        # The text names no outlet (the model said null): the file's site name is the outlet.
        assert s.outlet is None and ref["outlet"] == site
    markdown = (out / "brief.md").read_text(encoding="utf-8")
    sources = markdown[markdown.index("## Sources"):]
    path_of = {s.id: s.source_path for s in result.summaries}
    for n, a in enumerate(brief["articles"], start=1):
        url, canonical, site = expected[path_of[a["id"]]]
        assert f"{n}. [**{md(a['headline_en'])}**]({url})" in sources
        assert site in sources
        if canonical:
            assert f"[canonical]({canonical})" in sources
    page = Page.parse((out / "brief.html").read_text(encoding="utf-8"))
    outward = {e.attrs["href"]: e.attrs for e in page.find("a") if not e.attrs["href"].startswith("#")}
    assert set(outward) == {PAGE_URL, PAGE_CANONICAL, FEED_URL, MD_URL, MD_CANONICAL}
    assert all(a["rel"] == "noopener noreferrer" and a["class"] == "out" for a in outward.values())
    # The file's own date is kept beside the model's, and a disagreement is shown (the echo model dates nothing).
    assert by_id[summaries["page.html"].id]["page_published"] == "2024-03-05"
    assert "the page is dated 2024-03-05; the model found no date in the text" in markdown
    assert "the page is dated 2024-03-05; the model found no date in the text" in page.text


def _ref(**fields: object) -> ArticleRef:
    base: dict[str, object] = {"id": "a", "headline_en": "Visit", "headline_original": "وزير الخارجية يزور بغداد",
                               "outlet": None, "published": "2024-03-05", "language": "ar"}
    return ArticleRef.model_validate(base | fields)


def test_a_page_title_and_date_that_disagree_with_the_model_are_said() -> None:
    assert page_differences(_ref(page_title="وزير الخارجية يزور بغداد | أخبار اليوم", page_published="2024-03")) == []
    assert page_differences(_ref(page_title="عنوان آخر تماماً", page_published="2024-03-04")) == [
        "the page's own title is “عنوان آخر تماماً”",
        "the page is dated 2024-03-04, the model dates it 2024-03-05"]
    assert page_differences(_ref(page_published="Tuesday")) == []  # a date briefer could not read is not compared


def test_only_http_addresses_become_links() -> None:
    assert link_target("https://a.example/x?y=1") == "https://a.example/x?y=1"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "https://a.example/x y",
                "https://a.example/\"onmouseover=x", "//a.example/x", "ftp://a.example/x"):
        assert link_target(bad) is None, bad
    ref = _ref(url="javascript:alert(1)", canonical_url="https://a.example/c")
    assert [(s.label, s.url) for s in source_links(ref)] == [("original", "https://a.example/c")]
    html = brief_html_for(ref)
    assert 'href="javascript:' not in html and 'href="https://a.example/c"' in html


def brief_html_for(ref: ArticleRef) -> str:
    from test_render import _brief

    brief = _brief("T", ref.headline_original).model_copy(update={"articles": [ref]})
    return brief_html(brief, [])


def test_front_matter_and_page_dates_are_read_strictly() -> None:
    assert front_matter("no front matter\n---\n") is None
    assert front_matter("---\ntitle: never closed\n") is None
    fields, rest = front_matter("---\nTitle: 'A: b'\nlist:\n  - x\nsite-name: S\n---\nText") or ({}, "")
    assert fields == {"title": "A: b", "sitename": "S"} and rest == "Text"
    assert page_date("2024-09-17T08:00:00Z") == "2024-09-17"
    assert page_date("Tue, 17 Sep 2024 08:00:00 GMT") == "2024-09-17"
    assert page_date("yesterday") == "yesterday" and page_date(None) is None
