"""The alias file: an analyst's own rules for joining entities, applied deterministically.

    # aliases.toml
    [[entity]]                      # these are one entity, shown under `name`
    name = "US Department of Defense"
    spellings = ["Pentagon", "وزارة الدفاع الأمريكية", "البنتاجون"]

    [[never_join]]                  # mentions named by different items here are never one entity
    names = ["Iran", "Tehran"]

Names and spellings are compared as briefer compares spellings (case, accents, hamza forms and the
other variants folded; Arabic particles attached before ال stripped), against a mention's English
name and against its spellings in the article. By default briefer reads `aliases.toml` beside the
folder summarised (where `recordings/` is), if there is one; `--aliases FILE` names another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from briefer.errors import UsageError
from briefer.files import ReadBackError, loads_toml, read_regular
from briefer.text.names import strip_particles
from briefer.text.textnorm import match_key

FILE_NAME = "aliases.toml"


def name_key(name: str) -> str:
    """The key under which two spellings of one name compare equal (particles stripped)."""
    return match_key(strip_particles(name.strip()))


@dataclass(frozen=True)
class Aliases:
    names: tuple[str, ...] = ()  # canonical name of each [[entity]]
    alias_of: tuple[tuple[str, int], ...] = ()  # (name key, entity number)
    never: tuple[tuple[str, int, int], ...] = ()  # (name key, rule number, item number)

    def entity_of(self, keys: set[str]) -> int | None:
        """The first [[entity]] (in file order) any of these keys names, or None."""
        hits = [n for k, n in self.alias_of if k in keys]
        return min(hits) if hits else None

    def never_labels(self, keys: set[str]) -> dict[int, set[int]]:
        """rule number -> the items of that [[never_join]] rule these keys name."""
        out: dict[int, set[int]] = {}
        for k, rule, item in self.never:
            if k in keys:
                out.setdefault(rule, set()).add(item)
        return out


NO_ALIASES = Aliases()


def _strings(value: object, where: str, *, min_items: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"{where}: must be a list of non-empty strings")
    if len(value) < min_items:
        raise UsageError(f"{where}: needs at least {min_items} names")
    return value


MAX_ALIAS_BYTES = 16 * 1024 * 1024  # an alias file of 100,000 entities is a few MB


def load_aliases(path: Path) -> Aliases:
    """Read an alias file; a bad file stops the run with one line naming the file and the key."""
    import tomllib  # here, not at start-up: most folders have no alias file

    try:
        data = loads_toml(read_regular(path, MAX_ALIAS_BYTES).decode("utf-8"), str(path))
    except ReadBackError as exc:  # nested too deeply for the parser
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the alias file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from None
    unknown = sorted(set(data) - {"entity", "never_join"})
    if unknown:
        raise UsageError(f"{path}: unknown key '{unknown[0]}' (expected [[entity]] and [[never_join]] tables)")
    names: list[str] = []
    alias_of: list[tuple[str, int]] = []
    for n, item in enumerate(data.get("entity", [])):
        where = f"{path}: entity[{n + 1}]"
        if not isinstance(item, dict) or set(item) - {"name", "spellings"}:
            raise UsageError(f"{where}: expected the keys 'name' and 'spellings'")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{where}.name: must be a non-empty string")
        spellings = _strings(item.get("spellings", []), f"{where}.spellings", min_items=0)
        names.append(name.strip())
        alias_of += [(key, n) for key in dict.fromkeys(name_key(s) for s in (name, *spellings)) if key]
    never: list[tuple[str, int, int]] = []
    for rule, item in enumerate(data.get("never_join", [])):
        where = f"{path}: never_join[{rule + 1}]"
        if not isinstance(item, dict) or set(item) != {"names"}:
            raise UsageError(f"{where}: expected the key 'names'")
        for i, name in enumerate(_strings(item["names"], f"{where}.names", min_items=2)):
            never.append((name_key(name), rule, i))
    return Aliases(tuple(names), tuple(alias_of), tuple(never))


def aliases_for(folder: Path, explicit: Path | None = None) -> Aliases:
    """The rules a run uses: the file given, else `aliases.toml` beside the folder if it exists."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"--aliases {explicit}: no such file")
        return load_aliases(explicit)
    default = default_path(folder)
    return load_aliases(default) if default.is_file() else NO_ALIASES


def alias_file(folder: Path, explicit: Path | None = None) -> Path | None:
    """The alias file a run over `folder` applies (the one given, else aliases.toml beside it), or None."""
    if explicit is not None:
        return explicit
    default = default_path(folder)
    return default if default.is_file() else None


def default_path(folder: Path) -> Path:
    return folder.resolve().parent / FILE_NAME
