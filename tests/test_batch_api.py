"""`briefer batch submit/status/collect/cancel` against a Files + Batches API server on 127.0.0.1
(tests/fake_batches.py), through the real openai client, as a user runs the commands (subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import echo_model
from briefer.model.batch import Shard, eta
from conftest import FIXTURES, ROOT, SEED_IDS
from fake_batches import FakeBatches
from fake_openai import FakeOpenAI
from test_batch_files import brief_files

NOT_READY = 75


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}


def briefer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True, cwd=ROOT,
                          env=_env(), timeout=180, encoding="utf-8")


def submit_args(tmp: Path, server: FakeBatches, *extra: str) -> list[str]:
    return ["batch", "submit", str(FIXTURES / "articles"), "--out", str(tmp / "out"), "--cache-dir",
            str(tmp / "cache"), "--recordings", str(tmp / "no-recordings"), "--base-url", server.base_url,
            "--date", "2026-11-22", *extra]


def state(tmp: Path) -> dict[str, Any]:
    return dict(json.loads((tmp / "out" / "batch" / "state.json").read_text(encoding="utf-8")))


def until_done(tmp: Path, server: FakeBatches, steps: int = 3) -> list[str]:
    """`status` as a user would poll it; each look moves the fake provider one step on."""
    seen = []
    for _ in range(steps):
        r = briefer("batch", "status", "--out", str(tmp / "out"), "--base-url", server.base_url)
        assert r.returncode == 0, r.stderr
        seen.append(r.stdout)
    return seen


def live_brief(tmp: Path) -> tuple[dict[str, Any], str]:
    """The same folder summarised live, with the same answers (the echo model), into its own cache."""
    with FakeOpenAI(echo_model.respond) as server:
        r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp / "live"), "--cache-dir",
                    str(tmp / "live-cache"), "--recordings", str(tmp / "no-recordings"), "--base-url",
                    server.base_url, "--date", "2026-11-22")
    assert r.returncode == 0, r.stderr
    return brief_files(tmp / "live")


def article_requests(server: FakeBatches) -> list[dict[str, Any]]:
    return [b for b in server.requests if "ArticleExtraction" in json.dumps(b.get("tools"))]


def test_submit_killed_mid_submission_resumes_without_resubmitting(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond, hold_create=2) as server:
        # Two requests per batch: three batches. The second "create" never answers; the process is killed there.
        proc = subprocess.Popen([sys.executable, "-m", "briefer", *submit_args(tmp_path, server,
                                 "--max-requests-per-batch", "2")], cwd=ROOT, env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while server.creates_seen < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        shards = state(tmp_path)["shards"]
        assert [bool(s["batch_id"]) for s in shards] == [True, False, False]
        assert shards[1]["input_file_id"] and shards[1]["status"] == "uploaded" and shards[2]["status"] == "written"
        server.release.set()

        r = briefer(*submit_args(tmp_path, server, "--max-requests-per-batch", "2"))
        assert r.returncode == 0, r.stderr
        assert "resumed: 3 batch(es), 5 requests" in r.stderr
        assert len(server.batches) == 3  # one batch per shard, none twice
        inputs = [f for f in server.files.values() if f["purpose"] == "batch"]
        assert len(inputs) == 3  # the second shard's file was not uploaded again
        assert sorted(b["input_file_id"] for b in server.batches.values()) == sorted(f["id"] for f in inputs)
        # A third submit finds everything submitted and sends nothing.
        assert briefer(*submit_args(tmp_path, server)).returncode == 0 and len(server.batches) == 3

        looks = until_done(tmp_path, server)
        assert "validating" not in looks[0] and "in_progress" in looks[0]
        assert "batch 1 batch_0001: completed, 2/2 done, 0 failed, 2 requests" in looks[-1]
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == 0, r.stderr
        assert "5 answers imported; brief written to" in r.stderr
        assert article_requests(server) == [] and len(server.requests) == 1  # only the merge went live
    assert brief_files(tmp_path / "out") == live_brief(tmp_path)
    for name in (f"{i}.json" for i in SEED_IDS):
        batch_file, live_file = tmp_path / "out" / "articles" / name, tmp_path / "live" / "articles" / name
        assert batch_file.read_bytes() == live_file.read_bytes()
    # After collection, an ordinary run replays every answer: no model call at all.
    r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp_path / "again"), "--cache-dir",
                str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"), "--date", "2026-11-22",
                "--offline")
    assert r.returncode == 0 and "0 model calls" in r.stderr, r.stderr


def test_error_lines_and_invalid_answers_go_to_a_follow_up_batch(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond, errors=[SEED_IDS[1]], broken=[SEED_IDS[3]]) as server:
        assert briefer(*submit_args(tmp_path, server)).returncode == 0
        until_done(tmp_path, server)
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == NOT_READY, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("briefer: not imported:")]
        assert len(lines) == 2
        error, invalid = sorted(lines, key=lambda ln: SEED_IDS[3] in ln)
        assert SEED_IDS[1] in error and "HTTP 500" in error
        assert SEED_IDS[3] in invalid and "the model's answer is invalid" in invalid
        assert "3 answers imported; 2 requests without a valid answer submitted as follow-up batch(es) batch_0002" \
            in r.stderr
        followup = state(tmp_path)["shards"][1]
        assert followup["round"] == 2 and followup["requests"] == 2
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == NOT_READY and "still running: batch_0002" in r.stderr
        until_done(tmp_path, server, 2)
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == 0, r.stderr
        assert "2 answers imported; brief written" in r.stderr
        assert article_requests(server) == []
    assert brief_files(tmp_path / "out") == live_brief(tmp_path)


def test_an_answer_partly_valid_is_kept_in_part_at_collection_as_a_live_one_is(tmp_path: Path) -> None:
    """A batch answer with a paragraph's translation missing goes through the live path's keep-what-is-valid: kept,
    flagged, stored with the model's own words; no follow-up batch asks the same request again."""
    with FakeBatches(echo_model.respond, invalid=[SEED_IDS[3]]) as server:
        assert briefer(*submit_args(tmp_path, server)).returncode == 0
        until_done(tmp_path, server)
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == 3, r.stderr  # the brief is written, partial
        assert len(server.batches) == 1 and article_requests(server) == []
        kept = [ln for ln in r.stderr.splitlines() if ln.startswith("briefer: kept in part: ")]
        assert len(kept) == 2, r.stderr  # the answer at import, then the article in the brief
        assert f"(extract of '{SEED_IDS[3]}'): the model's answer is invalid: " in kept[0]
        assert kept[0].endswith("; kept what is valid of the answer")
        assert kept[1].startswith(f"briefer: kept in part: {SEED_IDS[3]}: translation incomplete: ")
        assert "5 answers imported; partial brief written" in r.stderr and "not imported" not in r.stderr
    summary = json.loads((tmp_path / "out" / "articles" / f"{SEED_IDS[3]}.json").read_text(encoding="utf-8"))
    assert summary["warnings"] and summary["warnings"][0].startswith("translation incomplete: ")
    assert len(summary["translation_en"]) == len(summary["paragraphs_original"]) - 1
    brief = json.loads((tmp_path / "out" / "brief.json").read_text(encoding="utf-8"))
    assert brief["partial"] and brief["failures"] == []
    # The cache holds the kept answer: an ordinary run replays it, the same article, no model call.
    r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp_path / "again"), "--cache-dir",
                str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"), "--date", "2026-11-22",
                "--offline")
    assert r.returncode == 3 and "0 model calls" in r.stderr, r.stderr
    assert (tmp_path / "again" / "articles" / f"{SEED_IDS[3]}.json").read_bytes() == \
        (tmp_path / "out" / "articles" / f"{SEED_IDS[3]}.json").read_bytes()


