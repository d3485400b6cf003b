"""Day after day (issue 16): a brief compared with the analyst's earlier brief, replayed offline on the
two-day fixture (fixtures/daily: day 1 = 002, 004, 001; day 2 = 000, 003 and 001 again)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from briefer.brief.aliases import NO_ALIASES
from briefer.brief.continuity import Matcher, continuity, load_earlier, seeded
from briefer.brief.facts import join_entities
from briefer.brief.merge import plan
from briefer.cli import app
from briefer.eval.checks import brief_checks
from briefer.eval.evaluate import EvalConfig, apply_check, evaluate, python_resolver
from briefer.model.endpoint import EndpointConfig
from briefer.models import Brief
from briefer.pipeline import RunConfig, RunResult, SilentReporter, run
from conftest import FIXTURES
from fake_openai import FakeOpenAI
from test_merge import person, summary

DAILY = FIXTURES / "daily"
DAY1, DAY2 = "2024-09-17", "2024-09-18"
A000, A001, A002, A003, A004 = ("000_6f0ae3a4b7243325", "001_60e5ac162c7950a1", "002_114e8c00c4a8dde7",
                                "003_765204c47648eeb1", "004_6e0e75a60da96bca")


def day(n: str, briefs: Path, reporter: SilentReporter | None = None, **options: object) -> RunResult:
    options = {"offline": True, **options}
    cfg = RunConfig(folder=DAILY / n, out_dir=briefs / n, date=n, **options)  # type: ignore[arg-type]
    return asyncio.run(run(cfg, reporter))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult, Path]:
    briefs = tmp_path_factory.mktemp("briefs")
    first = day(DAY1, briefs)
    second = day(DAY2, briefs)  # finds the brief of 2024-09-17 beside its output folder
    return first, second, briefs


def test_day_one_stands_alone_and_day_two_is_compared_with_it(two_days: tuple[RunResult, RunResult, Path]) -> None:
    first, second, briefs = two_days
    assert first.brief.continuity is None and not first.brief.failures and not first.brief.missing_parts
    c = second.brief.continuity
    assert c is not None and not second.brief.failures and not second.brief.missing_parts
    assert (c.compared_with.date, c.compared_with.title) == (DAY1, first.brief.title)
    assert Path(c.compared_with.path).resolve() == (briefs / DAY1).resolve()


def test_an_article_of_yesterday_is_listed_not_told_again(two_days: tuple[RunResult, RunResult, Path]) -> None:
    _, second, _ = two_days
    b = second.brief
    assert b.continuity is not None and b.continuity.already_reported == [A001]
    assert A001 in {a.id for a in b.articles}  # still a source, marked as already reported
    told = {i for st in b.stories for i in st.article_ids} | {i for t in b.timeline for i in t.article_ids}
    told |= {i for line in b.executive_summary for i in line.article_ids}
    assert A001 not in told and told == {A000, A003}
    md = (second.out_dir / "brief.md").read_text(encoding="utf-8")
    assert f"Already in the brief of {DAY1}, not told again: [[2]](evidence.md#evidence-2)" in md
    assert f"already in the brief of {DAY1}) · [evidence](evidence.md#evidence-2)" in md


def test_stories_are_labelled_and_the_since_line_cites_todays_articles(
        two_days: tuple[RunResult, RunResult, Path]) -> None:
    first, second, _ = two_days
    c = second.brief.continuity
    assert c is not None
    assert [s.label for s in c.stories] == ["developing"]
    since = c.stories[0].since
    assert since is not None and since.written_by == "model" and "27 September" in since.text
    assert set(since.article_ids) == {A000, A003}
    august = next(st.title for st in first.brief.stories if st.article_ids == [A001])
    assert c.stories[0].earlier_titles == [august]
    assert [st.title for st in c.no_new_reporting] == [st.title for st in first.brief.stories
                                                        if st.article_ids != [A001]]
    assert "since" not in json.loads((second.out_dir / "brief.json").read_text(encoding="utf-8"))["stories"][0]
    md = (second.out_dir / "brief.md").read_text(encoding="utf-8")
    assert "· *developing*" in md and f"**Since {DAY1}:** The announcement" in md
    assert md.count("- No new reporting: ") == 2
    data = json.loads((second.out_dir / "brief.json").read_text(encoding="utf-8"))
    assert data["continuity"]["stories"][0]["label"] == "developing"
    html = (second.out_dir / "brief.html").read_text(encoding="utf-8")
    assert '<span class="tag">developing</span>' in html and '<a href="#since">' in html and 'id="since"' in html
    assert f"<strong>Since {DAY1}:</strong> <bdi dir=\"ltr\">The announcement" in html
    assert html.count("<li>No new reporting: ") == 2 and f"already in the brief of {DAY1}</span>" in html
    assert 'href="#since"' not in (first.out_dir / "brief.html").read_text(encoding="utf-8")


def _daily_responder() -> Any:
    """Answers like the reference recordings of the two days: extractions by headline, each day's merge."""
    extracts = [json.loads(p.read_text(encoding="utf-8"))["response"]
                for p in sorted((DAILY / "recordings").glob("*/extract/*.json"))]
    merges = {n: json.loads((DAILY / "recordings" / n / "merge" / "brief.json").read_text(encoding="utf-8"))["response"]
              for n in (DAY1, DAY2)}

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        user = "\n".join(str(m.get("content") or "") for m in body["messages"])
        for answer in extracts:
            if answer["headline_original"] in user:
                return answer
        return merges[DAY2 if '"earlier_brief"' in user else DAY1]

    return respond


