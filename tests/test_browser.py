"""brief.html in a real browser: Debian's Chromium, headless, driven by Playwright's Python API.

Needs /usr/bin/chromium (or BRIEFER_CHROMIUM), the playwright package (the dev extra) and axe-core from npm in
.browser/ (or BRIEFER_AXE): `apt-get install chromium` and
`npm install --no-save --prefix .browser axe-core@4`, as .ci/run does. Outside CI a missing piece skips these
tests with the reason; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from briefer.render.html import brief_html
from conftest import ROOT
from html_pages import Outputs, poisoned_brief, poisoned_summary, seed_outputs, with_every_section

CHROMIUM = Path(os.environ.get("BRIEFER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
AXE = Path(os.environ.get("BRIEFER_AXE") or ROOT / ".browser" / "node_modules" / "axe-core" / "axe.min.js")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _require(what: str, present: bool, how: str) -> None:
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing, and CI must run the browser tests: {how}")
    pytest.skip(f"{what} is not installed here: {how}")


@pytest.fixture(scope="module")
def chromium(pages: dict[str, Path]) -> Iterator[Any]:
    # After `pages`: the run that writes them uses asyncio.run, which refuses to start inside Playwright's loop.
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("the playwright package", False, "pip install -e '.[dev]'")
        raise
    _require(f"Chromium ({CHROMIUM})", CHROMIUM.is_file(), "apt-get install chromium (or set BRIEFER_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """A page opened from file://, with everything it did: console messages, errors, requests, dialogs."""

    page: Any
    url: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        # Evaluated over the DevTools protocol, which the page's CSP (no script) does not govern.
        return self.page.evaluate(expression, arg)


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_(path: Path, **context: Any) -> Visit:
        ctx = chromium.new_context(**context)
        contexts.append(ctx)
        page = ctx.new_page()
        visit = Visit(page, path.resolve().as_uri())
        page.on("console", lambda m: visit.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: visit.errors.append(str(e)))
        page.on("request", lambda r: visit.requests.append(r.url))

        def dialog(d: Any) -> None:
            visit.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        # Nothing may leave the machine even if the page asked: any request but the page itself is refused.
        ctx.route("**/*", lambda route: route.continue_() if route.request.url == visit.url else route.abort())
        page.goto(visit.url, wait_until="load")
        return visit

    yield open_
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return seed_outputs(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def pages(seed: Outputs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed page as a run writes it; the seed with every section; that page with hostile text everywhere."""
    folder = tmp_path_factory.mktemp("pages")
    brief, summaries = with_every_section(seed.brief, seed.summaries)
    out = {"seed": folder / "seed.html", "base": folder / "base.html", "hostile": folder / "hostile.html"}
    out["seed"].write_text(seed.html, encoding="utf-8")
    out["base"].write_text(brief_html(brief, summaries), encoding="utf-8")
    out["hostile"].write_text(brief_html(poisoned_brief(brief), [poisoned_summary(s) for s in summaries]),
                              encoding="utf-8")
    return out


def _quiet(visit: Visit) -> None:
    assert visit.errors == [] and visit.dialogs == []
    assert [m for m in visit.console if not m.startswith(("log:", "debug:", "info:"))] == []
    assert visit.requests == [visit.url], "the page asked for something besides itself"


def test_seed_brief_loads_quietly_and_requests_nothing(open_page: Any, pages: dict[str, Path]) -> None:
    visit = open_page(pages["seed"])
    _quiet(visit)
    assert visit.js("document.title").startswith("Ending the US-led coalition's mission")
    assert visit.js("document.scripts.length + document.images.length + document.styleSheets.length") == 1
    # Everything is laid out from the inline stylesheet: the side-by-side view is a grid on a desktop.
    assert visit.js("getComputedStyle(document.querySelector('.para')).display") == "grid"


def test_every_in_page_link_has_a_target(open_page: Any, pages: dict[str, Path]) -> None:
    for name in ("seed", "base"):
        visit = open_page(pages[name])
        links = visit.js("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
        assert links and all(h.startswith("#") and len(h) > 1 for h in links)
        missing = visit.js("[...document.querySelectorAll('a[href]')]"
                           ".filter(a => !document.getElementById(a.getAttribute('href').slice(1)))"
                           ".map(a => a.getAttribute('href'))")
        assert missing == []
        # Following a key point's link scrolls to its highlight in the original (its evidence opened first, by a
        # click on its citation).
        visit.page.click("#summary a.cite >> nth=0")
        visit.page.click("details[open] a.ev >> nth=0")
        assert visit.js("(() => { let e = document.querySelector(':target');"
                        "while (e.matches('span.qa')) e = e.nextElementSibling; return e.tagName; })()") == "MARK"


def _open_all(visit: Visit) -> None:
    visit.js("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def test_arabic_is_right_to_left_and_the_translation_left_to_right(open_page: Any, pages: dict[str, Path],
                                                                   seed: Outputs) -> None:
    visit = open_page(pages["seed"])
    _open_all(visit)
    originals = visit.js("[...document.querySelectorAll('.orig')].map(e => [e.lang, getComputedStyle(e).direction])")
    paragraphs = sum(len(s.paragraphs_original) + 1 + (1 if s.dateline else 0) for s in seed.summaries)
    assert len(originals) == paragraphs and all(o == ["ar", "rtl"] for o in originals)
    headlines = visit.js("[...document.querySelectorAll('.hl-orig')].map(e => getComputedStyle(e).direction)")
    assert headlines == ["rtl"] * len(seed.summaries)
    translations = visit.js("[...document.querySelectorAll('.tr')].map(e => getComputedStyle(e).direction)")
    assert translations == ["ltr"] * paragraphs
    # On a desktop the translation stands beside its original; on a phone, below it.
    beside = visit.js("(() => { const p = document.querySelector('.para:nth-child(3)');"
                      "const o = p.querySelector('.orig').getBoundingClientRect(),"
                      "t = p.querySelector('.tr').getBoundingClientRect();"
                      "return [o.top === t.top, o.right <= t.left]; })()")
    assert beside == [True, True]
    phone = open_page(pages["seed"], viewport={"width": 390, "height": 844}, is_mobile=True)
    _open_all(phone)
    below = phone.js("(() => { const p = document.querySelector('.para:nth-child(3)');"
                     "return p.querySelector('.orig').getBoundingClientRect().bottom"
                     " <= p.querySelector('.tr').getBoundingClientRect().top; })()")
    assert below is True
    assert phone.js("document.documentElement.scrollWidth <= window.innerWidth") is True


def test_the_brief_comes_first_and_its_evidence_is_one_click_away(open_page: Any, pages: dict[str, Path],
                                                                  seed: Outputs) -> None:
    visit = open_page(pages["seed"])
    articles = "[...document.querySelectorAll('details.article')]"
    assert visit.js(f"{articles}.map(d => d.open)") == [False] * (len(seed.summaries) + 1)  # + who's who in full
    # Collapsed, the evidence adds a line per article: the page is the brief, a few screens, not sixty.
    brief_height = visit.js("document.documentElement.scrollHeight")
    assert visit.js("document.querySelector('#evidence').getBoundingClientRect().height") < 1000
    # A citation of the executive summary opens its article's evidence, scrolled into view; the others stay shut.
    link = visit.page.locator("#summary a.cite").first
    n = int(link.inner_text().strip("[]"))
    link.click()
    assert visit.js("location.hash") == f"#evidence-{n}"
    assert visit.js(f"{articles}.map(d => d.open)") == [i == n for i in range(1, len(seed.summaries) + 2)]
    top = visit.js("document.querySelector(':target').getBoundingClientRect().top")
    assert 0 <= top < visit.js("window.innerHeight")
    assert visit.page.locator(f"#evidence-{n} .facts li").first.is_visible()
    # A click on an article's summary line opens it too; everything opened, the page is many times longer.
    visit.page.click(f"details#a{n % len(seed.summaries) + 1} > summary")
    assert visit.js(f"document.querySelector('details#a{n % len(seed.summaries) + 1}').open") is True
    _open_all(visit)
    assert visit.js("document.documentElement.scrollHeight") > 4 * brief_height
    # A story's earlier timeline entries are one click away as well.
    more = visit.page.locator("details.more > summary").first
    assert visit.page.locator("details.more .timeline li").first.is_visible()  # opened above
    visit.js("document.querySelectorAll('details.more').forEach(d => { d.open = false; })")
    assert not visit.page.locator("details.more .timeline li").first.is_visible()
    more.click()
    assert visit.page.locator("details.more .timeline li").first.is_visible()


def _skeleton(visit: Visit) -> Any:
    return visit.js("[...document.querySelectorAll('*')].map(e => [e.tagName,"
                    " [...e.attributes].map(a => a.name + '=' + a.value).sort().join(' ')])")


def test_hostile_article_changes_nothing_and_runs_nothing(open_page: Any, pages: dict[str, Path]) -> None:
    base = open_page(pages["base"])
    hostile = open_page(pages["hostile"])
    _quiet(hostile)
    assert _skeleton(hostile) == _skeleton(base)
    assert hostile.js("document.scripts.length + document.images.length + document.styleSheets.length") == 1
    assert hostile.js("getComputedStyle(document.body).display") == "block"
    text = hostile.js("document.body.innerText")
    assert "<script>alert('script')</script>" in text and "{{ 7*7 }}" in text
    # The right-to-left override and the stray closers stay inside their own string: every citation still
    # follows its sentence, to its right or on a later line, as in the page without them.
    for visit in (base, hostile):
        order = visit.js("""[...document.querySelectorAll('#summary li, .perspectives li, #disagreements li')]
            .filter(li => li.querySelector('a.cite')).map(li => {
              const link = li.querySelector('a.cite'), cite = link.getBoundingClientRect(), text = new Range();
              text.setStart(li, 0);
              text.setEndBefore(link);
              // Every piece of the text before the citation that shares its line ends left of it.
              return [...text.getClientRects()].filter(r => r.bottom > cite.top + 2 && r.top < cite.bottom - 2)
                .every(r => r.right <= cite.left + 1); })""")
        assert order and all(order)


def test_no_serious_accessibility_violations(open_page: Any, pages: dict[str, Path]) -> None:
    _require(f"axe-core ({AXE})", AXE.is_file(), "npm install --no-save --prefix .browser axe-core@4 "
             "(or set BRIEFER_AXE)")
    source = AXE.read_text(encoding="utf-8")
    for scheme in ("light", "dark"):
        visit = open_page(pages["base"], color_scheme=scheme)
        visit.js(source)
        result = visit.js("axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{scheme}: {serious}"


def test_print_keeps_citations_and_sources(open_page: Any, pages: dict[str, Path]) -> None:
    visit = open_page(pages["seed"])
    visit.page.emulate_media(media="print")
    assert visit.js("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
    assert visit.js("getComputedStyle(document.querySelector('#sources')).display") == "block"
    assert visit.js("getComputedStyle(document.querySelector('a.cite')).display") != "none"
    pdf = visit.page.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
