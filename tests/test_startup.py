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


def test_the_collector_is_spaced_out_by_the_command_only_until_it_asks_the_model() -> None:
    # The command collects the youngest generation every RUN_THRESHOLD allocations while it only reads and computes;
    # once the SDK is loaded to ask the model, the thresholds are back as they were. Importing briefer (a notebook,
    # another program) leaves the collector as that program set it.
    code = (
        "import gc, sys\n"
        "gc.set_threshold(123, 4, 5)\n"
        "import briefer.cli, briefer.pipeline\n"
        "print(gc.get_threshold())\n"
        "sys.argv = ['briefer', '--help']\n"
        "try:\n"
        "    briefer.cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.get_threshold())\n"
        "from briefer.model.endpoint import EndpointConfig\n"
        "from briefer.model.openai.client import ModelClient\n"
        "ModelClient(EndpointConfig(model='m', base_url='http://127.0.0.1:9/v1'))._openai()\n"
        "print(gc.get_threshold())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    from briefer.gcpause import RUN_THRESHOLD

    lines = r.stdout.strip().splitlines()
    assert lines[0] == "(123, 4, 5)"
    assert lines[-2] == f"({RUN_THRESHOLD}, 4, 5)"
    assert lines[-1] == "(123, 4, 5)"


def test_the_pipeline_imports_only_what_every_run_needs() -> None:
    # The SDKs wait for the first request, the encoding detector for a file that is not UTF-8, the TOML reader for
    # an alias file: a warm rerun from the cache of UTF-8 articles imports none of them.
    code = ("import sys, briefer.cli, briefer.pipeline\n"
            "print(sorted(m for m in ('openai', 'instructor', 'charset_normalizer', 'tomllib') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