def test_day_two_asks_nothing_for_the_article_of_day_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(_daily_responder()) as server:
        endpoint = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url)
        options = {"offline": False, "endpoint": endpoint, "cache_dir": tmp_path / "cache",
                   "recordings_dir": tmp_path / "no-recordings"}
        day(DAY1, tmp_path / "briefs", **options)
        asked_before = len(server.requests)
        two = day(DAY2, tmp_path / "briefs", **options)
        b = two.brief
        day_two = server.requests[asked_before:]
    assert asked_before == 4  # three articles and the merge
    asked = [m["content"] for r in day_two for m in r["messages"] if m["role"] == "user"]
    assert len(day_two) == 3  # 000, 003 and the merge: nothing for 001, which day 1 summarised
    headline_001 = "كواليس «اجتماع التهدئة»"
    # 001 is neither extracted again nor retold in the merge (its headline in neither script)
    assert not any(headline_001 in text or "Iraq pre-empts a confrontation" in text for text in asked)
    assert sum(1 for r in day_two if "ArticleExtraction" in json.dumps(r.get("tools", ""))) == 2
    assert not b.failures and b.continuity is not None and b.continuity.already_reported == [A001]
    assert two.report.replayed.answers == 1 and two.report.spent.answers == 3


def test_eval_expectations_check_labels_and_since_lines(two_days: tuple[RunResult, RunResult, Path]) -> None:
    first, second, _ = two_days
    path = DAILY / "expectations" / f"brief-{DAY2}.toml"
    known = [A000, A001, A002, A003, A004]
    checks = brief_checks(tomllib.loads(path.read_text(encoding="utf-8")), str(path), known,
                          python_resolver(path.parent))
    assert {c.kind for c in checks} == {"continuity", "story"}
    assert [apply_check(c, second.brief).status for c in checks] == ["PASS"] * len(checks)
    # The same expectations fail on a brief that was compared with nothing, and on a wrong label.
    assert all(apply_check(c, first.brief).status == "FAIL" for c in checks)
    c2 = second.brief.continuity
    assert c2 is not None
    relabelled = second.brief.model_copy(update={"continuity": c2.model_copy(update={
        "stories": [c2.stories[0].model_copy(update={"label": "continuing"})]})})
    story = next(c for c in checks if c.kind == "story")
    result = apply_check(story, relabelled)
    assert result.status == "FAIL" and "(continuing; since:" in result.found


def test_eval_runs_a_fixtures_folder_of_days_day_by_day(tmp_path: Path) -> None:
    # `briefer eval --fixtures fixtures/daily`: day 1, then day 2 compared with it, then day 2's expectations.
    report = evaluate(EvalConfig(fixtures=DAILY, offline=True, out=tmp_path / "out"))
    [run_] = report.runs
    assert [c.case for c in run_.cases] == [f"brief-{DAY2}"]
    assert run_.totals() == {"PASS": 3, "FAIL": 0, "STALE": 0, "ERROR": 0} and report.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [DAY1, DAY2]
    day2 = json.loads((tmp_path / "out" / DAY2 / "brief.json").read_text(encoding="utf-8"))
    assert day2["continuity"]["compared_with"]["date"] == DAY1

    # The same expectations checked against day 1's brief (renamed) fail: each day's brief is its own.
    fixtures = tmp_path / "daily"
    shutil.copytree(DAILY, fixtures)  # the links into the seed recordings are copied as files
    (fixtures / "expectations" / f"brief-{DAY2}.toml").rename(fixtures / "expectations" / f"brief-{DAY1}.toml")
    failing = evaluate(EvalConfig(fixtures=fixtures, offline=True))
    assert failing.runs[0].totals()["FAIL"] == 3 and failing.exit_code == 4
    r = CliRunner().invoke(app, ["eval", "--fixtures", str(DAILY), "--offline"])
    assert r.exit_code == 0 and "3 PASS" in r.output, r.output


