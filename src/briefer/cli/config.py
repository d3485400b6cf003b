"""`briefer config show`: the settings in force, and where each came from (a flag, the environment, briefer.toml,
or briefer's default). The loader is the library's (briefer/settings.py)."""

# No `from __future__ import annotations` here: typer reads every command's option annotations at each start,
# and string annotations cost it a compile() and an eval() each (0.04 s of every run, --help included).

import os

import typer

from briefer.defaults import DEFAULT_MODEL
from briefer.errors import BrieferError

from .common import fail
from .options import (
    DEFAULT_CONCURRENCY,
    DEFAULT_STALE_DAYS,
    Aliases,
    BaseUrl,
    Concurrency,
    Mode,
    Model,
    Out,
    PanelCommand,
    Price,
    StaleDays,
    source_of,
)

# What an unset value means.
UNSET = {"out": "briefs/{date}", "aliases": "(aliases.toml beside FOLDER, if any)", "price": "(briefer's table)"}

config_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="The config file (briefer.toml): what is in force, and from where.")


@config_app.command("show", cls=PanelCommand)
def show_command(
    ctx: typer.Context,
    model: Model = DEFAULT_MODEL,
    base_url: BaseUrl = None,
    mode: Mode = "tools",
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    price: Price = None,
    out: Out = None,
    aliases: Aliases = None,
    stale_days: StaleDays = DEFAULT_STALE_DAYS,
) -> None:
    """Print each setting in force and where it came from; options given here show as they would on a command."""
    from briefer.redact import safe_url
    from briefer.settings import in_force, load_settings, settings_file, user_config_file

    given = {"model": model, "base_url": base_url, "mode": mode, "concurrency": concurrency, "price": price,
             "out": out, "aliases": aliases, "stale_days": stale_days}
    try:
        path = settings_file()
        settings = in_force({k: (v, source_of(ctx, k)) for k, v in given.items()}, load_settings(path))
    except BrieferError as exc:
        raise fail(str(exc), exc.exit_code) from None
    looked = "BRIEFER_CONFIG is empty" if os.environ.get("BRIEFER_CONFIG") == "" else \
        f"looked for ./briefer.toml, then {user_config_file()}"
    typer.echo(f"config file: {path if path else f'none ({looked})'}")
    width = max(map(len, settings))
    for key, setting in settings.items():
        shown = UNSET.get(key, "(none)") if setting.value is None else str(setting.value)
        if key == "base_url" and setting.value:
            shown = safe_url(setting.value)  # credentials in the URL are never shown
        typer.echo(f"{key:<{width}}  {shown}  (from {setting.source})")
