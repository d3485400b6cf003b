"""Complete answers from a server that answers like a capable model: the reference recordings at their full size,
cut at max_tokens (finish_reason "length") as vLLM, llama.cpp, Ollama and OpenAI cut them (fake_openai.py).
Briefer's own default cap must never cut a complete answer; its estimates must match what the answers bill."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from briefer.model.costs import price_for
from briefer.model.llm import EndpointConfig
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
    stats = result.brief.stats
    assert result.exit_code == 0 and cached > 4 * 1024  # the fixed prefix, from the second article on
    assert stats.cached_tokens == cached
    assert PRICE is not None and stats.cost_usd_est is not None
    assert abs(stats.cost_usd_est - PRICE.cost(stats.prompt_tokens, stats.completion_tokens, cached)) < 1e-6
    assert stats.cost_usd_est < PRICE.cost(stats.prompt_tokens, stats.completion_tokens)
