"""Every command-line option that two commands share, declared once (name, short flag, help, default, help panel),
and the option groups that commands take whole.

A command names a group as one parameter (`endpoint: EndpointOptions`); `grouped` spreads the group's fields into
the options typer sees and hands the command the group back, filled in, with the values of `briefer.toml` put in
where no flag or environment variable gave one (briefer/settings.py). So `summarize` and `batch submit` take the
same endpoint options by construction, and a test compares their option sets.
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import dataclasses
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from briefer.defaults import DEFAULT_MODEL, MODES

# The help panels, in the order `--help` shows them.
INPUT = "Input"
ENDPOINT = "Model and endpoint"
LIMITS = "Limits and cost"
OUTPUT = "Output"
REPLAY = "Replay and cache"
BATCH = "Batch"
PANELS = (INPUT, ENDPOINT, LIMITS, OUTPUT, REPLAY, BATCH)

# The library's defaults, written here rather than imported: `briefer --help` must not load the model client or the
# pipeline (start-up time). tests/test_cli.py holds them equal.
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_TIME = 600.0
DEFAULT_MAX_CHARS = 200_000
DEFAULT_MAX_INPUT_TOKENS = 12_000
DEFAULT_MERGE_BUDGET = 16_000
DEFAULT_STALE_DAYS = 7
DEFAULT_CONCURRENCY = 8
DEFAULT_COPY_THRESHOLD = 0.5  # fetch/copies.py's DEFAULT_THRESHOLD (a test holds them equal)
DEFAULT_MAX_REQUESTS = 50_000
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


def option(*names: str, help: str, panel: str, **more: Any) -> Any:
    """A typer option shown under `panel` in --help."""
    return typer.Option(*names, help=help, rich_help_panel=panel, **more)


# ---------------------------------------------------------------------------------------------------- input
Folder = Annotated[Path, typer.Argument(help="Folder of articles (.txt, .md, .html, .htm, .json, .jsonl).")]
Recursive = Annotated[bool, option("--recursive", "-r", help="Read subfolders too.", panel=INPUT)]
FollowLinks = Annotated[bool, option("--follow-links", help="Read links leading out of FOLDER.", panel=INPUT)]
MaxChars = Annotated[int, option("--max-chars", help="Characters kept per article; longer text is cut at a "
                                  "paragraph break (and says so).", panel=INPUT)]
Aliases = Annotated[Path | None, option("--aliases", help="Alias file joining or separating entities [default: "
                                         "'aliases.toml' beside FOLDER, if any].", panel=INPUT)]
Since = Annotated[str | None, option("--since", help="Earlier brief to compare with: its folder, or a day (YYYY-MM-DD, "
                                      "'yesterday') whose brief is beside --out [default: the newest earlier brief of "
                                      "the same FOLDER beside a dated --out].", panel=INPUT)]
CopyThreshold = Annotated[float, option("--copy-threshold", help="Similarity (0-1) at which articles are copies of "
                                         "one story, asked once; 0 turns it off.", panel=INPUT)]
Outlets = Annotated[Path | None, option("--outlets", help="Your descriptions of outlets [default: 'outlets.toml' "
                                        "beside FOLDER, if any].", panel=INPUT)]
NoSince = Annotated[bool, option("--no-since", help="Compare with no earlier brief.", panel=INPUT)]
Date = Annotated[str | None, option("--date", help="Date of the brief, YYYY-MM-DD [default: today].", panel=INPUT)]
StaleDays = Annotated[int, option("--stale-days", help="Older than the newest article by more than this many "
                                   "days: stale.", panel=INPUT)]

# ---------------------------------------------------------------------------------------------------- endpoint
Model = Annotated[str, option("--model", "-m", help="Model name.", envvar="BRIEFER_MODEL", panel=ENDPOINT)]
BaseUrl = Annotated[str | None, option("--base-url", help="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, "
                                        "LM Studio).", envvar="OPENAI_BASE_URL", panel=ENDPOINT)]
Mode = Annotated[str, option("--mode", help=f"Structured-output mode: {', '.join(MODES)}.", panel=ENDPOINT)]
Timeout = Annotated[float, option("--timeout", help="Seconds the endpoint may send nothing: connecting, before "
                                   "the first token, between two tokens.", panel=ENDPOINT)]
MaxTime = Annotated[float, option("--max-time", help="Seconds one answer may take in all; an answer cut there is "
                                   "not retried.", panel=ENDPOINT)]
Stream = Annotated[bool, option("--stream/--no-stream", help="Stream answers, so --timeout bounds each silence "
                                 "between tokens, not the whole answer (slow local models; a terminal shows tokens "
                                 "per second).", panel=ENDPOINT)]
MaxRetries = Annotated[int, option("--max-retries", help="Retries of one HTTP request after a transient fault "
                                    "(429, 5xx, timeout, reset).", panel=ENDPOINT)]
MaxReasks = Annotated[int, option("--max-reasks", help="Re-asks when the answer is invalid.", panel=ENDPOINT)]
Temperature = Annotated[float, option("--temperature", help="Sampling temperature.", panel=ENDPOINT)]
FrequencyPenalty = Annotated[float | None, option("--frequency-penalty", help="Penalise repeated tokens (-2 to 2); "
                                                   "against small models' loops.", panel=ENDPOINT)]
PresencePenalty = Annotated[float | None, option("--presence-penalty", help="Penalise tokens already used (-2 to "
                                                  "2).", panel=ENDPOINT)]
ExtraBody = Annotated[str | None, option("--extra-body", help="More request parameters the server understands, as "
                                          "JSON, e.g. '{\"repeat_penalty\": 1.1}' (llama.cpp).", panel=ENDPOINT)]
MaxResponseMb = Annotated[float, option("--max-response-mb", help="Largest HTTP response read, in MB; a larger one "
                                         "fails its request.", panel=ENDPOINT)]

# ---------------------------------------------------------------------------------------------------- limits, cost
Concurrency = Annotated[int, option("--concurrency", help="Requests to the model in flight at once.", panel=LIMITS)]
MaxTokens = Annotated[int | None, option("--max-tokens", help="Completion token limit per answer.", panel=LIMITS)]
MaxInputTokens = Annotated[int, option("--max-input-tokens", help="Estimated tokens of article text per request; "
                                        "longer articles are read in parts.", panel=LIMITS)]
MergeBudget = Annotated[int, option("--merge-budget", help="Estimated tokens of input per merge call; more "
                                     "articles are merged in batches.", panel=LIMITS)]
Price = Annotated[str | None, option("--price", help="Model price 'IN,OUT[,CACHED]' in USD per million tokens "
                                      "[default: briefer.toml's [prices], then briefer's table for OpenAI models].",
                                      envvar="BRIEFER_PRICE", panel=LIMITS)]
MaxCost = Annotated[float | None, option("--max-cost", help="Stop before spending more than this many USD "
                                          "(estimated).", panel=LIMITS)]
Rpm = Annotated[float | None, option("--rpm", help="Requests per minute the endpoint allows.", panel=LIMITS)]
Tpm = Annotated[float | None, option("--tpm", help="Tokens per minute the endpoint allows.", panel=LIMITS)]
PollInterval = Annotated[float | None, option("--poll-interval", help="With --batch: seconds between looks at the "
                                              "running batches [default: 60].", panel=BATCH)]
DryRun = Annotated[bool, option("--dry-run", help="Estimate requests, tokens and cost; call nothing.", panel=LIMITS)]

# ---------------------------------------------------------------------------------------------------- output
Out = Annotated[Path | None, option("--out", "-o", help="Output folder; may name {date} and {folder} [default: "
                                     "briefer.toml's out, else briefs/{date}].", panel=OUTPUT)]
NoHtml = Annotated[bool, option("--no-html", help="Do not write brief.html.", panel=OUTPUT)]

# ---------------------------------------------------------------------------------------------------- replay, cache
CacheDir = Annotated[Path | None, option("--cache-dir", help="Response cache [default: BRIEFER_CACHE_DIR, else the "
                                          "user cache].", panel=REPLAY)]
NoCache = Annotated[bool, option("--no-cache", help="Neither read nor write the response cache.", panel=REPLAY)]
Offline = Annotated[bool, option("--offline", help="No network: answers come from recordings and cache.",
                                  panel=REPLAY)]
Record = Annotated[bool, option("--record", help="Call the endpoint and write recordings.", panel=REPLAY)]
RecordStale = Annotated[bool, option("--record-stale", help="Like --record, but replay the recordings that still "
                                     "match: ask and record only the stale or missing ones.", panel=REPLAY)]
RetryFailed = Annotated[bool, option("--retry-failed", help="Ask the model again the requests whose answer failed "
                                      "validation in an earlier run (else the cache replays the failure).",
                                      panel=REPLAY)]
Recordings = Annotated[Path | None, option("--recordings", help="Recordings folder [default: recordings/<name> "
                                            "beside FOLDER].", panel=REPLAY)]
PromptDir = Annotated[Path | None, option("--prompt-dir", help="Prompt templates to use [default: the shipped "
                                           "prompts].", panel=REPLAY)]

# ---------------------------------------------------------------------------------------------------- batch
MaxRequests = Annotated[int, option("--max-requests-per-batch", help="Requests per batch input file; more are split "
                                     "into several batches.", panel=BATCH)]
MaxBytes = Annotated[int, option("--max-batch-bytes", help="Bytes per batch input file; more are split into "
                                  "several batches.", panel=BATCH)]
BatchMerge = Annotated[bool, option("--batch-merge", help="Send the merge calls as a batch too, once the articles "
                                     "are answered [default: the merge is asked live].", panel=BATCH)]
LiveRest = Annotated[bool, option("--live-rest", help="After the first batch, ask what is left of the articles "
                                   "live (requests without a valid answer, reduce calls, re-asks), instead of in "
                                   "follow-up batches.", panel=BATCH)]


class OptionGroup:
    """Options a command takes together, as one dataclass: `grouped` spreads its fields into the command."""


@dataclasses.dataclass
class EndpointOptions(OptionGroup):
    """Everything that shapes a request to the model or reaches the endpoint (EndpointConfig)."""

    model: Model = DEFAULT_MODEL
    base_url: BaseUrl = None
    mode: Mode = "tools"
    timeout: Timeout = DEFAULT_TIMEOUT
    max_time: MaxTime = DEFAULT_MAX_TIME
    stream: Stream = False
    max_retries: MaxRetries = 4
    max_reasks: MaxReasks = 2
    max_tokens: MaxTokens = None
    temperature: Temperature = 0.0
    frequency_penalty: FrequencyPenalty = None
    presence_penalty: PresencePenalty = None
    extra_body: ExtraBody = None
    rpm: Rpm = None
    tpm: Tpm = None
    max_response_mb: MaxResponseMb = 8.0

    def config(self) -> Any:
        """The library's EndpointConfig (imported now: it loads model/endpoint.py)."""
        from briefer.model.endpoint import EndpointConfig

        values = dataclasses.asdict(self)
        values["max_response_bytes"] = megabytes(values.pop("max_response_mb"))
        return EndpointConfig(**values)


