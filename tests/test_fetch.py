"""`briefer fetch` against a loopback web server (feed_server.py): feeds and pages in, one file per article,
one line per failure, a second fetch that downloads nothing, and `summarize --fetch` giving sources that
link to the original URLs."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import echo_model
from briefer.cli import app
from briefer.cli.fetch import since_moment
from briefer.errors import UsageError
from briefer.fetch.http import Limits
from briefer.fetch.run import FetchOptions, fetch_sources
from briefer.fetch.sources import parse_sources
from briefer.fetch.state import FILE_NAME, load_state
from briefer.ingest.folder import read_folder
from fake_openai import FakeOpenAI
from feed_server import FeedServer

ARTICLES = ["/ar/syria-rockets.html", "/fa/kanaani.html", "/news/talks.html", "/zh/leung.html", "/zh/undated.html"]
FEEDS = ["/rss.xml", "/atom.xml", "/feed.json"]


def _sources(base: str) -> str:
    return f"""# the analyst's morning list
{base}/rss.xml   Middle East headlines
feed {base}/atom.xml  Atom Daily
{base}/feed.json
page {base}/missing.html   a page that is gone
{base}/loop/a
{base}/to-file
{base}/big.html
{base}/private/memo.html
{base}/slow.html   the slow host
"""


def _fetch(server: FeedServer, out: Path, **kw: object) -> object:
    limits = Limits(user_agent="briefer/0.1.0 (+analyst@example.org)", timeout=1.5, max_bytes=2_000_000,
                    delay=0.0, per_host=4)
    opts = FetchOptions(out=out, limits=limits, **kw)  # type: ignore[arg-type]
    return asyncio.run(fetch_sources(parse_sources(_sources(server.base)), opts))


def test_fetch_writes_each_reachable_article_and_one_line_per_failure(tmp_path: Path) -> None:
    out = tmp_path / "today"
    with FeedServer(slow_seconds=4) as server:
        started = time.monotonic()
        report = _fetch(server, out)
        took = time.monotonic() - started
        assert took < 4, took  # the slow host is cut at the deadline, the 50 MB page at the cap
        assert report.exit_code == 3  # some sources failed, the others kept
        files = sorted(p.name for p in out.glob("*.json") if not p.name.startswith("."))
        assert len(files) == len(ARTICLES) == len(report.written)
        why = dict(report.failures)
        assert why[f"a page that is gone ({server.base}/missing.html)"] == "HTTP 404"
        assert why[f"{server.base}/loop/a"].startswith("redirect loop")
        assert "not http or https" in why[f"{server.base}/to-file"]
        assert "larger than the 2.0 MB limit" in why[f"{server.base}/big.html"]
        assert why[f"{server.base}/private/memo.html"] == f"disallowed by {server.base}/robots.txt"
        assert "within 1.5 s" in why[f"the slow host ({server.base}/slow.html)"]
        assert len(report.failures) == 6
        assert server.sent[("/private/memo.html", 200)] == 0  # robots.txt honoured: never asked
        assert all(a == "briefer/0.1.0 (+analyst@example.org)" for a in server.agents)

        records = {json.loads(p.read_text(encoding="utf-8"))["url"].removeprefix(server.base): json.loads(
            p.read_text(encoding="utf-8")) for p in out.glob("[!.]*.json")}
        arabic = records["/ar/syria-rockets.html"]
        assert arabic["canonical_url"] == "http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html"
        assert arabic["title"] == "مقاتلو المعارضة يستولون على مستودعات صواريخ"  # the feed's words first
        assert arabic["published"] == "2013-08-03T10:15:00+00:00" and arabic["author"] == "CNN Arabic"
        assert arabic["html"] == server.pages["/ar/syria-rockets.html"][1].decode("utf-8")  # the page as fetched
        persian = records["/fa/kanaani.html"]
        assert persian["site_name"] == "مشرق نیوز" and persian["canonical_url"].startswith("https://www.mashregh")
        assert records["/news/talks.html"]["author"] == "Staff reporter"
        assert records["/zh/leung.html"]["author"] == "BBC"
        assert records["/zh/undated.html"]["undated"] is True and records["/zh/undated.html"]["published"] is None
        assert report.undated == [p for p in files if records_name(records, p) == "/zh/undated.html"]

        # What ingest reads of the folder: every article, with the feed's and the page's metadata.
        folder = read_folder(out)
        assert len(folder.articles) == len(ARTICLES) and not folder.skipped
        ar = next(a for a in folder.articles if a.url and a.url.endswith("/ar/syria-rockets.html"))
        assert ar.canonical_url == arabic["canonical_url"] and ar.author == "CNN Arabic"
        assert any("مستودعات" in p for p in ar.paragraphs)

        # The second fetch the same morning: nothing downloaded again, nothing written.
        again = _fetch(server, out)
        assert again.written == [] and again.not_modified == len(FEEDS)
        for path in ARTICLES + FEEDS + ["/robots.txt"]:
            assert server.downloads(path) == 1, path
        assert server.sent[("/rss.xml", 304)] == 1


def records_name(records: dict[str, dict[str, object]], file: str) -> str:
    from briefer.fetch.run import file_name

    return next(path for path, r in records.items() if file_name(str(r["canonical_url"])) == file)


def test_an_interrupted_fetch_resumes_and_a_broken_state_is_set_aside(tmp_path: Path) -> None:
    out = tmp_path / "today"
    with FeedServer(slow_seconds=3) as server:
        _fetch(server, out)
        state, _ = load_state(out)
        # As if cut short after the first article: the feeds' validators and the others' entries were not saved.
        kept = next(iter(state.done.values()))
        state.validators.clear()
        state.done = {k: v for k, v in state.done.items() if v == kept}
        state.hashes = {k: v for k, v in state.hashes.items() if v == kept.file}
        (out / FILE_NAME).write_text(state.model_dump_json(), encoding="utf-8")
        before = {p: server.downloads(p) for p in ARTICLES}
        report = _fetch(server, out)
        fetched_again = [p for p in ARTICLES if server.downloads(p) > before[p]]
        assert len(fetched_again) == len(ARTICLES) - 1  # the one already written is not fetched again
        assert len(report.written) == len(ARTICLES) - 1

        (out / FILE_NAME).write_text('{"version": 1, "done": {"x": {"file": "../../etc/passwd", "sha256": "0"}}}',
                                     encoding="utf-8")
        state, problem = load_state(out)
        assert problem and "set aside" in problem and not state.done
        assert (out / (FILE_NAME + ".bad")).is_file()


def test_since_leaves_out_older_items_and_keeps_undated_ones(tmp_path: Path) -> None:
    import datetime as dt

    with FeedServer(slow_seconds=3) as server:
        report = _fetch(server, tmp_path / "out", since=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    urls = {json.loads(p.read_text(encoding="utf-8"))["url"].removeprefix(server.base)
            for p in (tmp_path / "out").glob("[!.]*.json")}
    assert urls == {"/news/talks.html", "/zh/undated.html"}  # 2026-12-06, and the undated one (flagged)
    assert report.older == 3 and len(report.undated) == 1


def test_since_and_max_age_and_a_bad_sources_file_are_usage_errors() -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 8, 6, tzinfo=dt.UTC)
    assert since_moment(None, "36h", now) == now - dt.timedelta(hours=36)
    assert since_moment("2026-12-07", None) == dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    for since, age in (("yesterday", None), (None, "3 weeks"), ("2026-12-07", "2d")):
        with pytest.raises(UsageError):
            since_moment(since, age)
    with pytest.raises(UsageError, match="sources:2: not an http or https URL: 'file:///etc/passwd'"):
        parse_sources("https://example.org/feed\nfile:///etc/passwd\n")
    with pytest.raises(UsageError, match="no sources"):
        parse_sources("# nothing\n\n")
    assert [s.kind for s in parse_sources("feed https://a.example/x A\npage https://b.example/y\n")] == ["feed", "page"]


def test_summarize_fetch_gives_sources_linking_to_the_original_urls(tmp_path: Path, monkeypatch:
                                                                    pytest.MonkeyPatch) -> None:
    sources = tmp_path / "sources.txt"
    folder = tmp_path / "today"
    monkeypatch.setenv("BRIEFER_CONTACT", "analyst@example.org")
    with FeedServer(slow_seconds=0) as feeds, FakeOpenAI(echo_model.respond) as model:
        sources.write_text(f"{feeds.base}/rss.xml\n{feeds.base}/atom.xml\n{feeds.base}/missing.html\n",
                           encoding="utf-8")
        result = CliRunner().invoke(app, ["summarize", str(folder), "--fetch", str(sources), "--out",
                                          str(tmp_path / "brief"), "--base-url", model.base_url, "--no-cache",
                                          "--date", "2026-12-07", "--no-since"],
                                    env={"OPENAI_API_KEY": "sk-test"})
    assert result.exit_code == 3, result.output  # the brief is written; one source failed
    assert f"failed: {feeds.base}/missing.html: HTTP 404" in result.output
    brief = json.loads((tmp_path / "brief" / "brief.json").read_text(encoding="utf-8"))
    urls = {a["url"] for a in brief["articles"]}
    assert urls == {f"{feeds.base}{p}" for p in ("/ar/syria-rockets.html", "/fa/kanaani.html", "/news/talks.html")}
    md = (tmp_path / "brief" / "brief.md").read_text(encoding="utf-8")
    html = (tmp_path / "brief" / "brief.html").read_text(encoding="utf-8")
    for url in urls:
        assert f"]({url})" in md and f'href="{url}"' in html  # the headline links to the original


def test_at_most_per_host_requests_at_once_with_the_delay_between_them(tmp_path: Path) -> None:
    with FeedServer() as server:
        listed = parse_sources("".join(f"page {server.base}/pace/{n}.html\n" for n in range(6)))
        limits = Limits(user_agent="briefer/test", timeout=5, per_host=2, delay=0.15)
        report = asyncio.run(fetch_sources(listed, FetchOptions(out=tmp_path / "out", limits=limits)))
    assert len(report.written) == 6 and not report.failures
    assert server.max_in_flight == 2
    gaps = [b - a for a, b in zip(server.starts, server.starts[1:], strict=False)]
    # Each request to the host starts a delay (0.15 s) after the one before: as the server sees them, give or take
    # its threads' scheduling on a busy machine.
    assert min(gaps) >= 0.1 and server.starts[-1] - server.starts[0] >= 5 * 0.15 - 0.05, gaps


def test_the_fetch_command_says_one_line_per_failed_source_and_exits_3(tmp_path: Path) -> None:
    sources = tmp_path / "sources.txt"
    runner = CliRunner()
    with FeedServer() as server:
        sources.write_text(f"{server.base}/atom.xml  Atom Daily\n{server.base}/missing.html\n", encoding="utf-8")
        result = runner.invoke(app, ["fetch", str(sources), "--out", str(tmp_path / "today"), "--delay", "0",
                                     "--contact", "analyst@example.org"])
        assert result.exit_code == 3, result.output
        assert f"briefer: failed: {server.base}/missing.html: HTTP 404" in result.output
        assert "1 new articles" in result.output and "1 failed" in result.output
        assert server.agents[0] == "briefer/0.1.0 (+analyst@example.org)"
        sources.write_text(f"{server.base}/atom.xml\n", encoding="utf-8")
        again = runner.invoke(app, ["fetch", str(sources), "--out", str(tmp_path / "today"), "--delay", "0"])
        assert again.exit_code == 0 and "0 new articles" in again.output and "1 unchanged sources" in again.output
        assert "no contact for the user agent" in again.output
    sources.write_text("gopher://example.org/feed\n", encoding="utf-8")
    bad = runner.invoke(app, ["fetch", str(sources), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "sources.txt:1: not an http or https URL" in bad.output
    big = runner.invoke(app, ["fetch", str(sources), "--out", str(tmp_path / "x"), "--max-page-mb", "50"])
    assert big.exit_code == 2 and "--max-page-mb must be above 0 and at most 10.5" in big.output


@pytest.mark.parametrize(("status", "fetched"), [(404, True), (503, False)])
def test_robots_txt_missing_allows_all_and_failing_allows_nothing(tmp_path: Path, status: int, fetched: bool) -> None:
    with FeedServer(robots_status=status) as server:
        listed = parse_sources(f"{server.base}/news/talks.html\n")
        limits = Limits(user_agent="briefer/test", timeout=5, delay=0)
        report = asyncio.run(fetch_sources(listed, FetchOptions(out=tmp_path / "out", limits=limits)))
        assert server.downloads("/news/talks.html") == (1 if fetched else 0)
    assert len(report.written) == (1 if fetched else 0)
    if not fetched:
        assert report.failures == [(f"{server.base}/news/talks.html",
                                    f"{server.base}/robots.txt could not be read (a server error or no answer): "
                                    "the host is not fetched until it can")]
        state, _ = load_state(tmp_path / "out")
        assert state.robots == {}  # not remembered: the next fetch asks again
