"""Command-line options that several commands share (summarize, eval): declared once, so their names, help
and defaults cannot drift apart."""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

from typing import Annotated

import typer

Timeout = Annotated[float, typer.Option(help="Seconds the endpoint may send nothing: connecting, before the first "
                                        "token, between two tokens.")]
MaxTime = Annotated[float, typer.Option("--max-time", help="Seconds one answer may take in all; an answer cut there "
                                        "is not retried.")]
Stream = Annotated[bool, typer.Option("--stream/--no-stream", help="Stream answers, so --timeout bounds each silence "
                                      "between tokens, not the whole answer (slow local models; a terminal shows "
                                      "tokens per second).")]
RetryFailed = Annotated[bool, typer.Option("--retry-failed", help="Ask the model again the requests whose answer "
                                           "failed validation in an earlier run (else the cache replays the "
                                           "failure).")]
# The library's defaults (EndpointConfig), written here rather than imported: `briefer --help` must not load
# model/llm.py (start-up time). tests/test_cli.py holds them equal.
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_TIME = 600.0