@dataclasses.dataclass
class InputOptions(OptionGroup):
    """Which files are read, and how much of each."""

    recursive: Recursive = False
    follow_links: FollowLinks = False
    max_chars: MaxChars = DEFAULT_MAX_CHARS
    aliases: Aliases = None
    date: Date = None
    stale_days: StaleDays = DEFAULT_STALE_DAYS
    since: Since = None
    no_since: NoSince = False
    copy_threshold: CopyThreshold = DEFAULT_COPY_THRESHOLD
    outlets: Outlets = None


@dataclasses.dataclass
class LimitOptions(OptionGroup):
    """How much is sent at once, and what it may cost."""

    concurrency: Concurrency = DEFAULT_CONCURRENCY
    max_input_tokens: MaxInputTokens = DEFAULT_MAX_INPUT_TOKENS
    merge_budget: MergeBudget = DEFAULT_MERGE_BUDGET
    price: Price = None
    max_cost: MaxCost = None


@dataclasses.dataclass
class ReplayOptions(OptionGroup):
    """Where answers are replayed from and kept."""

    cache_dir: CacheDir = None
    no_cache: NoCache = False
    offline: Offline = False
    record: Record = False
    record_stale: RecordStale = False
    retry_failed: RetryFailed = False
    recordings: Recordings = None
    prompt_dir: PromptDir = None


