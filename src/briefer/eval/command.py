"""The `briefer eval` command: options in, a table out, and an exit code (the engine is evaluate.py).

Exit codes: 0 every check passed · 4 some check failed or its recording is stale · 1 errors (the run
could not be made, or a check could not be evaluated) · 2 usage (bad options or expectation files).
Only typer is imported here; the pipeline is imported when the command runs.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

from pathlib import Path
from typing import Annotated

import typer

from briefer.options import DEFAULT_MAX_TIME, DEFAULT_TIMEOUT, MaxTime, RetryFailed, Stream, Timeout


def _say(line: str) -> None:
    """A line on stderr (see terminal.py)."""
    from briefer.terminal import say

    say(line)


def _fail(message: str, code: int) -> typer.Exit:
    _say(f"briefer: {message}")
    return typer.Exit(code)


def eval_command(
    offline: Annotated[bool, typer.Option("--offline", help="No network: replay the fixtures' recordings.")] = False,
    model: Annotated[str, typer.Option(help="Model name.", envvar="BRIEFER_MODEL")] = "gpt-4o-mini",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.", envvar="OPENAI_BASE_URL")
    ] = None,
    mode: Annotated[str, typer.Option(help="Structured-output mode: tools, json_schema, json, md_json.")] = "tools",
    prompt_dir: Annotated[
        Path | None, typer.Option("--prompt-dir", help="Prompt templates to test (default: the shipped prompts).")
    ] = None,
    recordings: Annotated[
        Path | None, typer.Option("--recordings", help="Recordings to replay (default: FIXTURES/recordings "
                                  "with --offline; none live: every answer comes from the model).")
    ] = None,
    fixtures: Annotated[
        Path, typer.Option("--fixtures", help="Folder holding articles/, recordings/ and expectations/.")
    ] = Path("fixtures"),
    report: Annotated[Path | None, typer.Option("--report", help="Write the results as JSON here.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write the results as JUnit XML here.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Keep the run's output here (summaries, brief, the "
                                             "model's raw answers to failed articles); default: discarded.")] = None,
    retry_failed: RetryFailed = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    max_time: MaxTime = DEFAULT_MAX_TIME,
    stream: Stream = False,
    max_retries: Annotated[int, typer.Option("--max-retries", help="Retries of one HTTP request after a "
                                             "transient fault.")] = 4,
    max_reasks: Annotated[int, typer.Option("--max-reasks", help="Re-asks when the answer is invalid.")] = 2,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Completion token limit per answer.")] = None,
    concurrency: Annotated[int, typer.Option(help="Requests to the model in flight at once.")] = 8,
    frequency_penalty: Annotated[float | None, typer.Option("--frequency-penalty", help="Penalise repeated tokens "
                                                            "(-2 to 2).")] = None,
    presence_penalty: Annotated[float | None, typer.Option("--presence-penalty", help="Penalise tokens already "
                                                           "used (-2 to 2).")] = None,
    extra_body: Annotated[str | None, typer.Option("--extra-body", help="More request parameters, as JSON "
                                                   "(llama.cpp: '{\"repeat_penalty\": 1.1}').")] = None,
    compare_prompt_dir: Annotated[
        Path | None, typer.Option("--compare-prompt-dir", help="Also run these prompts (B) and list every check "
                                  "that changed from --prompt-dir (A); the exit code is B's.")
    ] = None,
) -> None:
    """Check the fixtures' summaries and brief against their expectations: a test runner for prompts."""
    from briefer.errors import BrieferError, Terminated

    try:
        from briefer.model.llm import MODES, EndpointConfig

        from .evaluate import EvalConfig, evaluate, format_report, to_json, to_junit

        if mode not in MODES:
            raise _fail(f"--mode must be one of {', '.join(MODES)}", 2)
        result = evaluate(EvalConfig(fixtures=fixtures, offline=offline, prompt_dir=prompt_dir, recordings=recordings,
                                     endpoint=EndpointConfig(model=model, mode=mode, base_url=base_url,
                                                             timeout=timeout, max_retries=max_retries,
                                                             max_time=max_time, stream=stream,
                                                             max_reasks=max_reasks, max_tokens=max_tokens,
                                                             frequency_penalty=frequency_penalty,
                                                             presence_penalty=presence_penalty, extra_body=extra_body),
                                     compare_prompt_dir=compare_prompt_dir, concurrency=concurrency, out=out,
                                     retry_failed=retry_failed))
    except Terminated:
        raise _fail("terminated (SIGTERM)", 143) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    from briefer.files import atomic_write
    from briefer.redact import redact

    typer.echo(redact(format_report(result)))
    for run in result.runs:
        for warning in run.warnings:
            _say(f"briefer: warning: {warning}")
    try:
        if report is not None:  # through the one writer: atomic, redacted
            atomic_write(report, to_json(result))
        if junit is not None:
            atomic_write(junit, to_junit(result.runs[-1]))
    except OSError as exc:
        raise _fail(f"cannot write the report: {exc}", 1) from None
    raise typer.Exit(result.exit_code)
