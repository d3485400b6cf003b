"""The whole rendered brief of the seed fixtures, compared with a reviewed snapshot.

After an intended change, regenerate with BRIEFER_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshot.py
and review the diff of tests/snapshots/ like code.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from briefer.pipeline import RunConfig, run
from conftest import FIXTURES

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _check(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("BRIEFER_UPDATE_SNAPSHOTS") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing snapshot {path}; create it with BRIEFER_UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"


def test_seed_brief_markdown_snapshot(tmp_path: Path) -> None:
    asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, date="2026-11-22", offline=True)))
    _check("seed-brief.md", (tmp_path / "brief.md").read_text(encoding="utf-8"))


def test_seed_evidence_markdown_snapshot(tmp_path: Path) -> None:
    asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, date="2026-11-22", offline=True)))
    _check("seed-evidence.md", (tmp_path / "evidence.md").read_text(encoding="utf-8"))