@dataclasses.dataclass
class OutputOptions(OptionGroup):
    """Where the brief goes, and what is written."""

    out: Out = None
    no_html: NoHtml = False


@dataclasses.dataclass
class BatchLimits(OptionGroup):
    """How a batch's requests are split into input files."""

    max_requests: MaxRequests = DEFAULT_MAX_REQUESTS
    max_bytes: MaxBytes = DEFAULT_MAX_BYTES


def megabytes(mb: float) -> int:
    """Bytes, or 0 (refused as a usage error) for nan, inf and negative values."""
    return int(mb * 1e6) if 0 <= mb < float("inf") else 0


def _group_of(annotation: Any) -> type[OptionGroup] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, OptionGroup) else None


def grouped(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with each OptionGroup parameter spread into its fields (the options typer shows), and the values
    in force handed back as the group: a flag or its environment variable, else briefer.toml, else the default."""
    return _spread(command, config_file=True)


def grouped_flags_only(command: Callable[..., Any]) -> Callable[..., Any]:
    """As `grouped`, without briefer.toml: for a command whose run its flags alone must decide (`briefer eval`)."""
    return _spread(command, config_file=False)


def _spread(command: Callable[..., Any], *, config_file: bool) -> Callable[..., Any]:
    groups: dict[str, type[OptionGroup]] = {}
    params: list[inspect.Parameter] = []
    for p in inspect.signature(command).parameters.values():
        group = _group_of(p.annotation)
        if group is None:
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        groups[p.name] = group
        params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
                   for f in dataclasses.fields(group)]  # type: ignore[arg-type]
    names = [p.name for p in params]
    if len(names) != len(set(names)):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise TypeError(f"{command.__name__}: an option is declared twice: {', '.join(twice)}")

    @functools.wraps(command)
    def run(**values: Any) -> Any:
        ctx = values.pop(CONTEXT)
        if config_file:
            values = _in_force(values, ctx)
        for name, group in groups.items():
            values[name] = group(**{f.name: values.pop(f.name) for f in dataclasses.fields(group)})  # type: ignore[arg-type]
        return command(**values)

    # typer hands the click context to a parameter annotated typer.Context: where each value came from.
    params.append(inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context))
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


CONTEXT = "briefer_context"


def _in_force(values: dict[str, Any], ctx: typer.Context) -> dict[str, Any]:
    """`values` with the config file's values where neither a flag nor an environment variable gave one."""
    from briefer.settings import KEYS, in_force, load_settings

    keys = [k for k in KEYS if k in values]
    if not keys:
        return values
    given = {k: (values[k], source_of(ctx, k)) for k in keys}
    if all(source != "default" for _, source in given.values()):
        return values
    return {**values, **{k: s.value for k, s in in_force(given, load_settings()).items()}}


def source_of(ctx: typer.Context, name: str) -> str:
    """Where click found an option's value: 'flag', 'env' or 'default'."""
    source = ctx.get_parameter_source(name)
    return {"COMMANDLINE": "flag", "ENVIRONMENT": "env"}.get(source.name if source else "", "default")


class PanelCommand(TyperCommand):
    """A command whose `--help` lists its options under their panels (input, model and endpoint, …) as plain text.

    The app renders help without rich (rich_markup_mode=None: rich costs ~130 ms of start-up), and typer's plain
    help ignores `rich_help_panel`; this keeps the panels and the speed."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append(record)
            else:
                panels.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        for panel in sorted(panels, key=lambda p: PANELS.index(p) if p in PANELS else len(PANELS)):
            with formatter.section(panel):
                formatter.write_dl(panels[panel])
