"""`briefer --help` stays fast: it must not import the SDKs."""

from __future__ import annotations

import subprocess
import sys


def test_help_does_not_import_openai_or_instructor() -> None:
    code = (
        "import sys\n"
        "from briefer.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('openai', 'instructor', 'httpx') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
