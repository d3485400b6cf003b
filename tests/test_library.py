"""The library's face: what `briefer` exports, the README's examples run as written, and
`asummarize_folder` awaited inside a running event loop without stalling it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import briefer
from briefer import EndpointConfig, RunConfig, asummarize_folder
from conftest import ROOT, SEED_IDS
from fake_openai import FakeOpenAI

PUBLIC = {"ArticleSummary", "Brief", "BrieferError", "DryRun", "EndpointConfig", "RunConfig", "RunResult",
          "__version__", "asummarize_folder", "dry_run", "summarize_folder"}


def test_exports_are_listed_and_load() -> None:
    assert set(briefer.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(briefer, name) is not None, name
    assert issubclass(briefer.BrieferError, Exception)
    assert asyncio.iscoroutinefunction(briefer.asummarize_folder)


def test_import_briefer_loads_no_sdk() -> None:
    code = "import sys, briefer; print(any(m in sys.modules for m in ('openai', 'instructor', 'briefer.pipeline')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using briefer from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_library_examples_run_as_written(tmp_path: Path) -> None:
    examples = _readme_examples()
    assert len(examples) >= 2
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    for i, code in enumerate(examples):
        (tmp_path / "out").exists() and shutil.rmtree(tmp_path / "out")
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, (i, done.stderr)
        assert done.stdout.strip(), i
        assert sorted(p.stem for p in (tmp_path / "out" / "articles").glob("*.json")) == SEED_IDS


async def _run_beside_ticker(cfg: RunConfig) -> tuple[float, int, briefer.RunResult]:
    stalls: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)  # the ticker is running before the run starts
    try:
        result = await asummarize_folder(cfg)
    finally:
        stop.set()
        await task
    return max(stalls), len(stalls), result


@pytest.mark.parametrize("live", [True, False], ids=["live", "offline"])
def test_awaited_inside_a_running_loop_keeps_it_ticking(tmp_path: Path, fixture_copy: Path,
                                                         reference_server: FakeOpenAI, live: bool) -> None:
    """A live run (the SDKs loaded on first use, ~0.6 s of CPU) and an offline replay, awaited beside a 10 ms
    ticker in the same loop: no tick is more than 200 ms late."""
    if live:
        endpoint = EndpointConfig(model="gpt-4o-mini", base_url=reference_server.base_url, api_key="sk-test")
        cfg = RunConfig(folder=fixture_copy / "articles", endpoint=endpoint, out_dir=tmp_path / "out",
                        recordings_dir=tmp_path / "no-recordings", no_since=True)
    else:
        cfg = RunConfig(folder=fixture_copy / "articles", offline=True, out_dir=tmp_path / "out", no_since=True)
    worst, ticks, result = asyncio.run(_run_beside_ticker(cfg))
    assert sorted(s.id for s in result.summaries) == SEED_IDS
    assert (tmp_path / "out" / "brief.md").is_file()
    assert ticks >= 2
    assert worst < 0.2, f"the loop stalled {worst:.3f} s"


def test_the_sync_wrapper_inside_a_running_loop_says_what_to_await(fixture_copy: Path, tmp_path: Path) -> None:
    cfg = RunConfig(folder=fixture_copy / "articles", offline=True, out_dir=tmp_path / "out", no_since=True)

    async def in_a_notebook() -> None:
        briefer.summarize_folder(cfg)

    with pytest.raises(briefer.BrieferError, match=r"running event loop .*await briefer\.asummarize_folder"):
        asyncio.run(in_a_notebook())
    assert not (tmp_path / "out").exists()

    async def planned_in_a_notebook() -> None:  # the dry run has no async twin: a thread is the way in a loop
        briefer.dry_run(cfg)

    with pytest.raises(briefer.BrieferError, match=r"await asyncio\.to_thread\(briefer\.dry_run, cfg\)"):
        asyncio.run(planned_in_a_notebook())


def test_asyncio_run_is_called_in_one_place_of_the_library() -> None:
    """Everything else awaits: a host's running loop can await every entry point (the commands may use it)."""
    src = ROOT / "src" / "briefer"
    holders = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.py")
                     if "asyncio.run(" in p.read_text(encoding="utf-8") and p.parent.name != "cli")
    assert holders == ["__init__.py", "worker.py"]  # the package docstring's example, and run_sync
