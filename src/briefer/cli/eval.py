"""The `briefer eval` command: options in, a table out, and an exit code (the engine is eval/evaluate.py).

Exit codes: 0 every check passed · 4 some check failed or its recording is stale · 1 errors (the run
could not be made, or a check could not be evaluated) · 2 usage (bad options or expectation files).
Only typer is imported here; the pipeline and the engine (eval/evaluate.py) are imported when it runs.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

from pathlib import Path
from typing import Annotated

import typer

from .common import fail, say
from .options import (
    DEFAULT_CONCURRENCY,
    REPLAY,
    Concurrency,
    EndpointOptions,
    Offline,
    RetryFailed,
    grouped_flags_only,
    option,
)


# Not from briefer.toml: a prompt test is decided by its command line alone (CI runs it the same everywhere).
@grouped_flags_only
def eval_command(
    *,
    offline: Offline = False,
    endpoint: EndpointOptions,
    prompt_dir: Annotated[
        Path | None, option("--prompt-dir", help="Prompt templates to test [default: the shipped prompts].",
                            panel=REPLAY)
    ] = None,
    recordings: Annotated[
        Path | None, option("--recordings", help="Recordings to replay [default: FIXTURES/recordings with "
                            "--offline; none live: every answer comes from the model].", panel=REPLAY)
    ] = None,
    fixtures: Annotated[
        Path, typer.Option("--fixtures", help="Folder holding articles/, recordings/ and expectations/.")
    ] = Path("fixtures"),
    report: Annotated[Path | None, typer.Option("--report", help="Write the results as JSON here.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write the results as JUnit XML here.")] = None,
    # Not `out`: briefer.toml's output pattern is for briefs, not for what eval keeps.
    keep: Annotated[Path | None, typer.Option("--out", "-o", help="Keep the run's output here (summaries, brief, the "
                                              "model's raw answers to failed articles) [default: discarded].")
                    ] = None,
    retry_failed: RetryFailed = False,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    compare_prompt_dir: Annotated[
        Path | None, typer.Option("--compare-prompt-dir", help="Also run these prompts (B) and list every check "
                                  "that changed from --prompt-dir (A); the exit code is B's.")
    ] = None,
) -> None:
    """Check the fixtures' summaries and brief against their expectations: a test runner for prompts."""
    from briefer.errors import BrieferError, Terminated

    try:
        from briefer.eval.evaluate import EvalConfig, evaluate

        result = evaluate(EvalConfig(fixtures=fixtures, offline=offline, prompt_dir=prompt_dir, recordings=recordings,
                                     endpoint=endpoint.config(), compare_prompt_dir=compare_prompt_dir,
                                     concurrency=concurrency, out=keep, retry_failed=retry_failed))
    except Terminated:
        raise fail("terminated (SIGTERM)", 143) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    from briefer.eval.evaluate import format_report, to_json, to_junit
    from briefer.files import atomic_write
    from briefer.redact import redact

    typer.echo(redact(format_report(result)))
    for run in result.runs:
        for warning in run.warnings:
            say(f"briefer: warning: {warning}")
    try:
        if report is not None:  # through the one writer: atomic, redacted
            atomic_write(report, to_json(result))
        if junit is not None:
            atomic_write(junit, to_junit(result.runs[-1]))
    except OSError as exc:
        raise fail(f"cannot write the report: {exc}", 1) from None
    raise typer.Exit(result.exit_code)
