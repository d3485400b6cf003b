"""Warm reruns: no unchanged article file is rewritten, and an article whose inputs and cached answers are all
unchanged is not summarised again: its stored summary is reused (extract/reuse.py), only while it provably
derives from the same inputs, and the output is the same as the run that stored it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run, summarize_folder
from conftest import FIXTURES, ROOT, SEED_IDS, assert_same_outputs
from fake_openai import FakeOpenAI

NOWHERE = "http://127.0.0.1:9/v1"  # nothing listens there: a request would fail the run


def _stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((out / "articles").glob("*.json"))}


def test_warm_rerun_leaves_unchanged_article_files_alone(tmp_path: Path) -> None:
    cfg = RunConfig(folder=FIXTURES / "articles", offline=True, out_dir=tmp_path / "out", date="2026-11-30",
                    cache_dir=tmp_path / "cache")
    assert summarize_folder(cfg).exit_code == 0
    before = _stamps(tmp_path / "out")
    assert len(before) == 5
    assert summarize_folder(cfg).exit_code == 0
    assert _stamps(tmp_path / "out") == before


def _cfg(fixtures: Path, tmp_path: Path, out: str, base_url: str) -> RunConfig:
    return RunConfig(folder=fixtures / "articles", out_dir=tmp_path / out, date="2026-11-22",
                     cache_dir=tmp_path / "cache", recordings_dir=tmp_path / "no-recordings",
                     endpoint=EndpointConfig(model="gpt-4o-mini", base_url=base_url, max_retries=0))


def _records(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "results").rglob("*.json"))


def test_warm_rerun_reuses_summaries_and_writes_the_same_brief(fixture_copy: Path, tmp_path: Path,
                                                                reference_server: FakeOpenAI) -> None:
    cold = asyncio.run(run(_cfg(fixture_copy, tmp_path, "cold", reference_server.base_url)))
    assert cold.exit_code == 0 and cold.report.spent.answers == len(SEED_IDS) + 1
    assert len(_records(tmp_path)) == len(SEED_IDS)  # stored by the cold run itself: its answers are in the cache

    warm = asyncio.run(run(_cfg(fixture_copy, tmp_path, "warm", NOWHERE)))
    assert warm.report.spent.answers == 0 and warm.report.replayed.answers == len(SEED_IDS) + 1
    # What the cold run spent, the warm run replayed, stage by stage; it spent nothing.
    assert {k: u.replayed for k, u in warm.report.by_stage.items()} == {k: u.spent for k, u in
                                                                        cold.report.by_stage.items()}
    assert warm.report.spent.prompt_tokens == warm.report.spent.completion_tokens == 0
    assert warm.report.spent.cost_usd_est == 0 and warm.report.replayed.from_cache == len(SEED_IDS) + 1
    assert_same_outputs(tmp_path / "cold", tmp_path / "warm")


def _tamper_stored_headline(record: Path) -> str:
    head, _, text = record.read_text(encoding="utf-8").partition("\n")
    summary = json.loads(text.removesuffix("}\n"))
    summary["headline_en"] = "STORED SUMMARY REUSED"
    record.write_text(head + "\n" + json.dumps(summary, ensure_ascii=False, indent=2) + "\n}\n", encoding="utf-8")
    return str(summary["id"])


def test_stored_summary_is_used_only_while_its_cached_answers_are_unchanged(
        fixture_copy: Path, tmp_path: Path, reference_server: FakeOpenAI) -> None:
    asyncio.run(run(_cfg(fixture_copy, tmp_path, "cold", reference_server.base_url)))
    record = _records(tmp_path)[0]
    article_id = _tamper_stored_headline(record)
    # The record is what a warm rerun takes (marked here, to see it is the one used) ...
    warm = asyncio.run(run(_cfg(fixture_copy, tmp_path, "warm", reference_server.base_url)))
    assert "STORED SUMMARY REUSED" in (tmp_path / "warm" / "articles" / f"{article_id}.json").read_text("utf-8")
    assert warm.report.spent.answers == 1  # the merge (its input changed with the mark), no article

    # ... until an answer it came from changes: the article is summarised again from that answer.
    answered = json.loads(record.read_text(encoding="utf-8"))["answered"]
    entry = tmp_path / "cache" / answered[0]["key"][:2] / f"{answered[0]['key']}.json"
    data = json.loads(entry.read_text(encoding="utf-8"))
    data["response"]["headline_en"] = "CHANGED IN THE CACHE"
    entry.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    again = asyncio.run(run(_cfg(fixture_copy, tmp_path, "again", reference_server.base_url)))
    summary = json.loads((tmp_path / "again" / "articles" / f"{article_id}.json").read_text("utf-8"))
    assert summary["headline_en"] == "CHANGED IN THE CACHE"
    assert again.report.spent.answers == 1  # the merge, whose input changed with it; the articles from the cache


def test_stored_summary_is_not_used_for_a_changed_article(fixture_copy: Path, tmp_path: Path,
                                                         reference_server: FakeOpenAI) -> None:
    asyncio.run(run(_cfg(fixture_copy, tmp_path, "cold", reference_server.base_url)))
    for record in _records(tmp_path):
        _tamper_stored_headline(record)
    article = sorted((fixture_copy / "articles").glob("*.txt"))[0]
    article.write_text(article.read_text(encoding="utf-8").replace("\n", "\n\n", 1), encoding="utf-8")
    asyncio.run(run(_cfg(fixture_copy, tmp_path, "warm", reference_server.base_url)))
    changed = json.loads((tmp_path / "warm" / "articles" / f"{article.stem}.json").read_text("utf-8"))
    assert changed["headline_en"] != "STORED SUMMARY REUSED"


def test_warm_rerun_never_imports_the_model_client(fixture_copy: Path, tmp_path: Path,
                                                   reference_server: FakeOpenAI) -> None:
    asyncio.run(run(_cfg(fixture_copy, tmp_path, "cold", reference_server.base_url)))
    code = ("import sys; from briefer.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, sorted(m for m in ('openai', 'instructor', 'httpx') if m in sys.modules))")
    args = ["summarize", str(fixture_copy / "articles"), "--out", str(tmp_path / "warm"), "--cache-dir",
            str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"), "--base-url", NOWHERE,
            "--date", "2026-11-22", "--model", "gpt-4o-mini"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr
    assert "0 model calls" in done.stderr


def test_a_changed_file_under_the_prompt_folder_means_no_reuse(fixture_copy: Path, tmp_path: Path,
                                                               reference_server: FakeOpenAI) -> None:
    import dataclasses
    import shutil

    from briefer.model.prompts import default_prompt_dir

    prompts = tmp_path / "prompts"
    shutil.copytree(default_prompt_dir(), prompts)
    cfg = dataclasses.replace(_cfg(fixture_copy, tmp_path, "cold", reference_server.base_url), prompt_dir=prompts)
    asyncio.run(run(cfg))
    for record in _records(tmp_path):
        _tamper_stored_headline(record)
    # A file the requests do not even use, in a subfolder (a template may include one): the key changes anyway.
    (prompts / "parts").mkdir()
    (prompts / "parts" / "note.j2").write_text("unused\n", encoding="utf-8")
    warm = asyncio.run(run(dataclasses.replace(cfg, out_dir=tmp_path / "warm")))
    assert warm.report.spent.answers == 0  # every answer from the cache, every article grounded again
    assert all(s.headline_en != "STORED SUMMARY REUSED" for s in warm.summaries)
