"""Cost: usage per stage, an estimated price, --max-cost stops before the budget, --dry-run calls nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from pathlib import Path

import pytest

import echo_model
from briefer.errors import UsageError
from briefer.model.costs import price_for
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, dry_run, run
from conftest import FIXTURES, SEED_IDS
from fake_openai import FakeOpenAI
from test_cli import briefer


def test_price_table_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    p = price_for("gpt-4o-mini")
    assert p is not None and (p.input_per_million, p.output_per_million) == (0.15, 0.60)
    dated = price_for("gpt-4o-mini-2024-07-18")
    assert dated is not None and dated.input_per_million == 0.15  # a snapshot finds its family
    four = price_for("gpt-4o")
    assert four is not None and four.input_per_million == 2.50  # not gpt-4o-mini's
    assert price_for("qwen2.5:14b") is None  # a local model has no price unless given one
    override = price_for("qwen2.5:14b", "0,0")
    assert override is not None and override.cost(10**6, 10**6) == 0
    monkeypatch.setenv("BRIEFER_PRICE", "1,2")
    env = price_for("anything")
    assert env is not None and env.cost(10**6, 10**6) == 3
    with pytest.raises(UsageError, match="--price must be 'IN,OUT'"):
        price_for("m", "cheap")


def test_usage_per_stage_and_cost_are_reported(tmp_path: Path) -> None:
    with FakeOpenAI(echo_model.respond) as server:
        result = asyncio.run(run(RunConfig(
            folder=FIXTURES / "articles", out_dir=tmp_path, date="2026-11-22", cache_dir=None,
            recordings_dir=tmp_path / "none", endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))))
        billed = server.billed
    report = result.report
    spent = report.spent
    assert set(report.by_stage) == {"extract", "merge"}
    assert sum(u.spent.prompt_tokens for u in report.by_stage.values()) == spent.prompt_tokens == sum(
        b["prompt_tokens"] for b in billed)
    assert report.price is not None and "gpt-4o-mini" in report.price
    expected = (spent.prompt_tokens * 0.15 + spent.completion_tokens * 0.60) / 1e6
    assert spent.cost_usd_est == pytest.approx(expected, abs=1e-6)
    assert report.replayed.answers == 0 and report.replayed.cost_usd_when_asked == 0
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8")) == report.model_dump(mode="json")


def test_max_cost_stops_before_the_budget_is_exceeded(tmp_path: Path) -> None:
    # Each echo request is estimated at about $0.0017 at this price (the schema is most of it): the budget
    # allows about two.
    with FakeOpenAI(echo_model.respond) as server:
        result = asyncio.run(run(RunConfig(
            folder=FIXTURES / "articles", out_dir=tmp_path, date="2026-11-22", cache_dir=None, concurrency=1,
            recordings_dir=tmp_path / "none", price="0.25,0.5", max_cost=0.004,
            endpoint=EndpointConfig(model="local", base_url=server.base_url))))
        sent = len(server.requests)
    assert result.exit_code == 3
    assert {f.kind for f in result.brief.failures} == {"budget_exceeded"}
    assert any("not sent: --max-cost $0.004 would be exceeded" in f.reason for f in result.brief.failures)
    assert 1 <= sent < len(SEED_IDS) + 1  # stopped before sending everything
    spent = result.report.spent
    assert (spent.prompt_tokens * 0.25 + spent.completion_tokens * 0.5) / 1e6 <= 0.004  # never over budget


def test_max_cost_needs_a_price(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--max-cost needs the price of 'local-model'"):
        asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, max_cost=1.0,
                                  endpoint=EndpointConfig(model="local-model", base_url="http://127.0.0.1:9/v1"))))


def test_dry_run_estimates_without_calling_or_writing(tmp_path: Path, fixture_copy: Path) -> None:
    with socket.socket() as s:  # an endpoint with nobody listening: a dry run must not need it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = briefer("summarize", str(fixture_copy / "articles"), "--dry-run", "--no-cache", "--out", str(tmp_path / "o"),
                "--recordings", str(tmp_path / "none"), "--base-url", f"http://127.0.0.1:{port}/v1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["article", "requests"]
    assert sum(1 for ln in lines if ln.endswith("to send")) == len(SEED_IDS) + 1
    assert "to send: 6 requests (0 already answered)" in r.stdout and "estimated cost $" in r.stdout
    assert "fixed prompt tokens per article request" in r.stdout
    assert not (tmp_path / "o").exists()


def test_dry_run_sees_what_is_already_answered(fixture_copy: Path) -> None:
    plan = dry_run(RunConfig(folder=fixture_copy / "articles", cache_dir=None))
    assert all(r.cached for r in plan.rows) and plan.totals()[0] == 0 and plan.cost == 0
    assert plan.fixed_prompt_tokens > 1000
    assert json.dumps([r.subject for r in plan.rows]).count("(merge)") == 1


def test_max_cost_holds_with_many_requests_in_flight(tmp_path: Path) -> None:
    """Each request reserves its estimated cost before it is sent: 32 at once cannot all pass the
    same check and overrun the cap together (they ended at 7.4x the cap before)."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(40):
        (folder / f"a{n:02d}.txt").write_text(f"Headline {n}\nParagraph one of article {n}.\nParagraph two.\n",
                                              encoding="utf-8")
    price, cap = "1000,1000", 10.0
    with FakeOpenAI(echo_model.respond, latency=0.2) as server:
        result = asyncio.run(run(RunConfig(
            folder=folder, out_dir=tmp_path / "out", date="2026-11-22", cache_dir=None, concurrency=32,
            recordings_dir=tmp_path / "none", price=price, max_cost=cap,
            endpoint=EndpointConfig(model="local", base_url=server.base_url))))
        billed = list(server.billed)
    spent = sum(b["prompt_tokens"] * 1000 + b["completion_tokens"] * 1000 for b in billed) / 1e6
    assert 1 <= len(billed) < 40  # some were sent, most were not
    assert spent <= cap, f"billed ${spent:.2f} against a ${cap:g} cap"
    spent_est = result.report.spent.cost_usd_est
    assert spent_est is not None and spent_est <= cap
    assert result.exit_code == 3 and "budget_exceeded" in {f.kind for f in result.brief.failures}


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_max_cost_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    with pytest.raises(UsageError, match="--max-cost must be a positive number"):
        asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, max_cost=float(value),
                                  price="1,1", endpoint=EndpointConfig(model="m", base_url="http://127.0.0.1:9/v1"))))
    r = briefer("summarize", str(FIXTURES / "articles"), "--max-cost", value, "--price", "1,1", "--out",
                str(tmp_path / "o"), "--base-url", "http://127.0.0.1:9/v1")
    assert r.returncode == 2 and "--max-cost" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("value", ["nan,1", "1,inf"])
