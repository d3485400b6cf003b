"""What depends on a batch's answers goes into the next batch: a long article's reduce call and a re-ask
about quotes not found (and, with batch_merge, the merge calls), so a batch run asks nothing live but
what it is told to. In process, through the real openai client, against tests/fake_batches.py."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import echo_model
from briefer.batch_run import (
    batched_stages,
    collect,
    config_from,
    estimate,
    export,
    import_file,
    next_requests,
    run_options,
    status,
    submit,
)
from briefer.errors import BudgetExceeded, UsageError
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run
from fake_batches import FakeBatches
from fake_openai import FakeOpenAI
from test_batch_files import brief_files
from vllm_role import answer_line

PARAGRAPH = "وقال المسؤول في تصريح صحفي إن المفاوضات مستمرة بين الجانبين حول تفاصيل الاتفاق رقم {n} في العاصمة."
SHORT = ("زيارة قصيرة إلى العاصمة\nوصل الوزير إلى العاصمة صباح اليوم في زيارة تستمر يومين.\n"
         "وقال إنه سيلتقي رئيس الحكومة.\n")
MADE_UP = "قال الوزير إن الزيارة ألغيت"  # in no article


def _folder(root: Path) -> Path:
    folder = root / "in"
    folder.mkdir()
    body = "\n".join(PARAGRAPH.format(n=i) for i in range(1, 41))
    (folder / "long.txt").write_text(f"مفاوضات طويلة حول الاتفاق\n{body}\n", encoding="utf-8")
    (folder / "short.txt").write_text(SHORT, encoding="utf-8")
    return folder


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """The echo model, except that the short article's first answer quotes what it does not say."""
    answer = echo_model.respond(body)
    first_turn = all(m["role"] != "assistant" for m in body["messages"])
    if first_turn and "زيارة قصيرة" in echo_model._user(body) and "key_points" in answer:
        answer = json.loads(json.dumps(answer))
        answer["key_points"][0]["evidence_quote"] = MADE_UP
    return answer


def _config(folder: Path, out: Path, cache: Path, base_url: str) -> RunConfig:
    return RunConfig(folder=folder, out_dir=out, date="2026-11-22", cache_dir=cache, recordings_dir=out.parent / "none",
                     max_input_tokens=300, no_since=True,
                     endpoint=EndpointConfig(model="gpt-4o-mini", base_url=base_url))


def _schema(line: dict[str, Any]) -> str:
    return str(line["body"]["tools"][0]["function"]["name"])


def _shard_lines(out: Path, number: int) -> list[dict[str, Any]]:
    text = (out / "batch" / f"requests-{number:03d}.jsonl").read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines()]


def _finish(out: Path, server: FakeBatches) -> None:
    for _ in range(3):  # each look moves the fake provider one step on
        status(out, base_url=server.base_url)


def _live(tmp: Path, folder: Path) -> tuple[dict[str, Any], str]:
    with FakeOpenAI(respond) as server:
        result = asyncio.run(run(_config(folder, tmp / "live", tmp / "live-cache", server.base_url)))
        kinds = [r["tools"][0]["function"]["name"] for r in server.requests]
    assert result.exit_code == 0
    assert kinds.count("ArticleDigest") == 1 and sum("Not found in the article" in json.dumps(r, ensure_ascii=False)
                                                       for r in server.requests) == 1  # the live run re-asked once
    return brief_files(tmp / "live")