def test_expired_and_rejected_batches_keep_what_was_answered_and_the_rest_goes_live(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond, outcomes=["expired", "failed"]) as server:
        assert briefer(*submit_args(tmp_path, server, "--max-requests-per-batch", "3")).returncode == 0
        until_done(tmp_path, server, 2)
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url, "--live-rest")
        assert r.returncode == 0, r.stderr
        assert "briefer: batch 1 (batch_0001) expired: 2 of 3 answers collected; the rest go to the follow-up" \
            in r.stderr
        assert "briefer: batch 2 (batch_0002) failed: invalid_file: The input file was rejected: it holds requests " \
               "for more than one model.; its 2 requests go to the follow-up" in r.stderr
        assert "batch_expired" in r.stderr  # the expired line, one line
        assert "2 answers imported, 3 requests asked live; brief written" in r.stderr
        assert len(article_requests(server)) == 3  # what the batches answered is not asked again
    assert brief_files(tmp_path / "out") == live_brief(tmp_path)


def test_cancel_keeps_the_answers_given_before(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond) as server:
        assert briefer(*submit_args(tmp_path, server)).returncode == 0
        until_done(tmp_path, server, 1)
        r = briefer("batch", "cancel", "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url)
        assert r.returncode == 0 and "1 batch(es) cancelling" in r.stderr, r.stderr
        assert "cancelled, 3/5 done, 2 failed" in until_done(tmp_path, server, 1)[0]
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"),
                    "--base-url", server.base_url, "--live-rest")
        assert r.returncode == 0, r.stderr
        assert "batch 1 (batch_0001) cancelled: 3 of 5 answers collected" in r.stderr
        assert len(article_requests(server)) == 2


