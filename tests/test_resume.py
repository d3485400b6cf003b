"""Nothing is lost: kill -9 and resume, Ctrl-C, concurrent runs on one cache, an unusable cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEED_IDS, reference_responder
from fake_openai import FakeOpenAI


def _start(fixtures: Path, out: Path, cache: Path, server: FakeOpenAI, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    cmd = [sys.executable, "-m", "briefer", "summarize", str(fixtures / "articles"), "--out", str(out),
           "--cache-dir", str(cache), "--recordings", str(out.parent / "no-recordings"), "--base-url",
           server.base_url, "--date", "2026-11-22", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_articles(out: Path, n: int, proc: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        done = list((out / "articles").glob("*.json")) if (out / "articles").exists() else []
        if len(done) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} articles after {limit}s")


def _outputs(out: Path) -> dict[str, object]:
    files: dict[str, object] = {}
    for p in sorted(out.rglob("*.json")):
        if p.name != "run.json":  # the run report: what each run spent differs, by design
            files[p.relative_to(out).as_posix()] = p.read_text(encoding="utf-8")
    files["brief.md"] = (out / "brief.md").read_text(encoding="utf-8")
    return files


def test_kill_9_then_rerun_resumes_without_asking_again(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(reference_responder(), latency=0.3) as server:
        # Reference: one uninterrupted run, with a cache of its own.
        ref = _start(fixture_copy, tmp_path / "ref", tmp_path / "ref-cache", server, "--concurrency", "1")
        _, ref_err = ref.communicate(timeout=120)
        assert ref.returncode == 0, ref_err
        sent_uninterrupted = len(server.requests)

        proc = _start(fixture_copy, tmp_path / "out", tmp_path / "cache", server, "--concurrency", "1")
        _wait_for_articles(tmp_path / "out", 2, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        before = len(server.requests)
        done_before = {p.stem for p in (tmp_path / "out" / "articles").glob("*.json")}

        again = _start(fixture_copy, tmp_path / "out", tmp_path / "cache", server, "--concurrency", "1")
        _, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
        resumed = server.requests[before:]
    asked_again = {i for i in SEED_IDS for r in resumed if f"Article id: {i}" in str(r["messages"][1]["content"])}
    assert not asked_again & done_before  # finished articles were not requested again
    assert len(resumed) <= sent_uninterrupted - len(done_before)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "ref")


def test_ctrl_c_exits_130_and_keeps_finished_articles(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(reference_responder(), latency=0.3) as server:
        proc = _start(fixture_copy, tmp_path / "out", tmp_path / "cache", server, "--concurrency", "1")
        _wait_for_articles(tmp_path / "out", 1, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "briefer: interrupted; finished articles are kept in the output folder"
    kept = list((tmp_path / "out" / "articles").glob("*.json"))
    assert kept and all(json.loads(p.read_text(encoding="utf-8"))["id"] == p.stem for p in kept)


def test_two_runs_sharing_one_cache_at_the_same_time(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(reference_responder(), latency=0.05) as server:
        runs = [_start(fixture_copy, tmp_path / f"out{i}", tmp_path / "cache", server) for i in range(2)]
        results = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], results
    assert _outputs(tmp_path / "out0") == _outputs(tmp_path / "out1")
    for entry in (tmp_path / "cache").rglob("*"):
        if entry.is_file():
            assert entry.suffix == ".json", entry  # no temporary files left behind
            json.loads(entry.read_text(encoding="utf-8"))  # and none half-written


@pytest.mark.parametrize("kind", ["not-a-directory", "read-only"])
def test_unusable_cache_directory_degrades_to_uncached(fixture_copy: Path, tmp_path: Path, kind: str) -> None:
    if kind == "not-a-directory":
        (tmp_path / "blocker").write_text("x", encoding="utf-8")
        cache = tmp_path / "blocker" / "cache"
    else:
        cache = tmp_path / "ro-cache"
        cache.mkdir()
        os.chmod(cache, 0o500)
        if os.access(cache, os.W_OK):  # root ignores permissions: make the directory unusable another way
            os.chmod(cache, 0o700)
            cache.rmdir()
            cache.symlink_to(tmp_path / "nowhere" / "dangling")
    with FakeOpenAI(reference_responder()) as server:
        proc = _start(fixture_copy, tmp_path / "out", cache, server)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    warnings = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "running uncached" in warnings[0]
    assert "brief written to" in err
