"""`briefer --help` and `briefer eval --help` stay fast: they must not import the SDKs (or the eval engine)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("argv", "shown"), [(["--help"], "summarize"), (["eval", "--help"], "--compare-prompt-dir")])
def test_help_does_not_import_the_sdks(argv: list[str], shown: str) -> None:
    code = (
        "import sys\n"
        "from briefer.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('openai', 'instructor', 'httpx', 'briefer.eval.evaluate') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert shown in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "[]"
