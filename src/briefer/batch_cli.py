"""`briefer batch …`: article requests answered by a batch engine, then the ordinary run from the cache.

Thin like cli.py: parse options, call batch_run, print one line per outcome, map errors to exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import BrieferError

batch_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Thousands of articles: the provider's Batch API, or offline engines (vLLM run-batch), through the cache.",
)

Folder = Annotated[Path, typer.Argument(help="Folder of articles, as for `briefer summarize`.")]
Model = Annotated[str, typer.Option(help="Model name.", envvar="BRIEFER_MODEL")]
BaseUrl = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.",
                                             envvar="OPENAI_BASE_URL")]
Mode = Annotated[str, typer.Option(help="Structured-output mode: tools, json_schema, json, md_json.")]
CacheDir = Annotated[Path | None, typer.Option("--cache-dir", help="Response cache [default: user cache].")]
Temperature = Annotated[float, typer.Option(help="Sampling temperature.")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Completion token limit per answer.")]
PromptDir = Annotated[Path | None, typer.Option("--prompt-dir", help="Prompt templates to use.")]
Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Read subfolders too.")]
MaxChars = Annotated[int, typer.Option("--max-chars", help="Characters kept per article.")]
MaxInputTokens = Annotated[int, typer.Option("--max-input-tokens", help="Estimated tokens of article text per "
                                             "request; longer articles are read in parts.")]
Recordings = Annotated[Path | None, typer.Option("--recordings", help="Recordings folder [default: 'recordings' "
                                                 "beside FOLDER].")]


def _fail(message: str, code: int) -> typer.Exit:
    from .redact import redact

    typer.echo(redact(f"briefer: {message}", shapes=True), err=True)
    return typer.Exit(code)


def _say(message: str) -> None:
    from .redact import redact

    typer.echo(redact(message, shapes=True), err=True)


def _cache_dir(cache_dir: Path | None) -> Path:
    from .cli import _default_cache_dir

    return cache_dir or _default_cache_dir()


def _config(folder: Path, **options: Any) -> Any:
    """The RunConfig these options describe (only the options that shape a request or the run)."""
    from .model.llm import EndpointConfig
    from .pipeline import RunConfig

    endpoint = EndpointConfig(model=options.pop("model"), mode=options.pop("mode"), base_url=options.pop("base_url"),
                              temperature=options.pop("temperature"), max_tokens=options.pop("max_tokens"))
    options["cache_dir"] = _cache_dir(options.get("cache_dir"))
    return RunConfig(folder=folder, endpoint=endpoint, **options)


@batch_app.command("export")
def export_command(
    folder: Folder,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the requests (JSONL).")],
    model: Model = "gpt-4o-mini",
    mode: Mode = "tools",
    temperature: Temperature = 0.0,
    max_tokens: MaxTokens = None,
    cache_dir: CacheDir = None,
    prompt_dir: PromptDir = None,
    recordings: Recordings = None,
    recursive: Recursive = False,
    max_chars: MaxChars = 200_000,
    max_input_tokens: MaxInputTokens = 12_000,
) -> None:
    """Write FOLDER's unanswered article requests as Batch-API JSONL (for `vllm run-batch`)."""
    try:
        from .batch_run import export

        cfg = _config(folder, model=model, mode=mode, base_url=None, temperature=temperature, max_tokens=max_tokens,
                      cache_dir=cache_dir, prompt_dir=prompt_dir, recordings_dir=recordings, recursive=recursive,
                      max_chars=max_chars, max_input_tokens=max_input_tokens)
        done = export(cfg, output)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    _say(f"{done.requests} requests written to {output} ({done.articles} articles, {done.answered} requests "
         f"already answered in the cache); after the engine answers: briefer batch import RESULTS.jsonl"
         + (f" --cache-dir {cache_dir}" if cache_dir else ""))


@batch_app.command("import")
def import_command(
    results: Annotated[Path, typer.Argument(help="Batch-API output JSONL (custom_id, response, error).")],
    cache_dir: CacheDir = None,
    followup: Annotated[Path | None, typer.Option("--followup", help="Where to write the requests to ask again "
                                                  "[default: RESULTS.followup.jsonl].")] = None,
) -> None:
    """Validate each answer like a live one and store the valid ones in the cache."""
    try:
        from .batch_run import import_file

        report, written = import_file(results, _cache_dir(cache_dir), followup=followup)
    except BrieferError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except OSError as exc:
        raise _fail(f"{results}: {exc.strerror or exc}", 1) from None
    _report(report, written)
    raise typer.Exit(0 if not report.rejected else 3)


def _report(report: Any, followup: Path | None) -> None:
    for r in report.rejected:
        _say(f"briefer: not imported: {r.custom_id[:16]}{' (' + r.subject + ')' if r.subject else ''}: {r.reason}")
    _say(f"{report.imported} answers imported into the cache, {report.already} already there, "
         f"{len(report.rejected)} not imported" + (f"; their requests: {followup}" if followup else ""))
