"""briefer.toml: the options a user gives every morning, set once.

    # briefer.toml (in the working folder, else in the user config folder: `briefer config show` says which)
    model = "qwen2.5:7b-instruct"
    base_url = "http://127.0.0.1:11434/v1"
    mode = "json_schema"
    concurrency = 4
    out = "briefs/{folder}/{date}"     # the output folder; {date} and {folder} are filled in
    aliases = "aliases.toml"           # relative to this file's folder
    stale_days = 3
    # price = "0.15,0.60"              # USD per million tokens, for every model
    [prices]                           # or per model (local models cost nothing)
    "qwen2.5:7b-instruct" = "0,0"

A flag wins over its environment variable (BRIEFER_MODEL, OPENAI_BASE_URL, BRIEFER_PRICE), which wins over the
file, which wins over briefer's default. The file is input like any other: read strictly (unknown keys and wrong
types are usage errors naming the key), at most 64 KB, nothing nested deeper than the [prices] table.
`BRIEFER_CONFIG=FILE` names another file; `BRIEFER_CONFIG=` (empty) reads none.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .defaults import MODES
from .errors import UsageError

FILE_NAME = "briefer.toml"
MAX_BYTES = 64 * 1024
MAX_PRICES = 1000
# The keys a flag can also give, under the flag's own name (--base-url: base_url); the file alone has [prices].
KEYS = ("model", "base_url", "mode", "concurrency", "price", "out", "aliases", "stale_days")
ENV = {"model": "BRIEFER_MODEL", "base_url": "OPENAI_BASE_URL", "price": "BRIEFER_PRICE"}
OUT_FIELDS = ("date", "folder")


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str  # "command line", "environment (BRIEFER_MODEL)", the file's path, or "default"


@dataclass(frozen=True)
class FileSettings:
    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)


def user_config_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path("briefer") / FILE_NAME


def settings_file(cwd: Path | None = None) -> Path | None:
    """The config file in force: $BRIEFER_CONFIG, else ./briefer.toml, else the user config folder's, else none."""
    named = os.environ.get("BRIEFER_CONFIG")
    if named is not None:
        if not named:
            return None
        if not Path(named).is_file():
            raise UsageError(f"BRIEFER_CONFIG={named}: no such file")
        return Path(named)
    for candidate in ((cwd or Path.cwd()) / FILE_NAME, user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None) -> FileSettings | None:
    """The config file's settings (the file in force unless `path` names one), or None when there is none."""
    path = path or settings_file()
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"{path}: the config file is larger than {MAX_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> FileSettings:
    import tomllib  # here, not at start-up: most runs have no config file

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise UsageError(f"{path}: nested too deeply (briefer.toml holds keys and one [prices] table)") from None
    unknown = sorted(set(data) - {*KEYS, "prices"})
    if unknown:
        raise UsageError(f"{path}: unknown key '{unknown[0]}' (known: {', '.join((*KEYS, 'prices'))})")
    values = {key: _checked(key, data[key], path) for key in KEYS if key in data}
    return FileSettings(path, values, _prices(data.get("prices", {}), path))


def _text(key: str, value: object, path: Path, limit: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or not value.isprintable():
        raise UsageError(f"{path}: {key}: must be a non-empty line of text (at most {limit} characters)")
    return value


def _number(key: str, value: object, path: Path, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UsageError(f"{path}: {key}: must be a whole number from {low} to {high}")
    return value


def _checked(key: str, value: object, path: Path) -> Any:
    if key == "concurrency":
        return _number(key, value, path, 1, 1024)
    if key == "stale_days":
        return _number(key, value, path, 0, 36_500)
    text = _text(key, value, path)
    if key == "mode" and text not in MODES:
        raise UsageError(f"{path}: mode: must be one of {', '.join(MODES)}")
    if key == "base_url" and not text.startswith(("http://", "https://")):
        raise UsageError(f"{path}: base_url: must start with http:// or https://")
    if key == "out":
        out_fields(text, f"{path}: out")
        return Path(text).expanduser()  # relative to the working folder, as --out is
    if key == "aliases":
        return path.parent / Path(text).expanduser()  # relative to the file that names it
    return text


def _prices(table: object, path: Path) -> dict[str, str]:
    if not isinstance(table, dict) or len(table) > MAX_PRICES:
        raise UsageError(f"{path}: prices: must be a table of at most {MAX_PRICES} \"model\" = \"IN,OUT\" lines")
    return {_text("prices", model, path, 200): _text(f"prices.{model}", price, path, 100)
            for model, price in table.items()}


def in_force(given: Mapping[str, tuple[Any, str]], file: FileSettings | None) -> dict[str, Setting]:
    """Each key's value and where it came from. `given`: key -> (value, 'flag' | 'env' | 'default'), as the command
    line parsed it; a default gives way to the file's value (the price to the file's [prices] for the model)."""
    out: dict[str, Setting] = {}
    for key, (value, source) in given.items():
        if source == "flag":
            out[key] = Setting(value, "command line")
        elif source == "env":
            out[key] = Setting(value, f"environment ({ENV.get(key, key)})")
        elif file is not None and key in file.values:
            out[key] = Setting(file.values[key], str(file.path))
        else:
            out[key] = Setting(value, "default")
    price, model = out.get("price"), out.get("model")
    if file is not None and price is not None and price.source == "default" and model is not None \
            and model.value in file.prices:
        out["price"] = Setting(file.prices[model.value], f"{file.path}, [prices]")
    return out


def out_fields(pattern: str, where: str = "--out") -> set[str]:
    """The placeholders an output pattern names ({date}, {folder}); anything else is a usage error."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise UsageError(f"{where}: {exc} (a literal brace is written {{{{ or }}}})") from None
    names = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in OUT_FIELDS or spec or conversion:
            raise UsageError(f"{where}: unknown placeholder {{{name}}} (use {{date}} or {{folder}})")
        names.add(name)
    return names


def output_folder(out: Path | None, date: str, folder: Path | None) -> Path | None:
    """`out` with {date} and {folder} (the input folder's name) filled in; None stays None."""
    if out is None:
        return None
    pattern = str(out)
    names = out_fields(pattern)
    if not names:
        return out
    if "folder" in names and folder is None:
        raise UsageError(f"the output pattern '{pattern}' names {{folder}}: give --out")
    return Path(pattern.format(date=date, folder=folder.resolve().name if folder is not None else ""))
