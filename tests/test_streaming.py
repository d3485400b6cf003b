"""Streamed answers through the real openai client against servers on 127.0.0.1: --timeout bounds each
silence (connecting, before the first token, between two), --max-time the whole answer; a server that
trickles tokens is cut at --max-time and not retried, one that stalls is cut at --timeout and retried;
a server that cannot stream is read all the same; streamed and non-streamed runs give the same answers."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient
from briefer.models import ArticleExtraction
from briefer.pipeline import RunConfig, RunResult, run
from conftest import reference_responder
from fake_openai import FakeOpenAI, FaultPlan

A = "000_6f0ae3a4b7243325"


def _run(tmp_path: Path, fixture_copy: Path, plan: dict[str, list[str]],
         tokens: list[int] | None = None, **endpoint: Any) -> tuple[RunResult, FakeOpenAI, float]:
    server = FakeOpenAI(reference_responder(), FaultPlan(plan))
    with server:
        cfg = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, backoff_base=0.01, backoff_max=0.02,
                             **{"stream": True, **endpoint})
        run_cfg = RunConfig(folder=fixture_copy / "articles", out_dir=tmp_path / "out", date="2026-11-22",
                            cache_dir=None, recordings_dir=tmp_path / "none", endpoint=cfg)
        started = time.monotonic()
        on_tokens = tokens.append if tokens is not None else None
        result = asyncio.run(run(run_cfg, client_factory=lambda: ModelClient(cfg, on_tokens=on_tokens)))
    return result, server, time.monotonic() - started


def _requests(server: FakeOpenAI, article_id: str) -> list[dict[str, Any]]:
    return [r for r in server.requests if f"Article id: {article_id}" in str(r["messages"][1]["content"])]


def _failure(result: RunResult, article_id: str) -> str:
    return next(f.reason for f in result.brief.failures if f.source_path.startswith(article_id))


def test_trickling_tokens_are_cut_at_max_time_not_at_timeout(tmp_path: Path, fixture_copy: Path) -> None:
    """A chunk every 0.1 s: the idle limit (1 s) is never reached, the total (2 s) is, and the attempt is not
    retried; the partial answer is kept as the raw output, with the pace in the reason."""
    result, server, took = _run(tmp_path, fixture_copy, {A: ["trickle:0.1"] * 3}, timeout=1, max_time=2)
    assert result.exit_code == 3 and len(_requests(server, A)) == 1
    assert took < 20
    reason = _failure(result, A)
    assert "took longer than --max-time 2s for one answer" in reason and "tokens streamed" in reason
    assert "tokens/s" in reason and "not retried" in reason
    raw = (tmp_path / "out" / "failed" / f"{A}.txt").read_text(encoding="utf-8")
    assert raw.startswith('{"language"') and len(raw) > 100  # what had come when the cut came
    assert len(result.summaries) == 4  # the other articles streamed normally


def test_a_stalled_stream_is_cut_at_timeout_and_retried(tmp_path: Path, fixture_copy: Path) -> None:
    """Three chunks, then 4 s of silence: cut at the 1 s idle limit well before --max-time, retried, answered."""
    result, server, took = _run(tmp_path, fixture_copy, {A: ["stall:4"]}, timeout=1, max_time=60)
    assert result.exit_code == 0, result.brief.failures
    assert len(_requests(server, A)) == 2 and took < 20


def test_a_stream_stalled_every_time_names_timeout(tmp_path: Path, fixture_copy: Path) -> None:
    result, server, _ = _run(tmp_path, fixture_copy, {A: ["stall:3"] * 2}, timeout=1, max_time=60, max_retries=1)
    assert result.exit_code == 3 and len(_requests(server, A)) == 2
    assert "timed out (nothing received for 1s; a slow endpoint, such as a local model on a CPU, needs a larger " \
        "--timeout) after 2 HTTP attempts" in _failure(result, A)


def test_a_server_that_cannot_stream_is_read_all_the_same(tmp_path: Path, fixture_copy: Path) -> None:
    result, server, _ = _run(tmp_path, fixture_copy, {"*": ["nostream"] * 20})
    assert result.exit_code == 0, result.brief.failures
    assert all(r.get("stream") is True for r in server.requests)


def test_streamed_and_whole_answers_are_the_same(tmp_path: Path, fixture_copy: Path) -> None:
    """The same run streamed and not: the same summaries and usage; tokens counted as they streamed."""
    tokens: list[int] = []
    streamed, server, _ = _run(tmp_path / "s", fixture_copy, {}, tokens=tokens)
    whole, _, _ = _run(tmp_path / "w", fixture_copy, {}, stream=False)
    assert streamed.exit_code == whole.exit_code == 0
    assert [s.model_dump() for s in streamed.summaries] == [s.model_dump() for s in whole.summaries]
    assert streamed.brief.stats.model_dump() == whole.brief.stats.model_dump()
    assert sum(tokens) > 100 and set(tokens) == {1}
    assert all(r["stream_options"] == {"include_usage": True} for r in server.requests)


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
def test_every_mode_streams_a_refusal_and_an_answer_cut_at_max_tokens(mode: str) -> None:
    """A streamed refusal is a refusal, a streamed answer cut at max_tokens is reported as such, in every mode."""
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "Article id: x\n<<<DATA-0\n"
                                                   "HEADLINE: h\n[0] p\nDATA-0>>>"}]

    async def ask(cfg: EndpointConfig) -> str:
        client = ModelClient(cfg)
        try:
            await client.complete(messages, ArticleExtraction, {"paragraph_count": 1})
        except Exception as exc:
            return str(exc)
        finally:
            await client.aclose()
        return "answered"

    for fault, said in (("refusal", "the model refused: I'm sorry"), ("length", "cut off at the token limit")):
        with FakeOpenAI(reference_responder(), FaultPlan({"*": [fault] * 5})) as server:
            cfg = EndpointConfig(model="m", mode=mode, base_url=server.base_url, max_reasks=0, stream=True)
            assert said in asyncio.run(ask(cfg))
        assert json.loads(server.raw[0])["stream"] is True


def test_the_command_line_streams_with_its_limits(tmp_path: Path, fixture_copy: Path) -> None:
    """`--stream --timeout 1 --max-time 2` against a trickling server: one line naming --max-time, exit 3; the
    other articles streamed; quiet output off a terminal (no tokens per second line)."""
    import os
    import subprocess
    import sys

    with FakeOpenAI(reference_responder(), FaultPlan({A: ["trickle:0.1"] * 3})) as server:
        r = subprocess.run([sys.executable, "-m", "briefer", "summarize", str(fixture_copy / "articles"), "--out",
                            str(tmp_path / "out"), "--no-cache", "--recordings", str(tmp_path / "none"),
                            "--base-url", server.base_url, "--stream",
                            "--timeout", "1", "--max-time", "2", "--date", "2026-11-22"],
                           capture_output=True, text=True, encoding="utf-8", timeout=120,
                           env={k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")})
    assert r.returncode == 3, r.stderr
    assert "took longer than --max-time 2s" in r.stderr and "tokens/s" in r.stderr
    assert "Traceback" not in r.stderr and "tokens/s" not in r.stderr.replace("tokens/s; not retried", "")
    assert all(req.get("stream") is True for req in server.requests)
