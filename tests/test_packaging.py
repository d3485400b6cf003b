"""A non-editable install works from any directory: prompts/ and schemas/ ship inside the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT


@pytest.mark.slow
def test_wheel_ships_prompts_and_schemas_and_runs_elsewhere(tmp_path: Path) -> None:
    if subprocess.run([sys.executable, "-c", "import hatchling"], capture_output=True).returncode != 0:
        pytest.fail("hatchling is needed to build the wheel: pip install -e '.[dev]'")
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("briefer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for prompt in sorted(p.name for p in (ROOT / "prompts").iterdir()):
        assert f"briefer/prompts/{prompt}" in names
    assert "briefer/schemas/brief.schema.json" in names and "briefer/schemas/article.schema.json" in names
    assert "briefer/render/templates/brief.html.j2" in names and "briefer/render/templates/brief.css" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "articles", work / "in" / "articles")
    shutil.copytree(FIXTURES / "recordings", work / "in" / "recordings")
    shutil.copy(FIXTURES / "aliases.toml", work / "in" / "aliases.toml")  # the merge was recorded with it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    env["PYTHONPATH"] = str(site)
    code = ("import briefer, briefer.model.prompts as p; print(briefer.__file__); print(p.default_prompt_dir());"
            "from briefer.cli import main; import sys; sys.argv=['briefer','summarize','in/articles','--offline',"
            "'--no-cache','--out','o','--date','2026-11-22']; main()")
    r = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    module_file, prompt_dir = r.stdout.splitlines()[:2]
    assert module_file.startswith(str(site)) and prompt_dir == str(site / "briefer" / "prompts")
    assert (work / "o" / "brief.md").is_file()
    assert "<!DOCTYPE html>" in (work / "o" / "brief.html").read_text(encoding="utf-8")
