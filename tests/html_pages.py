"""brief.html for the tests: the seed brief, a hostile copy of it, and a parse of the page (stdlib only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from briefer.models import ArticleSummary, Brief, Failure, IngestNote, Skipped
from briefer.pipeline import RunConfig, run
from conftest import FIXTURES

# Everything a hostile article or model could try: markup, script, event handlers, script links, template
# syntax (the page is a jinja template: data must never be rendered as one), a comment, CSS, and right-to-left
# controls that would reorder what follows: a stray PDI and PDF against the page's own isolation, an RLO left open.
HOSTILE = ("<script>alert('script')</script><img src=x onerror=\"alert('img')\">"
           "<a href=\"javascript:alert('link')\">click</a> {{ 7*7 }} {% if true %}jinja{% endif %} "
           "\u2069\u202c <!-- c --> <style>body{display:none}</style> ]]> </bdi></p></li> \u202eRLO reversed")

# Fields that are ids, codes or numbers the page does not print as text, left alone by `poisoned`.
_KEEP = {"id", "article_id", "article_ids", "language", "date", "published", "date_basis", "date_range", "type",
         "kind", "part", "content_sha256", "verified", "topics", "date_as_given", "published_as_given", "verdict",
         "role_as_of", "atoms", "role_article_ids"}


def _poison(value: Any, key: str | None = None) -> Any:
    if key in _KEEP:
        return value
    if isinstance(value, str):
        return value + " " + HOSTILE
    if isinstance(value, list):
        return [_poison(v) for v in value]
    if isinstance(value, dict):
        return {k: _poison(v, k) for k, v in value.items()}
    return value


def poisoned_summary(s: ArticleSummary) -> ArticleSummary:
    """The same summary with the hostile text appended to every string it shows (spans stay valid: text is only
    added at the ends), including the lines cleaning removed."""
    return ArticleSummary.model_validate(_poison(s.model_dump(mode="json")))


def poisoned_brief(b: Brief) -> Brief:
    return Brief.model_validate(_poison(b.model_dump(mode="json")))


@dataclass
class Outputs:
    brief: Brief
    summaries: list[ArticleSummary]
    html: str


def seed_outputs(out: Path) -> Outputs:
    """The seed fixtures' brief, as `briefer summarize fixtures/articles --offline` writes it."""
    result = asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=out, date="2026-11-22", offline=True)))
    return Outputs(result.brief, result.summaries, (out / "brief.html").read_text(encoding="utf-8"))


def with_every_section(brief: Brief, summaries: list[ArticleSummary]) -> tuple[Brief, list[ArticleSummary]]:
    """The seed brief with a failure, a skipped file, an input note, one quote briefer could not find and every
    outlet described (so perspectives and positions name theirs), so every section of the page is shown."""
    articles = [a.model_copy(update={"outlet_description": "Iraq; a test description"}) for a in brief.articles]
    brief = brief.model_copy(update={
        "articles": articles,
        "partial": True,
        "failures": [Failure(source_path="broken.txt", kind="model_error", reason="the model's answer was cut off")],
        "skipped": [Skipped(source_path="photo.jpg", reason="not a text file (.jpg)")],
        "notes": [IngestNote(source_path="old.txt", note="decoded as windows-1256 (guessed)")],
    })
    first = summaries[0]
    kp = first.key_points[0].model_copy(update={"verified": False, "span": None,
                                                "evidence_quote": "جملة لم ترد في المقال"})
    summaries = [first.model_copy(update={"key_points": [kp, *first.key_points[1:]]}), *summaries[1:]]
    return brief, summaries


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


class Page(HTMLParser):
    """Every element with its attributes, the text, and the stylesheet, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.texts: list[str] = []
        self.style = ""
        self.comments: list[str] = []
        self._in_style = False

    @classmethod
    def parse(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.texts.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def ids(self) -> list[str]:
        return [e.attrs["id"] for e in self.elements if "id" in e.attrs]

    def hrefs(self) -> list[str]:
        return [e.attrs["href"] for e in self.elements if "href" in e.attrs]

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def skeleton(self) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """The elements and their attributes, without the text: what hostile text must not change."""
        return [(e.tag, tuple(sorted(e.attrs.items()))) for e in self.elements]
