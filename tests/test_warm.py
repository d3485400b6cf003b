"""A warm rerun into the same output folder rewrites no article file that has not changed."""

from __future__ import annotations

from pathlib import Path

from briefer.pipeline import RunConfig, summarize_folder
from conftest import FIXTURES


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
