"""schemas/*.json are generated from the models: any drift fails."""

from __future__ import annotations

from pathlib import Path

from briefer.schemas import SCHEMAS, write_schemas
from conftest import ROOT


def test_committed_schemas_match_the_models() -> None:
    stale = write_schemas(ROOT / "schemas", check=True)
    assert stale == [], f"run `briefer schemas` to regenerate: {stale}"


def test_check_detects_drift(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert write_schemas(tmp_path, check=True) == []
    path = tmp_path / "brief.schema.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"title"', '"headline"', 1), encoding="utf-8")
    assert write_schemas(tmp_path, check=True) == ["brief.schema.json"]
    assert set(SCHEMAS) == {"article.schema.json", "brief.schema.json", "run.schema.json"}
