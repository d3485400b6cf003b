"""The options every command shares are declared once (cli/options.py): the same names and short flags
everywhere, `batch submit` takes every endpoint option `summarize` does, and `--help` shows them in panels."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from briefer.cli import app
from briefer.cli.options import ENDPOINT, PANELS
from conftest import ROOT

CLI = ROOT / "src" / "briefer" / "cli"


def command(*path: str) -> Any:
    cmd: Any = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def options(*path: str) -> dict[str, Any]:
    """A command's options by their long flag."""
    return {next(o for o in p.opts if o.startswith("--")): p for p in command(*path).params
            if p.param_type_name == "option"}


def test_batch_submit_takes_every_endpoint_and_run_option_summarize_does() -> None:
    summarize, submit, evaluate = options("summarize"), options("batch", "submit"), options("eval")
    endpoint = {flag for flag, p in summarize.items() if p.rich_help_panel == ENDPOINT}
    assert {"--model", "--base-url", "--mode", "--timeout", "--max-retries", "--stream", "--extra-body"} <= endpoint
    assert endpoint == {flag for flag, p in submit.items() if p.rich_help_panel == ENDPOINT}
    assert endpoint == {flag for flag, p in evaluate.items() if p.rich_help_panel == ENDPOINT}
    # Everything else a summarize run reads, the batch's collect step needs too (it runs the merge live).
    only_summarize = {"--batch", "--live-rest", "--poll-interval", "--fetch"}  # --fetch: a step before the run
    assert set(summarize) - only_summarize <= set(submit), set(summarize) - only_summarize - set(submit)
    for flag in ("--rpm", "--tpm", "--aliases", "--since", "--no-html", "--timeout", "--max-retries"):
        assert flag in submit


def test_every_command_spells_an_option_the_same_way() -> None:
    seen: dict[str, tuple[str, list[str]]] = {}
    for path in (("summarize",), ("eval",), ("doctor",), ("config", "show"), ("batch", "submit"),
                 ("batch", "export"), ("batch", "import"), ("batch", "status"), ("batch", "collect"),
                 ("batch", "cancel")):
        for flag, p in options(*path).items():
            spelled = sorted(p.opts + p.secondary_opts)
            first = seen.setdefault(flag, (" ".join(path), spelled))
            assert spelled == first[1], f"{' '.join(path)} spells {flag} as {spelled}, {first[0]} as {first[1]}"
    assert seen["--out"][1] == ["--out", "-o"]  # batch export too: no --output
    assert seen["--model"][1] == ["--model", "-m"]
    assert "--output" not in seen


def test_help_shows_the_options_in_panels_on_its_first_screen() -> None:
    r = CliRunner().invoke(app, ["summarize", "-h"], terminal_width=100)
    assert r.exit_code == 0
    headers = [ln.rstrip(":") for ln in r.stdout.splitlines() if ln and not ln.startswith(" ") and ln.endswith(":")]
    assert headers == ["Arguments", *PANELS, "Options"]  # `--help` itself last, under Options
    first_screen = r.stdout.splitlines()[:40]
    assert "Input:" in first_screen and "Model and endpoint:" in first_screen
    assert "  -m, --model" in r.stdout and "  -o, --out" in r.stdout


def test_short_flags() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["-V"]).stdout.startswith("briefer ")
    assert runner.invoke(app, ["-h"]).stdout.startswith("Usage: ")
    assert runner.invoke(app, ["batch", "export", "-h"]).stdout.count("-o, --out") == 1


def test_the_default_model_is_written_once() -> None:
    holders = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")
               if '"gpt-4o-mini"' in p.read_text(encoding="utf-8")}
    # defaults.py declares it; the price table prices it; the package docstring shows it in an example.
    assert holders == {"briefer/defaults.py", "briefer/model/costs.py", "briefer/__init__.py"}


def test_summarize_is_not_one_function_of_45_parameters() -> None:
    tree = ast.parse((CLI / "summarize.py").read_text(encoding="utf-8"))
    summarize = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "summarize")
    assert len(summarize.args.args) + len(summarize.args.kwonlyargs) <= 12


def _imports(path: Path) -> set[str]:
    """The briefer.cli modules a cli module imports, at its top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            name = "." * node.level + (node.module or "")
            if name.startswith(".") and not name.startswith(".."):
                out.add(name.lstrip("."))
            elif name.startswith("briefer.cli."):
                out.add(name.removeprefix("briefer.cli."))
    return out


def test_no_import_circle_between_the_command_modules() -> None:
    graph = {p.stem: _imports(p) for p in CLI.glob("*.py")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert not [m for m in graph if reaches(m, m, set())]
    assert "summarize" not in graph["batch"]  # batch_cli.py and cli.py imported each other
    for module in CLI.glob("*.py"):  # thin: no SDK, no pipeline at import time
        top = [n for n in ast.parse(module.read_text(encoding="utf-8")).body if isinstance(n, ast.ImportFrom)]
        assert not [n.module for n in top if n.module and re.match(r"briefer\.(pipeline|batch_run|model)", n.module)]


def test_help_is_still_fast_to_import() -> None:
    code = ("import sys, time\nt = time.perf_counter()\nfrom briefer.cli import app\n"
            "print(sorted(m for m in ('openai', 'instructor', 'rich', 'tomllib', 'platformdirs', 'briefer.pipeline')"
            " if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stderr


def test_the_clis_written_defaults_are_the_librarys() -> None:
    """cli/options.py writes the library's defaults out (importing them would load the pipeline at --help)."""
    from briefer.cli import options as o
    from briefer.extract.article import DEFAULT_MAX_INPUT_TOKENS
    from briefer.fetch.copies import DEFAULT_THRESHOLD
    from briefer.ingest.folder import DEFAULT_MAX_CHARS
    from briefer.model.endpoint import EndpointConfig
    from briefer.pipeline import DEFAULT_MERGE_BUDGET, DEFAULT_STALE_DAYS, RunConfig

    e = EndpointConfig(model="m")
    assert (o.DEFAULT_TIMEOUT, o.DEFAULT_MAX_TIME) == (e.timeout, e.max_time)
    assert (o.DEFAULT_MAX_CHARS, o.DEFAULT_MAX_INPUT_TOKENS) == (DEFAULT_MAX_CHARS, DEFAULT_MAX_INPUT_TOKENS)
    assert (o.DEFAULT_MERGE_BUDGET, o.DEFAULT_STALE_DAYS) == (DEFAULT_MERGE_BUDGET, DEFAULT_STALE_DAYS)
    assert o.DEFAULT_COPY_THRESHOLD == DEFAULT_THRESHOLD
    assert o.DEFAULT_CONCURRENCY == RunConfig(folder=Path()).concurrency