def test_price_must_be_finite(value: str) -> None:
    with pytest.raises(UsageError, match="--price must be finite numbers"):
        price_for("m", value)


def test_dry_run_sees_a_merge_in_batches_already_answered(tmp_path: Path) -> None:
    # A merge over the budget is asked in batches, then an overview: a dry run after the run must find every one
    # of those calls answered (it once looked for the single merge call such a folder never makes, and priced the
    # merge as still to send).
    cfg = RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path / "out", date="2026-11-22",
                    cache_dir=tmp_path / "cache", recordings_dir=tmp_path / "none", merge_budget=600,
                    endpoint=EndpointConfig(model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1"))
    with FakeOpenAI(echo_model.respond) as server:
        endpoint = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url)
        result = asyncio.run(run(dataclasses.replace(cfg, endpoint=endpoint)))
        requests = len(server.requests)
    assert result.report.by_stage.keys() >= {"merge_stories", "merge_overview"}  # it did batch
    assert requests - len(SEED_IDS) >= 3  # two batches or more, then the overview
    plan = dry_run(cfg)
    assert all(r.cached for r in plan.rows), [r for r in plan.rows if not r.cached]
    assert plan.totals()[0] == 0 and plan.cost == 0
    # And with one batch's answer gone from the cache, the merge is to send again.
    for entry in (tmp_path / "cache").rglob("*.json"):
        if '"merge_overview"' in entry.read_text(encoding="utf-8"):
            entry.unlink()
    assert not dry_run(cfg).rows[-1].cached
