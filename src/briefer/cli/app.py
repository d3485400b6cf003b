"""The `briefer` command: the app, its commands registered in one place, and `main` (the entry point).

Every command module imports typer only; each loads the pipeline or the SDKs when it runs, so `briefer --help`
stays fast (tests/test_startup.py).
"""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from briefer import gcpause
from briefer.errors import Terminated

from .batch import batch_app
from .common import fail
from .config import config_app
from .doctor import doctor
from .eval import eval_command
from .fetch import fetch_command
from .options import PanelCommand
from .summarize import summarize

# Shown under `briefer --help` and `briefer summarize --help`. "\b" keeps click from rewrapping the lines.
EPILOG = """\b
Environment:
  OPENAI_API_KEY     key for the endpoint (read, never written anywhere)
  OPENAI_BASE_URL    default for --base-url
  BRIEFER_MODEL      default for --model
  BRIEFER_CACHE_DIR  default for --cache-dir
  BRIEFER_PRICE      default for --price ('IN,OUT', USD per million tokens)
  BRIEFER_CONFIG     the config file [default: ./briefer.toml, else the user config
                     folder's]; flags and the variables above win over it

\b
Exit codes:
  0    complete
  1    nothing produced (no articles, endpoint unusable, no usable recordings)
  2    usage error
  3    partial: some articles failed, or were kept in part (with warnings); the brief
       is written and says so
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): finished work is kept
"""

app = typer.Typer(
    no_args_is_help=True,
    epilog=EPILOG,
    # Plain help text: rendering it with rich costs ~130 ms of start-up (target: --help under 0.3 s). The option
    # panels are kept by PanelCommand.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Daily news briefs from articles in languages you don't read: summarised, translated, traceable.",
)


def _show_version(value: bool) -> None:
    if value:
        from briefer._version import __version__

        typer.echo(f"briefer {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Daily news briefs from articles in languages you don't read: summarised, translated, traceable."""


def schemas(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if schemas/ differs from the models.")] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where the schema files live.")] = Path("schemas"),
) -> None:
    """Write (or check) the JSON Schemas generated from the models."""
    from briefer.schemas import write_schemas

    stale = write_schemas(directory, check=check)
    if check and stale:
        raise fail(f"schemas out of date: {', '.join(stale)}; run: briefer schemas", 1)
    typer.echo(f"schemas {'checked' if check else 'written'} in {directory}", err=True)


# Every command, in the order `briefer --help` lists them (a new command is one line here, e.g. `briefer fetch`).
app.command("summarize", cls=PanelCommand, epilog=EPILOG)(summarize)
app.command("fetch")(fetch_command)
app.add_typer(batch_app, name="batch")
app.command("eval", cls=PanelCommand)(eval_command)
app.command("doctor", cls=PanelCommand)(doctor)
app.add_typer(config_app, name="config")
app.command("schemas")(schemas)


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated()


def main() -> None:
    # Installed by the command only, not on import: a program that embeds the library keeps its own handler.
    signal.signal(signal.SIGTERM, _on_sigterm)
    gcpause.for_a_run()
    try:
        # One name for usage lines and shell completion, also under `python -m briefer`.
        app(prog_name="briefer")
    except Terminated:
        sys.exit(143)
    except KeyboardInterrupt:
        sys.exit(130)
