"""Two reading depths: brief.md is the brief, read in five minutes; evidence.md holds what it rests on, one link
from every citation; each event is told once; brief.json keeps everything."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from briefer.models import Brief, TimelineEntry
from briefer.pipeline import RunConfig, RunResult, run
from briefer.render.common import STORY_TIMELINE_SHOWN, story_newest, story_parts, story_timeline, untold_timeline
from briefer.render.evidence import evidence_markdown
from briefer.render.markdown import brief_markdown, md
from conftest import FIXTURES

MAX_WORDS = 2_000


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    out = tmp_path_factory.mktemp("seed")
    result = asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=out, date="2026-11-22", offline=True)))
    return result, out


def _read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_the_seed_brief_is_at_most_two_thousand_words(seed: tuple[RunResult, Path]) -> None:
    _, out = seed
    words = len(_read(out, "brief.md").split())  # as `wc -w` counts them
    assert words <= MAX_WORDS, f"brief.md is {words} words"
    assert len(_read(out, "evidence.md").split()) > 5 * words  # the evidence moved, it was not dropped


def test_no_event_is_told_twice_and_the_evidence_is_not_in_the_brief(seed: tuple[RunResult, Path]) -> None:
    result, out = seed
    brief_md, evidence = _read(out, "brief.md"), _read(out, "evidence.md")
    told = [t for st in result.brief.stories for t in story_parts(result.brief, st)[0]] + untold_timeline(
        result.brief)
    assert told
    for t in told:
        assert brief_md.count(f" — {md(t.event)}") == 1, t.event
    # The seed's stories cover every article: no second, global timeline repeats their events.
    assert untold_timeline(result.brief) == [] and "## Timeline" not in brief_md
    for s in result.summaries:
        for k in s.key_points:
            assert md(k.text_en) not in brief_md and md(k.text_en) in evidence
        for c in s.claims:
            assert md(c.evidence_quote) not in brief_md and md(c.evidence_quote) in evidence
        for e in s.events:
            assert md(e.evidence_quote) in evidence and md(e.evidence_quote) not in brief_md


def test_every_citation_is_one_link_from_its_evidence(seed: tuple[RunResult, Path]) -> None:
    result, out = seed
    brief_md, evidence = _read(out, "brief.md"), _read(out, "evidence.md")
    cites = re.findall(r"\[\[(\d+)\]\]\(([^)]*)\)", brief_md)
    assert len(cites) > 50 and not re.search(r"(?<!\[)\[\d+\](?!\])", brief_md.replace("\\[", ""))  # bare [n]: none
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', evidence))
    for n, target in cites:
        assert target == f"evidence.md#evidence-{n}" and f"evidence-{n}" in anchors
    # Every link into evidence.md lands on an anchor there (stories' whole timelines, the names, the sources).
    for target in re.findall(r"\]\(evidence\.md#([^)]+)\)", brief_md):
        assert target in anchors, target
    # The evidence, article by article: the key points, claims and events of each, with their quotes.
    for n, a in enumerate(result.brief.articles, start=1):
        section = evidence[evidence.index(f'<a id="evidence-{n}">'):]
        assert section.startswith(f'<a id="evidence-{n}"></a>\n\n## [{n}] {md(a.headline_en)}')
    assert "*¶" in evidence and "in English:*" in evidence


def test_story_timelines_show_what_happened_up_to_the_newest_report(seed: tuple[RunResult, Path]) -> None:
    result, out = seed
    brief_md, evidence = _read(out, "brief.md"), _read(out, "evidence.md")
    long = [st for st in result.brief.stories if len(st.timeline) > STORY_TIMELINE_SHOWN]
    assert long
    for st in result.brief.stories:
        shown, rest = story_parts(result.brief, st)
        assert sorted(map(st.timeline.index, shown + rest)) == list(range(len(st.timeline)))  # none lost or twice
        assert len(shown) == min(len(st.timeline), STORY_TIMELINE_SHOWN)
        newest = story_newest(result.brief, st.article_ids)
        assert newest is not None and all(t.date <= newest or t.date.startswith(newest[:4]) for t in shown)
        for t in rest:
            assert f" — {md(t.event)}" not in brief_md and f" — {md(t.event)}" in evidence
    # The first story's newest report is of September 2024: its plans for 2025 and 2026 wait in the evidence.
    shown, rest = story_parts(result.brief, long[0])
    assert [t.date[:4] for t in shown] == ["2024"] * STORY_TIMELINE_SHOWN and "2026" in {t.date for t in rest}
    assert f"({STORY_TIMELINE_SHOWN} of {len(long[0].timeline)}, up to the newest report; all of them: " in brief_md


def test_a_timeline_of_plans_only_shows_the_first_of_them() -> None:
    plans = [TimelineEntry(date=d, event=d, article_ids=["a"]) for d in ("2025", "2026", "2027", "2028", "2029")]
    shown, rest = story_timeline(plans, "2024-09")
    n = STORY_TIMELINE_SHOWN
    assert [t.date for t in shown] == [p.date for p in plans[:n]]
    assert [t.date for t in rest] == [p.date for p in plans[n:]]
    assert story_timeline(plans[:n], "2024-09") == (plans[:n], [])


def test_brief_json_keeps_everything(seed: tuple[RunResult, Path]) -> None:
    result, out = seed
    data = json.loads(_read(out, "brief.json"))
    events = sum(1 for s in result.summaries for e in s.events if e.date and e.verified)
    assert len(data["timeline"]) == len(result.brief.timeline) > 0
    assert sum(len(st["timeline"]) for st in data["stories"]) >= len(data["timeline"]) and events >= len(
        data["timeline"])
    assert len(data["entities"]) == len(result.brief.entities)
    assert Brief.model_validate(data) == result.brief


def _entry(event: str, ids: list[str]) -> TimelineEntry:
    return TimelineEntry(date="2024-09-01", event=event, article_ids=ids)


def test_the_timeline_lists_only_events_of_articles_in_no_story(seed: tuple[RunResult, Path]) -> None:
    result, _ = seed
    brief = result.brief
    ids = [a.id for a in brief.articles]
    in_story = brief.stories[0].article_ids[0]
    alone = next(i for i in ids if all(i not in st.article_ids for st in brief.stories[:1]))
    stories = [brief.stories[0]]
    timeline = [_entry("Told by the story.", [in_story]), _entry("Told by no story.", [alone])]
    other = brief.model_copy(update={"stories": stories, "timeline": timeline, "continuity": None})
    assert [t.event for t in untold_timeline(other)] == ["Told by no story."]
    text = brief_markdown(other, result.summaries)
    assert "## Other dated events (in no story)" in text and text.count("Told by the story.") == 0
    assert "- 2024-09-01 — Told by no story." in text
    # Without stories, the timeline is the brief's timeline.
    bare = other.model_copy(update={"stories": []})
    assert "## Timeline" in brief_markdown(bare, result.summaries)
    # The evidence holds each article's own events, dated or not, whatever the brief shows.
    evidence = evidence_markdown(other, result.summaries)
    assert all(md(e.description_en) in evidence for s in result.summaries for e in s.events)