def test_batch_cost_is_half_price_and_max_cost_submits_nothing(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond) as server:
        r = briefer(*submit_args(tmp_path, server, "--dry-run"))
        assert r.returncode == 0, r.stderr
        assert "to submit: 5 requests in 1 batch(es)" in r.stdout
        assert "gpt-4o-mini (batch): $0.075 in / $0.3 out / $0.0375 cached in per 1M tokens" in r.stdout
        r = briefer(*submit_args(tmp_path, server, "--max-cost", "0.0001"))
        assert r.returncode == 1 and "not submitted: the batch would cost about $" in r.stderr, r.stderr
        assert server.files == {} and server.batches == {}
        r = briefer(*submit_args(tmp_path, server, "--dry-run", "--price", "1,2"))
        assert "gpt-4o-mini: $1 in / $2 out per 1M tokens" in r.stdout
    r = briefer("summarize", str(FIXTURES / "articles"), "--dry-run", "--cache-dir", str(tmp_path / "c"),
                "--recordings", str(tmp_path / "none"))
    assert r.returncode == 0, r.stderr
    live = float(r.stdout.split("estimated cost $")[1].split()[0])
    batch = float(r.stdout.split("as a batch (--batch): $")[1].split(",")[0])
    assert live / 2 <= batch < live  # the articles at half price, the merge live
    r = briefer("summarize", str(FIXTURES / "articles"), "--batch", "--dry-run", "--cache-dir", str(tmp_path / "c"),
                "--recordings", str(tmp_path / "none"))
    assert r.returncode == 0 and "to submit: 5 requests in 1 batch(es) (0 already answered)" in r.stdout, r.stderr
    assert not (tmp_path / "c" / "pending").exists()  # a dry run writes nothing


def test_summarize_batch_waits_survives_ctrl_c_and_a_kill_and_the_next_run_replays(tmp_path: Path) -> None:
    args = ["summarize", str(FIXTURES / "articles"), "--batch", "--poll-interval", "0.05", "--out",
            str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--recordings",
            str(tmp_path / "no-recordings"), "--date", "2026-11-22"]
    with FakeBatches(echo_model.respond) as server:
        args += ["--base-url", server.base_url]
        server.paused.set()  # a batch that takes its time

        def waiting() -> subprocess.Popen[str]:
            proc = subprocess.Popen([sys.executable, "-m", "briefer", *args], cwd=ROOT, env=_env(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
            seen, deadline = server.retrieves, time.monotonic() + 60
            while server.retrieves < seen + 3:  # submitted, and polled a few times
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.02)
            return proc

        proc = waiting()
        proc.send_signal(signal.SIGINT)  # Ctrl-C while waiting
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "batch 1 batch_0001: validating, 0/5 done, 0 failed, 5 requests" in err
        assert "interrupted; the batches keep running at the provider (nothing was cancelled); resume with the " \
               "same command, or: briefer batch collect --out" in err
        assert "Traceback" not in err and server.batches["batch_0001"]["status"] == "validating"

        proc = waiting()  # resumes: nothing submitted again
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert len(server.batches) == 1 and len(server.files) == 1

        server.paused.clear()
        r = briefer(*args)
        assert r.returncode == 0, r.stderr
        assert len(server.batches) == 1  # never resubmitted
        assert "in_progress" in r.stderr and "5 answers imported; brief written to" in r.stderr
        assert article_requests(server) == [] and len(server.requests) == 1  # only the merge went live
        calls = len(server.requests)
        # After collection an ordinary run replays everything from the cache: no call, no batch.
        r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp_path / "again"), "--cache-dir",
                    str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"), "--date", "2026-11-22",
                    "--base-url", server.base_url)
        assert r.returncode == 0 and "spent: 0 model calls (0 HTTP requests)" in r.stderr, r.stderr
        assert len(server.requests) == calls and len(server.batches) == 1
        # And --batch again finds its batches collected: the brief again, nothing sent.
        r = briefer(*args)
        assert r.returncode == 0 and "0 model calls" in r.stderr, r.stderr
        assert len(server.requests) == calls and len(server.batches) == 1
    assert brief_files(tmp_path / "out") == live_brief(tmp_path)
    assert brief_files(tmp_path / "again") == brief_files(tmp_path / "out")


