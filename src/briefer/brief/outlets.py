"""The outlets file: the user's own description of the outlets they read, applied deterministically.

    # outlets.toml
    [[outlet]]
    name = "Al Mayadeen"                    # the display name
    domains = ["almayadeen.net"]            # matched against the article's URL host (subdomains too)
    names = ["الميادين", "Al-Mayadeen"]      # matched against the site name or the outlet the article names
    country = "Lebanon"
    language = "ar"
    owner = "Ghassan bin Jiddo"
    state_affiliated = false
    note = "aligned with Hezbollah"

Only `name` and one of `domains` / `names` are required. A domain is matched first (an article's URL,
then its canonical URL), then a name, compared as briefer compares spellings. A source without an
entry is shown as "not described", never as neutral: briefer ships no ratings of its own. By default
briefer reads `outlets.toml` beside the folder summarised (where `aliases.toml` is), if there is one;
`--outlets FILE` names another. Like the alias file, it is read strictly: an unknown key, a wrong type,
a file over 1 MB or over 5,000 entries stops the run before any model call, with one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from briefer.errors import UsageError
from briefer.models import NOT_DESCRIBED, OutletEntry

from .aliases import name_key

FILE_NAME = "outlets.toml"
MAX_BYTES = 1_000_000
MAX_ENTRIES = 5_000
MAX_TEXT = 500
_TEXT_KEYS = ("country", "language", "owner", "note")


@dataclass(frozen=True)
class Outlets:
    entries: tuple[OutletEntry, ...] = ()
    by_domain: tuple[tuple[str, int], ...] = ()
    by_name: tuple[tuple[str, int], ...] = ()

    def find(self, urls: tuple[str | None, ...], names: tuple[str | None, ...]) -> OutletEntry | None:
        """The entry for an article: by the host of its URLs first, then by the names it gives."""
        domains = dict(self.by_domain)
        for url in urls:
            host = (urlsplit(url).hostname or "") if url else ""
            labels = host.lower().rstrip(".").split(".")
            for i in range(len(labels) - 1):  # news.example.com, then example.com
                if (n := domains.get(".".join(labels[i:]))) is not None:
                    return self.entries[n]
        named = dict(self.by_name)
        for name in names:
            if name and (n := named.get(name_key(name))) is not None:
                return self.entries[n]
        return None


NO_OUTLETS = Outlets()


def describe(entry: OutletEntry | None) -> str:
    """The entry in words, as every output shows it; 'not described' without one."""
    if entry is None:
        return NOT_DESCRIBED
    parts = [entry.country, entry.language and f"in {entry.language}", entry.owner and f"owned by {entry.owner}"]
    if entry.state_affiliated is not None:
        parts.append("state-affiliated" if entry.state_affiliated else "not state-affiliated")
    parts.append(entry.note)
    text = "; ".join(p for p in parts if p)
    return text or "described without details"


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise UsageError(f"{where}: longer than {MAX_TEXT} characters")
    return " ".join(value.split())


def _list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or len(value) > 100:
        raise UsageError(f"{where}: must be a list of at most 100 strings")
    return [_text(v, f"{where}[{i + 1}]") for i, v in enumerate(value)]


def load_outlets(path: Path) -> Outlets:
    """Read an outlets file; a bad file stops the run with one line naming the file and the key."""
    import tomllib

    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UsageError(f"{path}: larger than {MAX_BYTES:,} bytes: not an outlets file")
        table = tomllib.loads(data.decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the outlets file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file: {exc}") from None
    unknown = sorted(set(table) - {"outlet"})
    if unknown:
        raise UsageError(f"{path}: unknown key '{unknown[0]}' (expected [[outlet]] tables)")
    items = table.get("outlet", [])
    if not isinstance(items, list) or len(items) > MAX_ENTRIES:
        raise UsageError(f"{path}: 'outlet' must be a list of at most {MAX_ENTRIES} [[outlet]] tables")
    entries: list[OutletEntry] = []
    by_domain: list[tuple[str, int]] = []
    by_name: list[tuple[str, int]] = []
    allowed = {"name", "domains", "names", "state_affiliated", *_TEXT_KEYS}
    for n, item in enumerate(items):
        where = f"{path}: outlet[{n + 1}]"
        if not isinstance(item, dict):
            raise UsageError(f"{where}: must be a table")
        if extra := sorted(set(item) - allowed):
            raise UsageError(f"{where}: unknown key '{extra[0]}' (expected {', '.join(sorted(allowed))})")
        name = _text(item.get("name"), f"{where}.name")
        domains = [d.lower().removeprefix("www.").strip(".")
                   for d in _list(item.get("domains", []), f"{where}.domains")]
        names = _list(item.get("names", []), f"{where}.names")
        state = item.get("state_affiliated")
        if state is not None and not isinstance(state, bool):
            raise UsageError(f"{where}.state_affiliated: must be true or false")
        texts = {k: _text(item[k], f"{where}.{k}") for k in _TEXT_KEYS if k in item}
        entries.append(OutletEntry(name=name, state_affiliated=state, **texts))
        by_domain += [(d, n) for d in domains if d]
        by_name += [(k, n) for k in dict.fromkeys(name_key(x) for x in (name, *names)) if k]
    # The first entry (in file order) wins a domain or name given twice: dict() keeps the last, so reverse.
    return Outlets(tuple(entries), tuple(reversed(by_domain)), tuple(reversed(by_name)))


def outlets_for(folder: Path, explicit: Path | None = None) -> Outlets:
    """The descriptions a run uses: the file given, else `outlets.toml` beside the folder if it exists."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"--outlets {explicit}: no such file")
        return load_outlets(explicit)
    default = folder.resolve().parent / FILE_NAME
    return load_outlets(default) if default.is_file() else NO_OUTLETS
