"""Complete answers from a server that answers like a capable model: the reference recordings at their full size,
cut at max_tokens (finish_reason "length") as vLLM, llama.cpp, Ollama and OpenAI cut them (fake_openai.py).
Briefer's own default cap must never cut a complete answer; its estimates must match what the answers bill."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from briefer.model.costs import price_for
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, RunResult, dry_run, run
from conftest import SEED_IDS, reference_responder
from fake_openai import FakeOpenAI

PRICE = price_for("gpt-4o-mini")


def _run(folder: Path, out: Path, server: FakeOpenAI, **options: Any) -> RunResult:
    cfg = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url)
    return asyncio.run(run(RunConfig(folder=folder, out_dir=out, date="2026-11-22", cache_dir=None,
                                     recordings_dir=out.parent / "none", endpoint=cfg, **options)))


def test_the_seed_folder_is_answered_whole_under_the_default_cap(tmp_path: Path, fixture_copy: Path) -> None:
    with FakeOpenAI(reference_responder()) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", server)
    assert result.exit_code == 0, result.brief.failures
    assert sorted(a.id for a in result.summaries) == SEED_IDS
    for article in result.summaries:
        assert article.warnings == []  # nothing kept in part, nothing cut
        assert len(article.translation_en) == len(article.paragraphs_original) > 0
    assert len(server.requests) == 6  # five articles and the merge, each answered at once
    for body, billed in zip(server.requests, server.billed, strict=True):
        assert 1.3 * billed["completion_tokens"] < body["max_tokens"]  # room to spare over the complete answer


def test_the_dry_run_is_within_a_quarter_of_the_bill(tmp_path: Path, fixture_copy: Path) -> None:
    folder = fixture_copy / "articles"
    plan = dry_run(RunConfig(folder=folder, cache_dir=None, recordings_dir=tmp_path / "none",
                             endpoint=EndpointConfig(model="gpt-4o-mini")))
    _, _, prompt_est, completion_est = plan.totals()
    with FakeOpenAI(reference_responder()) as server:
        result = _run(folder, tmp_path / "out", server)
    assert result.exit_code == 0
    billed_prompt = sum(b["prompt_tokens"] for b in server.billed)
    billed_completion = sum(b["completion_tokens"] for b in server.billed)
    assert len(server.billed) == 6  # five articles and the merge, each answered once
    assert abs(prompt_est / billed_prompt - 1) <= 0.25, (prompt_est, billed_prompt)
    assert abs(completion_est / billed_completion - 1) <= 0.25, (completion_est, billed_completion)


def test_a_cache_of_billed_answers_calibrates_the_estimates(tmp_path: Path, fixture_copy: Path) -> None:
    """Estimates scale with the answers billed for this model and prompt: a model twice as wordy on the first
    articles is planned twice as wordy on the next."""
    folder = fixture_copy / "articles"
    answers = reference_responder()

    def wordy(body: dict[str, Any]) -> dict[str, Any]:
        answer = dict(answers(body))
        if "translation_en" in answer:
            answer["topics"] = answer["topics"] + [" ".join(answer["translation_en"])]  # about a translation more
        return answer

    part = tmp_path / "part"
    part.mkdir()
    for name in SEED_IDS[:3]:
        shutil.copy(folder / f"{name}.txt", part / f"{name}.txt")
    cfg = EndpointConfig(model="gpt-4o-mini")
    before = dry_run(RunConfig(folder=folder, cache_dir=tmp_path / "cache", recordings_dir=tmp_path / "none",
                               endpoint=cfg))
    with FakeOpenAI(wordy) as server:
        asyncio.run(run(RunConfig(folder=part, out_dir=tmp_path / "out", date="2026-11-22",
                                  cache_dir=tmp_path / "cache", recordings_dir=tmp_path / "none",
                                  endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))))
        billed = [b["completion_tokens"] for b in server.billed]
    after = dry_run(RunConfig(folder=folder, cache_dir=tmp_path / "cache", recordings_dir=tmp_path / "none",
                              endpoint=cfg))
    rows = {r.subject: r for r in after.rows}
    old = {r.subject: r for r in before.rows}
    answered = [rows[name] for name in SEED_IDS[:3]]
    assert all(r.cached for r in answered) and not any(rows[name].cached for name in SEED_IDS[3:])
    factor = sum(billed[:3]) / sum(old[name].completion_tokens for name in SEED_IDS[:3])
    assert factor > 1.1
    for name in SEED_IDS[3:]:
        assert abs(rows[name].completion_tokens / (old[name].completion_tokens * factor) - 1) < 0.02


def test_max_cost_holds_within_a_tenth_at_concurrency_16(tmp_path: Path, fixture_copy: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(4):  # twenty articles: four copies of each seed article, each its own id
        for name in SEED_IDS:
            text = (fixture_copy / "articles" / f"{name}.txt").read_text(encoding="utf-8")
            (folder / f"{n}_{name}.txt").write_text(text + f"\n\n({n})\n", encoding="utf-8")
    assert PRICE is not None
    cap = 0.03  # about a third of the twenty articles
    with FakeOpenAI(reference_responder(), latency=0.2) as server:
        result = _run(folder, tmp_path / "out", server, concurrency=16, max_cost=cap, price=None)
        billed = list(server.billed)
    spent = sum(PRICE.cost(b["prompt_tokens"], b["completion_tokens"]) for b in billed)
    assert 3 <= len(billed) < 20
    assert spent <= 1.10 * cap, f"billed ${spent:.4f} against a ${cap:g} cap"
    assert result.exit_code == 3 and "budget_exceeded" in {f.kind for f in result.brief.failures}


def test_cached_prompt_tokens_are_counted_and_priced(tmp_path: Path, fixture_copy: Path) -> None:
    with FakeOpenAI(reference_responder(), prompt_cache=True) as server:
        result = _run(fixture_copy / "articles", tmp_path / "out", server, concurrency=1)
        billed = list(server.billed)
    cached = sum(b.get("prompt_tokens_details", {}).get("cached_tokens", 0) for b in billed)
    spent = result.report.spent
    assert result.exit_code == 0 and cached > 4 * 1024  # the fixed prefix, from the second article on
    assert spent.cached_tokens == cached
    assert PRICE is not None and spent.cost_usd_est is not None
    assert abs(spent.cost_usd_est - PRICE.cost(spent.prompt_tokens, spent.completion_tokens, cached)) < 1e-6
    assert spent.cost_usd_est < PRICE.cost(spent.prompt_tokens, spent.completion_tokens)
    run_json = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run_json["spent"]["cached_tokens"] == cached
    from briefer.render.run import closing_line

    assert f", {cached} of the prompt cached)" in closing_line(result.brief, result.report, tmp_path / "out")


def test_the_longest_article_built_from_the_seed_is_read_whole_in_parts(tmp_path: Path) -> None:
    """Every seed article's paragraphs, then all of them again (each with a prefix, so that cleaning keeps them):
    an article of over 30,000 characters, whose answer in one request would pass any model's output limit. It is
    read in parts whose answers fit, each under the default cap, and comes out fully translated."""
    from briefer.ingest.folder import read_folder
    from conftest import FIXTURES
    from reference_model import respond

    seed = read_folder(FIXTURES / "articles").articles
    body = [p for a in seed for p in a.paragraphs] + [f"(2) {p}" for a in seed for p in a.paragraphs]
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "long.txt").write_text(seed[0].title + "\n" + "\n".join(body) + "\n", encoding="utf-8")
    assert len((folder / "long.txt").read_text(encoding="utf-8")) > 30_000
    with FakeOpenAI(respond) as server:
        result = _run(folder, tmp_path / "out", server)
    assert result.exit_code == 0, result.brief.failures
    [summary] = result.summaries
    assert summary.warnings == [] and len(summary.translation_en) == len(body)
    assert summary.translation_en[-1].startswith("(2) ")
    parts = [r for r in server.requests if r["tools"][0]["function"]["name"] == "ArticleExtraction"]
    assert len(parts) >= 3
    for request, billed in zip(server.requests, server.billed, strict=True):
        assert billed["completion_tokens"] < request["max_tokens"] and billed["completion_tokens"] < 16_384


def test_the_fixed_prefix_is_small_identical_and_first(fixture_copy: Path) -> None:
    """System prompt and schema: at most 2,000 tokens per article request, byte for byte the same for every
    article, and before anything of the article (so provider-side prompt caching applies)."""
    from briefer.extract.article import planned_calls
    from briefer.ingest.folder import read_folder
    from briefer.model.openai.body import request_tokens, wire_request
    from briefer.model.prompts import Prompts

    articles = read_folder(fixture_copy / "articles").articles
    calls = [planned_calls(a, Prompts(None), 12_000)[0] for a in articles]
    for mode in ("tools", "json_schema"):
        config = EndpointConfig(model="gpt-4o-mini", mode=mode)
        bodies = [wire_request(config, c.messages, c.response_model)[1] for c in calls]
        assert len({json.dumps(b["messages"][0], ensure_ascii=False) for b in bodies}) == 1
        assert all(b["messages"][0]["role"] == "system" and a.id not in b["messages"][0]["content"]
                   for a, b in zip(articles, bodies, strict=True))
        assert len({json.dumps(b.get("tools") or b.get("response_format")) for b in bodies}) == 1
        fixed = request_tokens({**bodies[0], "messages": bodies[0]["messages"][:1]})
        assert 1_000 < fixed <= 2_000, (mode, fixed)
    plan = dry_run(RunConfig(folder=fixture_copy / "articles", cache_dir=None))
    assert plan.fixed_prompt_tokens <= 2_000