def test_status_shows_an_eta_from_the_providers_counts_and_start(tmp_path: Path) -> None:
    # The provider started the batch 100 s ago and moves it one fifth on at each look.
    with FakeBatches(echo_model.respond, in_progress_steps=4, started_ago=100) as server:
        assert briefer(*submit_args(tmp_path, server)).returncode == 0
        looks = [line.strip() for line in until_done(tmp_path, server, 7)]
    assert looks[0] == "batch 1 batch_0001: in_progress, 0/5 done, 0 failed, 5 requests; ETA unknown"
    # 1 of 5 done in 100 s (plus the seconds the looks take here): 4 more take 400 s and more; at 2 of 5, 3 more
    # take 150 s and more.
    minutes = []
    for n, look in ((1, looks[1]), (2, looks[2])):
        head, when = look.split("; ")
        assert head == f"batch 1 batch_0001: in_progress, {n}/5 done, 0 failed, 5 requests"
        assert when.startswith("ETA about ") and when.endswith(" min"), when
        minutes.append(int(when.removeprefix("ETA about ").removesuffix(" min")))
    assert 7 <= minutes[0] <= 12 and 2 <= minutes[1] <= 5 and minutes[1] < minutes[0]
    assert looks[5] == "batch 1 batch_0001: finalizing, 4/5 done, 0 failed, 5 requests; ETA: finishing"
    assert looks[6] == "batch 1 batch_0001: completed, 5/5 done, 0 failed, 5 requests"


def test_eta_is_unknown_without_a_start_or_progress_and_says_when_the_batch_would_expire() -> None:
    shard = Shard(number=1, file="requests-001.jsonl", requests=100, bytes=1, batch_id="b", status="in_progress",
                  counts={"total": 100, "completed": 0, "failed": 0})
    assert eta(shard, 1000) == "ETA unknown"  # nothing done yet
    shard.counts = {"total": 100, "completed": 20, "failed": 5}
    assert eta(shard, 1000) == "ETA unknown"  # the provider gave no start time
    shard.in_progress_at = 400
    assert eta(shard, 1000) == "ETA about 30 min"  # 25 in 600 s: 75 more in 1,800 s
    shard.expires_at = 1600
    assert eta(shard, 1000) == ("ETA about 30 min, after the batch expires in 10 min: what is not done by then comes "
                                "back expired")
    shard.status = "validating"
    assert eta(shard, 1000) == "ETA unknown"


def test_submit_takes_summarizes_endpoint_and_run_options_and_collect_keeps_them(tmp_path: Path) -> None:
    # Before, `batch submit` had no --timeout, --max-retries, --stream, --rpm, --extra-body, --aliases or --no-html,
    # although its collect step asks the merge live with them.
    aliases = tmp_path / "my-aliases.toml"
    aliases.write_text((FIXTURES / "aliases.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with FakeBatches(echo_model.respond) as server:
        r = briefer(*submit_args(tmp_path, server, "--timeout", "7", "--max-retries", "1", "--rpm", "600",
                                 "--extra-body", '{"seed": 1}', "--aliases", str(aliases), "--no-html"))
        assert r.returncode == 0, r.stderr
        run = state(tmp_path)["run"]
        assert (run["endpoint"]["timeout"], run["endpoint"]["max_retries"], run["endpoint"]["rpm"]) == (7.0, 1, 600.0)
        assert run["endpoint"]["extra_body"] == '{"seed": 1}'
        assert (run["aliases"], run["html"]) == (str(aliases), False)
        until_done(tmp_path, server)
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"), "--base-url",
                    server.base_url)
        assert r.returncode == 0, r.stderr
        merge = [b for b in server.requests if "ArticleExtraction" not in json.dumps(b.get("tools"))]
    assert merge and all(b.get("seed") == 1 for b in merge)  # the live merge carried --extra-body
    assert (tmp_path / "out" / "brief.md").is_file() and not (tmp_path / "out" / "brief.html").exists()