def test_reduce_calls_and_reasks_go_in_a_follow_up_batch(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    with FakeBatches(respond) as server:
        done = submit(_config(folder, out, tmp_path / "cache", server.base_url))
        first = _shard_lines(out, 1)
        parts = len(first) - 1
        assert parts > 3 and {_schema(x) for x in first} == {"ArticleExtraction"}
        _finish(out, server)
        collected = collect(out, base_url=server.base_url, folder=folder)
        assert collected.imported == parts + 1 and collected.result is None
        assert collected.retried == 0 and [s.round for s in collected.followup] == [2]
        second = _shard_lines(out, 2)
        assert sorted(_schema(x) for x in second) == ["ArticleDigest", "ArticleExtraction"]
        reask = next(x for x in second if _schema(x) == "ArticleExtraction")
        assert reask["body"]["messages"][-2]["role"] == "assistant" and MADE_UP in reask["body"]["messages"][-1][
            "content"]
        assert server.requests == []  # nothing live so far
        _finish(out, server)
        collected = collect(out, base_url=server.base_url, folder=folder)
        assert collected.imported == 2 and collected.result is not None and collected.live == 0
        # Only the merge went live.
        assert [r["tools"][0]["function"]["name"] for r in server.requests] == ["BriefDraft"]
        assert len(server.batches) == 2 and done.sent == 1
    assert brief_files(out) == _live(tmp_path, folder)
    for name in ("short.json", "long.json"):
        assert (out / "articles" / name).read_bytes() == (tmp_path / "live" / "articles" / name).read_bytes()


def test_live_rest_asks_the_second_round_live(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    with FakeBatches(respond) as server:
        submit(_config(folder, out, tmp_path / "cache", server.base_url))
        _finish(out, server)
        collected = collect(out, live_rest=True, base_url=server.base_url, folder=folder)
        assert collected.live == 2 and collected.followup == [] and collected.result is not None
        kinds = sorted(r["tools"][0]["function"]["name"] for r in server.requests)
        assert kinds == ["ArticleDigest", "ArticleExtraction", "BriefDraft"]  # reduce, re-ask, merge
        assert len(server.batches) == 1
    assert brief_files(out) == _live(tmp_path, folder)


def test_a_request_without_a_valid_answer_in_three_batches_fails_its_article_not_asked_live(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    with FakeBatches(respond, broken=["زيارة قصيرة"] * 3) as server:
        submit(_config(folder, out, tmp_path / "cache", server.base_url))
        for round_ in (2, 3):
            _finish(out, server)
            collected = collect(out, base_url=server.base_url, folder=folder)
            assert [s.round for s in collected.followup] == [round_] and collected.retried == 1
        _finish(out, server)
        collected = collect(out, base_url=server.base_url, folder=folder)
        assert collected.given_up == 1 and collected.result is not None
        assert [r["tools"][0]["function"]["name"] for r in server.requests] == ["BriefDraft"]  # the merge only
    brief = collected.result.brief
    assert brief.partial and [f.source_path for f in brief.failures] == ["short.txt"]
    assert "the batch gave no valid answer; to ask it live, run again with --live-rest" in brief.failures[0].reason
    assert [a.id for a in brief.articles] == ["long"]


def test_batch_merge_sends_the_merge_as_a_batch_validated_like_a_live_answer(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    merges: list[int] = []

    def wrong_first_merge(body: dict[str, Any]) -> dict[str, Any]:
        answer = respond(body)
        if "executive_summary" in answer and not merges:  # the first merge answer cites an article not given
            merges.append(1)
            answer = {**answer, "executive_summary": [{"text": "Made up.", "article_ids": ["elsewhere"]}]}
        return answer

    with FakeBatches(wrong_first_merge) as server:
        cfg = _config(folder, out, tmp_path / "cache", server.base_url)
        submit(cfg)
        for _ in range(2):  # the articles' batch, then the reduce call and the re-ask
            _finish(out, server)
            collected = collect(out, batch_merge=True, base_url=server.base_url, folder=folder)
        assert collected.stage == "merge" and collected.retried == 0
        assert [_schema(x) for x in _shard_lines(out, 3)] == ["BriefDraft"]
        _finish(out, server)
        collected = collect(out, batch_merge=True, base_url=server.base_url, folder=folder)
        assert [r.subject for r in collected.rejected] == ["merge of 'brief'"]
        assert "elsewhere" in collected.rejected[0].reason  # rejected as a live answer would be
        assert collected.stage == "merge" and collected.retried == 1 and collected.result is None
        _finish(out, server)
        collected = collect(out, batch_merge=True, base_url=server.base_url, folder=folder)
        assert collected.result is not None and collected.result.exit_code == 0
        assert server.requests == []  # not one live request
        assert len(server.batches) == 4
    assert brief_files(out) == _live(tmp_path, folder)


def test_export_again_after_an_import_carries_the_second_round_for_an_offline_engine(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    cache = tmp_path / "cache"

    def engine(requests: Path, results: Path) -> list[dict[str, Any]]:
        """vLLM's part: answer every request of the file (with the same model as the live run)."""
        lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
        results.write_text("".join(json.dumps(answer_line(n, x, responder=respond), ensure_ascii=False) + "\n"
                                   for n, x in enumerate(lines, 1)), encoding="utf-8")
        return lines

    with FakeOpenAI(respond) as server:
        cfg = _config(folder, tmp_path / "out", cache, server.base_url)
        first = export(cfg, tmp_path / "r1.jsonl")
        assert {_schema(x) for x in engine(tmp_path / "r1.jsonl", tmp_path / "a1.jsonl")} == {"ArticleExtraction"}
        assert import_file(tmp_path / "a1.jsonl", cache)[0].imported == first.requests
        second = export(cfg, tmp_path / "r2.jsonl")
        assert second.requests == 2 and second.answered == first.requests
        assert sorted(_schema(x) for x in engine(tmp_path / "r2.jsonl", tmp_path / "a2.jsonl")) == \
            ["ArticleDigest", "ArticleExtraction"]  # the reduce call and the re-ask
        assert import_file(tmp_path / "a2.jsonl", cache)[0].imported == 2
        assert export(cfg, tmp_path / "r3.jsonl").requests == 0
        result = asyncio.run(run(cfg))
        assert [r["tools"][0]["function"]["name"] for r in server.requests] == ["BriefDraft"]  # the merge only
    assert result.exit_code == 0
    assert brief_files(tmp_path / "out") == _live(tmp_path, folder)


def test_a_merge_over_the_budget_goes_as_one_batch_of_story_calls_then_the_overview(tmp_path: Path) -> None:
    from conftest import FIXTURES

    out = tmp_path / "out"
    with FakeBatches(echo_model.respond) as server:
        cfg = replace(_config(FIXTURES / "articles", out, tmp_path / "cache", server.base_url), merge_budget=100,
                      max_input_tokens=12_000)
        submit(cfg)
        _finish(out, server)
        collected = collect(out, batch_merge=True, base_url=server.base_url, folder=cfg.folder)
        stories = [_schema(x) for x in _shard_lines(out, 2)]
        assert collected.stage == "merge" and len(stories) > 1 and set(stories) == {"StoriesDraft"}
        _finish(out, server)
        collected = collect(out, batch_merge=True, base_url=server.base_url, folder=cfg.folder)
        assert collected.stage == "merge" and [_schema(x) for x in _shard_lines(out, 3)] == ["BriefOverview"]
        _finish(out, server)
        collected = collect(out, batch_merge=True, base_url=server.base_url, folder=cfg.folder)
        assert collected.result is not None and server.requests == [] and len(server.batches) == 3
    with FakeOpenAI(echo_model.respond) as server:
        live = replace(_config(FIXTURES / "articles", tmp_path / "live", tmp_path / "live-cache", server.base_url),
                       merge_budget=100, max_input_tokens=12_000)
        assert asyncio.run(run(live)).exit_code == 0
        assert sum(_schema({"body": r}) == "StoriesDraft" for r in server.requests) == len(stories)
    assert brief_files(out) == brief_files(tmp_path / "live")


def test_follow_up_batches_are_held_to_max_cost_with_the_batches_before_them(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    with FakeBatches(respond) as server:
        cfg = replace(_config(folder, out, tmp_path / "cache", server.base_url), price="1,2")
        first = estimate(next_requests(cfg, batched_stages(False, False)).calls, cfg).cost
        assert first is not None
        submit(replace(cfg, max_cost=first * 1.01))  # room for the first batch, not for the follow-up
        _finish(out, server)
        with pytest.raises(BudgetExceeded) as info:
            collect(out, base_url=server.base_url, folder=folder)
        assert "follow-up batch not submitted: its 2 requests would bring the batches' estimated cost to $" \
            in str(info.value) and f"over --max-cost ${first * 1.01:g}" in str(info.value)
        assert len(server.batches) == 1 and server.requests == []


def test_resuming_with_another_model_or_folder_is_refused_not_mixed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    with FakeBatches(respond) as server:
        cfg = _config(folder, out, tmp_path / "cache", server.base_url)
        submit(cfg)
        assert submit(cfg).resumed and len(server.batches) == 1
        other = tmp_path / "other"
        other.mkdir()
        for changed, named in ((replace(cfg, endpoint=replace(cfg.endpoint, model="gpt-4o")),
                                "this run differs in --model: give the same, or another --out"),
                               (replace(cfg, folder=other),
                                f"the folder (state.json: {folder}, this command: {other})")):
            with pytest.raises(UsageError) as info:
                submit(changed)
            assert named in str(info.value)
        assert len(server.batches) == 1


def test_the_stored_run_options_keep_every_endpoint_option(tmp_path: Path) -> None:
    # A collect's --live-rest calls and its brief use the submission's options, every one of them: an option
    # added to EndpointConfig later (--stream, --max-time) must not fall back to its default on the way.
    endpoint = EndpointConfig(model="local", mode="json", base_url="http://127.0.0.1:9/v1", timeout=300,
                              max_time=1800, stream=True, max_retries=1, max_reasks=0, temperature=0.2,
                              max_tokens=3000, rpm=30, tpm=9000, frequency_penalty=0.5, presence_penalty=0.1,
                              extra_body='{"repeat_penalty": 1.1}')
    cfg = RunConfig(folder=tmp_path / "articles", out_dir=tmp_path / "out", endpoint=endpoint)
    stored = json.loads(json.dumps(run_options(cfg), ensure_ascii=False))  # as state.json holds it
    assert config_from(stored, tmp_path / "out").endpoint == endpoint
