"""`briefer doctor`: one line per check of the endpoint in force, and exit 1 when one fails (the line before the
cron job). The checks are the library's (briefer/doctor.py); the request goes through the model door."""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import os

import typer

from briefer.errors import BrieferError

from .common import cache_dir_for, fail
from .options import CacheDir, EndpointOptions, NoCache, PromptDir, ReplayOptions, grouped


@grouped
def doctor(*, endpoint: EndpointOptions, cache_dir: CacheDir = None,
           no_cache: NoCache = False, prompt_dir: PromptDir = None) -> None:
    """Check the endpoint in force (the flags, then briefer.toml): key, cache, server, model, one structured
    request. Exit 0 when every check passes, 1 when one fails."""
    import asyncio

    from briefer.redact import register

    register(os.environ.get("OPENAI_API_KEY"))
    try:
        from briefer.doctor import diagnose

        checks = asyncio.run(diagnose(endpoint.config(), cache_dir_for(ReplayOptions(cache_dir=cache_dir,
                                                                                      no_cache=no_cache)),
                                      prompt_dir=prompt_dir))
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    from briefer.terminal import for_terminal

    for check in checks:
        typer.echo(for_terminal(check.line()))
    failed = [c for c in checks if c.failed]
    raise typer.Exit(1 if failed else 0)
