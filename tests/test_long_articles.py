"""A long article is read in parts and joined: same shape as a short one, quotes still in the source."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema

import echo_model
from briefer.extract.chunking import split_paragraphs
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run
from briefer.text.tokens import estimate_tokens
from conftest import ROOT
from fake_openai import FakeOpenAI

PARAGRAPH = "وقال المسؤول في تصريح صحفي إن المفاوضات مستمرة بين الجانبين حول تفاصيل الاتفاق رقم {n} في العاصمة."


def _long_article(folder: Path, paragraphs: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n".join(PARAGRAPH.format(n=i) for i in range(1, paragraphs + 1))
    path = folder / "long.txt"
    path.write_text(f"مفاوضات طويلة حول الاتفاق\n{body}\n", encoding="utf-8")
    return path


def test_split_keeps_paragraphs_whole_and_in_order() -> None:
    paragraphs = [PARAGRAPH.format(n=i) for i in range(30)]
    per = estimate_tokens(paragraphs[0])
    ranges = split_paragraphs(paragraphs, budget_tokens=per * 4)
    assert ranges[0] == (0, 4) and ranges[-1][1] == 30
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # contiguous, nothing dropped
    assert split_paragraphs(["x" * 10_000, "short"], budget_tokens=100) == [(0, 1), (1, 2)]  # never cut


def test_long_article_is_read_in_parts_and_replays(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _long_article(folder, 40)
    with FakeOpenAI(echo_model.respond) as server:
        cfg = RunConfig(folder=folder, out_dir=tmp_path / "live", date="2026-11-22", cache_dir=None, record=True,
                        recordings_dir=tmp_path / "rec", max_input_tokens=300,
                        endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
        result = asyncio.run(run(cfg))
        requests = list(server.requests)
    assert result.exit_code == 0
    kinds = [r["tools"][0]["function"]["name"] for r in requests]
    parts = kinds.count("ArticleExtraction")
    assert parts > 3 and kinds.count("ArticleDigest") == 1 and kinds.count("BriefDraft") == 1
    part_prompts = [r["messages"][1]["content"] for r in requests if r["tools"][0]["function"]["name"] ==
                    "ArticleExtraction"]
    assert all(f"of {parts} of a long article" in p for p in part_prompts)
    # Each request stays within the input budget (plus the headline and the prompt's own words).
    for p in part_prompts:
        body = p.split("<<<DATA-", 1)[1]
        assert estimate_tokens(body) < 300 + 100

    summary = json.loads((tmp_path / "live" / "articles" / "long.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "schemas" / "article.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(summary, schema)  # the same shape as a short article
    assert len(summary["translation_en"]) == len(summary["paragraphs_original"]) == 40
    assert summary["translation_en"][39].endswith("رقم 40 في العاصمة.")  # every paragraph, in order
    assert summary["grounding"]["rate"] == 1.0 and summary["grounding"]["quotes"] >= parts

    replay = asyncio.run(run(RunConfig(folder=folder, out_dir=tmp_path / "replay", date="2026-11-22",
                                       offline=True, recordings_dir=tmp_path / "rec", max_input_tokens=300)))
    assert replay.report.spent.answers == 0 and replay.report.replayed.answers == parts + 2
    assert (tmp_path / "replay" / "articles" / "long.json").read_bytes() == \
        (tmp_path / "live" / "articles" / "long.json").read_bytes()


def test_short_articles_are_not_split(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _long_article(folder, 3)
    with FakeOpenAI(echo_model.respond) as server:
        cfg = RunConfig(folder=folder, out_dir=tmp_path / "out", date="2026-11-22", cache_dir=None,
                        recordings_dir=tmp_path / "rec",
                        endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
        asyncio.run(run(cfg))
        assert len(server.requests) == 2 and "of a long article" not in str(server.requests[0]["messages"])


def test_a_long_article_whose_parts_are_kept_in_part_is_kept_flagged_not_a_traceback(tmp_path: Path) -> None:
    """Each part's answer misses its last paragraph's translation (--max-reasks 0): the parts are kept in part, the
    article too, its warnings naming the parts; the translation stops where the first part's does, since what follows
    would stand beside the wrong paragraphs. A rerun replays it from the cache."""
    def short(body: dict[str, object]) -> dict[str, object]:
        answer = echo_model.respond(body)
        if body["tools"][0]["function"]["name"] == "ArticleExtraction":  # type: ignore[index]
            answer = {**answer, "translation_en": answer["translation_en"][:-1]}
        return answer

    folder = tmp_path / "in"
    _long_article(folder, 40)
    with FakeOpenAI(short) as server:
        cfg = RunConfig(folder=folder, out_dir=tmp_path / "out", date="2026-11-22", cache_dir=tmp_path / "cache",
                        recordings_dir=tmp_path / "none", max_input_tokens=300,
                        endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, max_reasks=0))
        result = asyncio.run(run(cfg))
        sent = len(server.requests)
        again = asyncio.run(run(cfg))
        assert len(server.requests) == sent  # replayed
    assert result.exit_code == 3 and result.brief.failures == []
    summary = result.summaries[0]
    parts = sum(1 for w in summary.warnings if w.startswith("part "))
    assert parts > 3
    first = summary.warnings[0]
    assert first.startswith(f"part 1 of {parts}: translation incomplete: ")
    translated = int(first.split(": translation incomplete: ")[1].split(" of ")[0])
    assert len(summary.translation_en) == translated  # the first part's, not the later parts' shifted ones
    assert summary.warnings[-1] == f"translation incomplete: {translated} of 40 paragraphs translated"
    assert again.exit_code == 3 and again.summaries[0] == summary