def test_labels_new_continuing_and_briefers_own_since_line(two_days: tuple[RunResult, RunResult, Path]) -> None:
    first, second, briefs = two_days
    earlier = load_earlier(briefs / DAY1, print)
    assert earlier is not None
    summaries = {s.id: s for s in second.summaries}
    p = plan(list(summaries.values()), earlier=earlier)
    assert p.matcher is not None
    story = second.brief.stories[0]
    related = [sorted({*story.article_ids, A001})]
    # No model line: briefer lists the new articles' headlines, and says so.
    told = continuity([story], related, p.matcher, p.seen, [None]).stories[0]
    assert told.label == "developing" and told.since is not None and told.since.written_by == "briefer"
    assert summaries[A000].headline_en in told.since.text and told.since.article_ids == [A000, A003]
    # Articles no newer than yesterday's story: continuing, no since line.
    old = [s.model_copy(update={"published": "2024-08-01"}) if s.id in (A000, A003) else s
           for s in summaries.values()]
    matcher = Matcher(earlier, old, p.matcher.entities)
    told = continuity([story], related, matcher, p.seen, [None]).stories[0]
    assert (told.label, told.since) == ("continuing", None)
    # Nothing shared with yesterday (no article, no entity): new, and every earlier story had no new reporting.
    lone = summary("zz", published="2024-09-18", entities=[person("Someone Else", "شخص")])
    matcher = Matcher(earlier, [lone], join_entities([lone]))
    told_all = continuity([story.model_copy(update={"article_ids": ["zz"]})], [["zz"]], matcher, [], [None])
    assert told_all.stories[0].label == "new" and len(told_all.no_new_reporting) == len(first.brief.stories)


def test_entities_keep_yesterdays_names(two_days: tuple[RunResult, RunResult, Path]) -> None:
    _, _, briefs = two_days
    earlier = load_earlier(briefs / DAY1, print)
    assert earlier is not None
    qaani = next(e for e in earlier.brief.entities if e.name_en == "Esmail Qaani")
    # Today one article spells him another way, in both scripts; yesterday's name and join carry over.
    today = summary("t1", published="2024-09-18", entities=[person("Ismail Ghaani", "قآاني")])
    assert "قآاني" in {v.name for v in qaani.variants}
    assert [e.name_en for e in join_entities([today], NO_ALIASES)] == ["Ismail Ghaani"]
    assert [e.name_en for e in join_entities([today], seeded(NO_ALIASES, earlier))] == ["Esmail Qaani"]


def test_day_two_keeps_day_ones_entity_names(two_days: tuple[RunResult, RunResult, Path]) -> None:
    first, second, _ = two_days
    names = {e.name_en for e in first.brief.entities}
    shared = [e for e in second.brief.entities if {v.name for v in e.variants} & {
        v.name for f in first.brief.entities for v in f.variants}]
    assert shared and all(e.name_en in names for e in shared)


def test_no_since_and_an_unreadable_earlier_brief_stand_alone(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs)
    alone = day(DAY2, briefs, no_since=True).brief
    assert alone.continuity is None and A001 in {i for st in alone.stories for i in st.article_ids}
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "brief.json").write_text("{not json", encoding="utf-8")
    reporter = SilentReporter()
    b = day(DAY2, tmp_path / "other", reporter, since=tmp_path / "broken").brief
    assert b.continuity is None
    assert [w for w in reporter.warnings if "--since" in w] == [
        w for w in reporter.warnings if "this brief stands alone" in w] and len(reporter.warnings) == 1
    reporter = SilentReporter()
    day(DAY2, tmp_path / "other2", reporter, since=tmp_path / "missing")
    assert len(reporter.warnings) == 1 and "cannot read brief.json" in reporter.warnings[0]


def test_default_is_only_for_a_folder_per_day(tmp_path: Path) -> None:
    # An --out not named by a date compares with nothing, whatever lies beside it.
    day(DAY1, tmp_path)
    cfg = RunConfig(folder=DAILY / DAY2, out_dir=tmp_path / "today", date=DAY2, offline=True)
    assert asyncio.run(run(cfg)).brief.continuity is None


def test_an_older_brief_without_hashes_is_read_through_its_article_files(tmp_path: Path) -> None:
    first = day(DAY1, tmp_path / "briefs")
    path = first.out_dir / "brief.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for a in data["articles"]:
        del a["content_sha256"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    earlier = load_earlier(first.out_dir, print)
    assert earlier is not None and sorted(earlier.hashes.values()) == [A001, A002, A004]
    assert Brief.model_validate(data).continuity is None


def test_since_and_no_since_exclude_each_other(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["summarize", str(DAILY / DAY2), "--offline", "--out", str(tmp_path / "o"),
                                      "--since", str(tmp_path), "--no-since"])
    assert result.exit_code == 2 and "--since and --no-since exclude each other" in result.output
