"""Offline replay from recordings: deterministic, and loud about stale or missing recordings."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from briefer.errors import NothingProduced
from briefer.pipeline import RunConfig, run
from conftest import ROOT, SEED_IDS, output_files


def _run(fixtures: Path, out: Path, **kw: object) -> int:
    settings: dict[str, object] = {"cache_dir": None, **kw}
    cfg = RunConfig(folder=fixtures / "articles", out_dir=out, date="2026-11-22", offline=True,
                    **settings)  # type: ignore[arg-type]
    return asyncio.run(run(cfg)).exit_code


def test_replay_is_byte_identical(fixture_copy: Path, tmp_path: Path) -> None:
    assert _run(fixture_copy, tmp_path / "one") == 0
    assert _run(fixture_copy, tmp_path / "two") == 0
    one, two = output_files(tmp_path / "one"), output_files(tmp_path / "two")
    assert sorted(one) == ["articles/" + i + ".json" for i in SEED_IDS] + [
        "brief-index.json", "brief.html", "brief.json", "brief.md", "evidence.md", "manifest.json", "run.json"]
    assert one == two


def test_replay_with_a_cache_is_identical_too(fixture_copy: Path, tmp_path: Path) -> None:
    assert _run(fixture_copy, tmp_path / "one", cache_dir=tmp_path / "cache") == 0
    assert _run(fixture_copy, tmp_path / "two", cache_dir=tmp_path / "cache") == 0
    assert output_files(tmp_path / "one") == output_files(tmp_path / "two")


def _edited_prompts(tmp_path: Path) -> Path:
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    path = prompts / "extract.system.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n- Be brief.\n", encoding="utf-8")
    return prompts


def test_prompt_change_makes_recordings_stale(fixture_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(NothingProduced) as info:
        _run(fixture_copy, tmp_path / "out", prompt_dir=_edited_prompts(tmp_path))
    message = str(info.value)
    assert "extract of '" in message and "is stale: prompt template changed" in message
    assert "Re-record with: briefer summarize" in message and "--record" in message
    assert f"--prompt-dir {tmp_path / 'prompts'}" in message  # the command re-records with the prompts in use


def _brief(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "brief.json").read_text(encoding="utf-8"))


def test_changed_article_is_a_stale_recording_and_the_brief_is_partial(fixture_copy: Path, tmp_path: Path) -> None:
    article = fixture_copy / "articles" / "001_60e5ac162c7950a1.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\nسطر جديد أضيف إلى المقال.\n", encoding="utf-8")
    assert _run(fixture_copy, tmp_path / "out") == 3
    brief = _brief(tmp_path / "out")
    reasons = {f["source_path"]: f["reason"] for f in brief["failures"]}
    assert "001_60e5ac162c7950a1.txt" in reasons
    assert "extract of '001_60e5ac162c7950a1': recording" in reasons["001_60e5ac162c7950a1.txt"]
    assert "is stale: input changed" in reasons["001_60e5ac162c7950a1.txt"]
    # The merge input differs too, so the merge recording is stale: reported, never replayed.
    assert "is stale: input changed" in reasons["(merge)"]
    assert brief["partial"] is True and brief["executive_summary"] == []
    # Nothing already produced is lost: the other four articles are written.
    assert sorted(p.stem for p in (tmp_path / "out" / "articles").iterdir()) == [
        i for i in SEED_IDS if i != "001_60e5ac162c7950a1"]
    assert "**Partial brief:**" in (tmp_path / "out" / "brief.md").read_text(encoding="utf-8")


def test_missing_recording_names_article_stage_and_command(fixture_copy: Path, tmp_path: Path) -> None:
    (fixture_copy / "recordings" / "extract" / "002_114e8c00c4a8dde7.json").unlink()
    assert _run(fixture_copy, tmp_path / "out") == 3
    reasons = {f["source_path"]: f["reason"] for f in _brief(tmp_path / "out")["failures"]}
    reason = reasons["002_114e8c00c4a8dde7.txt"]
    assert reason.startswith("extract of '002_114e8c00c4a8dde7': no recording or cached answer")
    assert "record it with: briefer summarize" in reason and "--record-stale --model gpt-4o-mini" in reason


def test_schema_change_is_reported_as_stale(fixture_copy: Path, tmp_path: Path) -> None:
    rec = fixture_copy / "recordings" / "extract" / "000_6f0ae3a4b7243325.json"
    data = json.loads(rec.read_text(encoding="utf-8"))
    data["fingerprint"]["schema_sha256"] = "0" * 64
    rec.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert _run(fixture_copy, tmp_path / "out") == 3
    reasons = {f["source_path"]: f["reason"] for f in _brief(tmp_path / "out")["failures"]}
    assert "is stale: response schema changed" in reasons["000_6f0ae3a4b7243325.txt"]


def test_corrupt_recording_is_reported_missing_not_a_crash(fixture_copy: Path, tmp_path: Path) -> None:
    (fixture_copy / "recordings" / "extract" / "003_765204c47648eeb1.json").write_text("{", encoding="utf-8")
    assert _run(fixture_copy, tmp_path / "out") == 3
    reasons = {f["source_path"]: f["reason"] for f in _brief(tmp_path / "out")["failures"]}
    assert "no recording or cached answer" in reasons["003_765204c47648eeb1.txt"]
