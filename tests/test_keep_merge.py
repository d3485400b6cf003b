"""Keep what is valid of the merge answer (issue 13): a weak model's merge answer that is partly valid keeps its
title, its valid summary lines, stories and disagreements, says what it dropped, and covers the articles no kept
story tells with briefer's own groups; the brief is partial (exit 3). An answer without a valid title fails whole,
as before.

Against a local OpenAI-compatible server (tests/fake_openai.py) through the real openai client.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import echo_model
from briefer.brief.merge import MergeInputs, build_brief
from briefer.model.answers import Gateway, Policy
from briefer.model.cache import RecordingStore, ResponseCache
from briefer.model.endpoint import EndpointConfig
from briefer.model.prompts import Prompts
from briefer.models import Brief, BriefDraft
from conftest import FIXTURES, reference_responder
from fake_openai import FakeOpenAI
from test_keep_valid import _json, _summarize
from test_large_merge import BUDGET, synthetic

REFERENCE = json.loads((FIXTURES / "recordings" / "merge" / "brief.json").read_text(encoding="utf-8"))["response"]
UNKNOWN = "999_0000000000000000"


def _broken_merge(**changes: Any) -> Any:
    """The reference answers, with the merge answer changed the same way every time (a re-ask cannot fix it)."""
    reference = reference_responder()
    merges: list[int] = []

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer = reference(body)
        if "translation_en" in answer:
            return answer
        merges.append(1)
        return {**answer, **changes}

    respond.merges = merges  # type: ignore[attr-defined]
    return respond


def _partly_valid() -> dict[str, Any]:
    """One story broken (no article_ids: its article is told by no kept story), one summary line citing an
    article the request never gave."""
    stories = [dict(st) for st in REFERENCE["stories"]]
    del stories[1]["article_ids"]
    lines = [dict(line) for line in REFERENCE["executive_summary"]]
    lines[2]["article_ids"] = [UNKNOWN]
    return {"stories": stories, "executive_summary": lines}


def test_a_partly_valid_merge_answer_is_kept_with_its_warnings(tmp_path: Path, fixture_copy: Path) -> None:
    articles, cache, out = fixture_copy / "articles", tmp_path / "cache", tmp_path / "out"
    respond = _broken_merge(**_partly_valid())
    with FakeOpenAI(respond) as server:
        r = _summarize(articles, out, "--cache-dir", str(cache), "--recordings", str(tmp_path / "none"),
                       server=server)
    assert respond.merges == [1, 1], r.output  # the answer and its re-ask, then kept
    assert r.exit_code == 3, r.output

    brief = _json(out / "brief.json")
    assert brief["partial"] is True and brief["failures"] == [] and brief["missing_parts"] == []
    assert brief["title"] == REFERENCE["title"]
    expected_lines = [line for n, line in enumerate(REFERENCE["executive_summary"]) if n != 2]
    # Each kept line as the answer gave it, with briefer's check of it against the statements it cites.
    assert [{k: v for k, v in line.items() if k != "support"} for line in brief["executive_summary"]] == expected_lines
    assert all(line["support"]["verdict"] in ("supported", "unchecked") for line in brief["executive_summary"])
    assert [{**d, "positions": [{k: v for k, v in p.items() if k != "support"} for p in d["positions"]]}
            for d in brief["disagreements"]] == REFERENCE["disagreements"]
    dropped = REFERENCE["stories"][1]
    kept = [st for n, st in enumerate(REFERENCE["stories"]) if n != 1]
    assert [st["title"] for st in brief["stories"][:2]] == [st["title"] for st in kept]
    # The dropped story's article is not lost: briefer's own group tells it, summarised by its newest article.
    fallback = brief["stories"][2:]
    assert [st["article_ids"] for st in fallback] == [dropped["article_ids"]]
    assert fallback[0]["summary"].endswith("(Grouped automatically by shared entities and dates; the merge answer "
                                           "had no valid story for them.)")
    told = {aid for st in brief["stories"] for aid in st["article_ids"]}
    assert told == {a["id"] for a in brief["articles"]}
    assert brief["merge_warnings"] == [
        "executive_summary: 1 item citing unknown article ids (999_0000000000000000) dropped",
        "stories: 1 item that broke the schema dropped",
        "1 story group(s) no kept story covers: shown as grouped by briefer, summarised by their newest article",
    ]

    md = (out / "brief.md").read_text(encoding="utf-8")
    assert "> **Partial brief:** the merge answer was kept in part, with warnings, listed under Kept in part." in md
    assert "## Kept in part" in md and "- **Merge answer (title, summary, stories, disagreements)**" in md
    assert "  - stories: 1 item that broke the schema dropped" in md
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert '<section id="kept"' in html and 'href="#kept">Kept in part</a>' in html
    assert "the merge answer was kept in part, with warnings, listed under Kept in part" in html
    assert '<li><bdi dir="ltr">stories: 1 item that broke the schema dropped</bdi></li>' in html
    assert "briefer: kept in part: (merge): executive_summary: 1 item citing unknown article ids" in r.output

    # The cache replays it from the model's own words: nothing asked, the same brief.
    again = _summarize(articles, tmp_path / "again", "--cache-dir", str(cache), "--recordings",
                       str(tmp_path / "none"), "--offline")
    assert again.exit_code == 3, again.output
    assert "0 model calls (0 HTTP requests)" in again.output
    replayed = _json(tmp_path / "again" / "brief.json")
    assert {k: v for k, v in replayed.items() if k != "stats"} == {k: v for k, v in brief.items() if k != "stats"}


def test_a_merge_answer_without_a_valid_title_fails_as_before(tmp_path: Path, fixture_copy: Path) -> None:
    out = tmp_path / "out"
    with FakeOpenAI(_broken_merge(title="", **_partly_valid())) as server:
        r = _summarize(fixture_copy / "articles", out, "--no-cache", "--recordings", str(tmp_path / "none"),
                       server=server)
    assert r.exit_code == 3, r.output
    brief = _json(out / "brief.json")
    assert brief["merge_warnings"] == [] and brief["executive_summary"] == []
    assert [f["source_path"] for f in brief["failures"]] == ["(merge)"]
    assert {m["part"] for m in brief["missing_parts"]} >= {"title", "executive_summary"}
    assert brief["title"].endswith("(merge step failed)")


def test_what_the_merge_answer_must_keep() -> None:
    context = {"article_ids": sorted({aid for line in REFERENCE["executive_summary"] for aid in line["article_ids"]})}

    def keep(data: dict[str, Any]) -> BriefDraft | None:
        return BriefDraft.keep_valid(json.dumps(data, ensure_ascii=False), context, cut_off=False,
                                     completion_tokens=0)

    # Not one valid summary line (each cites an article not given): nothing kept.
    unknown = [{**line, "article_ids": [UNKNOWN]} for line in REFERENCE["executive_summary"]]
    assert keep({**REFERENCE, "executive_summary": unknown}) is None
    assert keep({k: v for k, v in REFERENCE.items() if k != "title"}) is None
    # Stories and disagreements left out altogether: the summary is kept, and the gap said.
    draft = keep({"title": REFERENCE["title"], "executive_summary": REFERENCE["executive_summary"]})
    assert draft is not None and draft.stories == [] and draft.disagreements == []
    assert draft.kept_warnings == ["missing from the answer: stories, disagreements"]
    # An answer cut off inside its stories keeps those before the cut, and does not count the cut one as broken.
    text = json.dumps(REFERENCE, ensure_ascii=False)
    cut = text[: text.index(REFERENCE["stories"][1]["summary"]) + 20]
    draft = BriefDraft.keep_valid(cut, context, cut_off=True, completion_tokens=900)
    assert draft is not None and [st.title for st in draft.stories] == [REFERENCE["stories"][0]["title"]]
    assert draft.kept_warnings == [
        "the answer was cut off at the token limit after 900 tokens; what came before is kept",
        "missing from the answer: disagreements",
    ]


def test_a_large_merge_keeps_a_partly_valid_batch(tmp_path: Path) -> None:
    """A batch of a large merge whose answer has one broken story: its other stories are kept, the group of the
    broken one is told by briefer, and the brief says which request it was."""
    summaries = synthetic(100, stories=10)

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer = echo_model.respond(body)
        if body["tools"][0]["function"]["name"] == "StoriesDraft":
            answer = {**answer, "stories": [{k: v for k, v in st.items() if k != "article_ids"}
                                            if "a0001" in st["article_ids"] else st for st in answer["stories"]]}
        return answer

    with FakeOpenAI(respond) as server:
        gateway = Gateway(endpoint=EndpointConfig(model="m", base_url=server.base_url), cache=ResponseCache(None),
                          recordings=RecordingStore(tmp_path / "rec"), policy=Policy())
        inputs = MergeInputs(date="2026-11-22", summaries=summaries, failures=[], skipped=[], merge_budget=BUDGET)

        async def go() -> Brief:
            try:
                return await build_brief(inputs, gateway, Prompts())
            finally:
                await gateway.aclose()

        brief = asyncio.run(go())
        requests = list(server.requests)
    names = [r["tools"][0]["function"]["name"] for r in requests]
    assert names.count("BriefOverview") == 1 and "BriefDraft" not in names, brief.failures
    assert brief.partial and not brief.failures and brief.title and brief.executive_summary
    broken = next(st for st in brief.stories if "a0001" in st.article_ids)
    assert broken.summary.endswith("the merge answer had no valid story for them.)")
    assert {aid for st in brief.stories for aid in st.article_ids} == {s.id for s in summaries}
    assert len(brief.stories) == 10
    batch, dropped = brief.merge_warnings[0].split(": ", 1)  # named after the batch's request
    assert re.fullmatch(r"stories-[0-9]+", batch) and dropped == "stories: 1 item that broke the schema dropped"
    assert brief.merge_warnings[1:] == [
        "1 story group(s) no kept story covers: shown as grouped by briefer, summarised by their newest article",
    ]
