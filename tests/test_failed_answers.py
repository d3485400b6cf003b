"""A failed answer is stored, and replayed as the failure it was (issue 13: "the cache replays the run with 0
requests"): an answer still invalid after its re-asks, of which nothing can be kept, costs as much as a good one,
and asking the same request again at temperature 0 gets the same answer. `--retry-failed` asks it again. Failures
of the transport (5xx, timeouts) are never stored: asked again, they may succeed.

Against a local OpenAI-compatible server (tests/fake_openai.py) through the real openai client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from briefer.cli import app
from conftest import reference_responder
from fake_openai import FakeOpenAI, FaultPlan
from test_faults import A

ASKS_A = f"Article id: {A}"


def _summarize(server: FakeOpenAI, articles: Path, out: Path, cache: Path, *extra: str) -> Any:
    return CliRunner().invoke(app, ["summarize", str(articles), "--base-url", server.base_url, "--out", str(out),
                                    "--date", "2026-11-22", "--cache-dir", str(cache), "--max-reasks", "0",
                                    "--max-retries", "0", *extra])


def _asked(server: FakeOpenAI, text: str) -> int:
    return sum(1 for b in server.requests if text in json.dumps(b["messages"], ensure_ascii=False))


def _failure_line(output: str, source: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("briefer: failed: ") and source in line)


def test_a_failed_answer_is_replayed_from_the_cache_until_retry_failed(tmp_path: Path, fixture_copy: Path) -> None:
    articles, cache = fixture_copy / "articles", tmp_path / "cache"
    rec = ["--recordings", str(tmp_path / "rec")]
    with FakeOpenAI(reference_responder(), FaultPlan({ASKS_A: ["schema"]})) as server:
        first = _summarize(server, articles, tmp_path / "first", cache, *rec, "--record")
        assert first.exit_code == 3, first.output
        line = _failure_line(first.output, A)
        assert "still invalid after 0 re-asks" in line and "cached failure" not in line
        raw = (tmp_path / "first" / "failed" / f"{A}.txt").read_text(encoding="utf-8")
        assert '"language": 5' in raw or '"language":5' in raw
        sent = len(server.requests)

        # The same command again: nothing is sent, the same failure is reported, and says where it comes from.
        again = _summarize(server, articles, tmp_path / "again", cache, *rec)
        assert again.exit_code == 3, again.output
        assert len(server.requests) == sent
        assert "0 model calls (0 HTTP requests)" in again.output
        replayed = _failure_line(again.output, A)
        reason = line.split(" (last raw output: ")[0]
        assert replayed.startswith(reason + " (cached failure; --retry-failed to ask again) (last raw output: ")
        assert (tmp_path / "again" / "failed" / f"{A}.txt").read_text(encoding="utf-8") == raw
        brief = json.loads((tmp_path / "again" / "brief.json").read_text(encoding="utf-8"))
        assert f"{A}.txt" in [f["source_path"] for f in brief["failures"]]

        # The recording holds the failure too: an offline replay without the cache reports it the same way.
        offline = CliRunner().invoke(app, ["summarize", str(articles), "--offline", "--no-cache", *rec,
                                           "--out", str(tmp_path / "offline"), "--date", "2026-11-22"])
        assert offline.exit_code == 3, offline.output
        assert "(recorded failure; --retry-failed to ask again)" in _failure_line(offline.output, A)
        refused = CliRunner().invoke(app, ["summarize", str(articles), "--offline", "--retry-failed", *rec,
                                           "--out", str(tmp_path / "refused")])
        assert refused.exit_code == 2 and "--retry-failed asks the model again" in refused.output

        # --retry-failed asks it again (the server now answers well), and the good answer replaces the failure.
        retried = _summarize(server, articles, tmp_path / "retried", cache, *rec, "--retry-failed")
        assert retried.exit_code == 0, retried.output
        assert _asked(server, ASKS_A) == 2
        assert not (tmp_path / "retried" / "failed" / f"{A}.txt").exists()
        sent = len(server.requests)
        last = _summarize(server, articles, tmp_path / "last", cache, *rec)
        assert last.exit_code == 0, last.output
        assert len(server.requests) == sent and "0 model calls (0 HTTP requests)" in last.output


@pytest.mark.parametrize("fault", ["500", "hang:3"])
def test_a_transport_failure_is_never_stored(tmp_path: Path, fixture_copy: Path, fault: str) -> None:
    articles, cache = fixture_copy / "articles", tmp_path / "cache"
    with FakeOpenAI(reference_responder(), FaultPlan({ASKS_A: [fault]})) as server:
        first = _summarize(server, articles, tmp_path / "first", cache, "--timeout", "1",
                           "--recordings", str(tmp_path / "none"))
        assert first.exit_code == 3, first.output
        line = _failure_line(first.output, A)
        assert ("HTTP 500" in line) if fault == "500" else ("timed out" in line)
        again = _summarize(server, articles, tmp_path / "again", cache, "--recordings", str(tmp_path / "none"))
        assert again.exit_code == 0, again.output  # asked again, and answered
        assert _asked(server, ASKS_A) == 2


def test_a_failed_merge_answer_is_replayed_and_the_brief_still_written(tmp_path: Path, fixture_copy: Path) -> None:
    reference = reference_responder()
    merges: list[int] = []

    def bad_merge(body: dict[str, Any]) -> dict[str, Any]:
        answer = reference(body)
        if "translation_en" in answer:
            return answer
        merges.append(1)
        return {**answer, "title": ""}  # breaks the schema: nothing of it is kept

    articles, cache = fixture_copy / "articles", tmp_path / "cache"
    with FakeOpenAI(bad_merge) as server:
        first = _summarize(server, articles, tmp_path / "first", cache, "--recordings", str(tmp_path / "none"))
        assert first.exit_code == 3, first.output
        assert "still invalid" in _failure_line(first.output, "(merge)")
        assert merges == [1]
        again = _summarize(server, articles, tmp_path / "again", cache, "--recordings", str(tmp_path / "none"))
        assert again.exit_code == 3, again.output
        assert merges == [1] and "0 model calls (0 HTTP requests)" in again.output
        assert "(cached failure; --retry-failed to ask again)" in _failure_line(again.output, "(merge)")
        md = (tmp_path / "again" / "brief.md").read_text(encoding="utf-8")
        assert "merge step failed" in md
        assert (tmp_path / "again" / "failed" / "_merge.txt").is_file()
