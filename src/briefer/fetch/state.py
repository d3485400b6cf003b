"""What a fetch remembers in its output folder (`.fetch-state.json`): conditional GET per feed and page,
robots.txt per host, and every article written (by URL, canonical URL and content hash).

Read back strictly (pydantic, extra keys refused), capped in size and entries; a state that is not valid
is set aside (renamed `.fetch-state.json.bad`) with a warning, and the fetch starts over: articles already
in the folder are then written again under the same names, never lost.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

FILE_NAME = ".fetch-state.json"
MAX_STATE_BYTES = 32_000_000
MAX_ENTRIES = 100_000
_Short = Field(default=None, max_length=2_000)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Validators(_Strict):
    etag: str | None = _Short
    last_modified: str | None = _Short
    checked: float = Field(description="When it was last asked (Unix time).")


class Done(_Strict):
    file: str = Field(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.json$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Robots(_Strict):
    fetched: float
    text: str | None = Field(max_length=600_000)


class FetchState(_Strict):
    version: int = Field(default=1, ge=1, le=1)
    validators: dict[str, Validators] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    done: dict[str, Done] = Field(default_factory=dict, max_length=MAX_ENTRIES)  # URL or canonical URL -> file
    hashes: dict[str, str] = Field(default_factory=dict, max_length=MAX_ENTRIES)  # content sha256 -> file
    robots: dict[str, Robots] = Field(default_factory=dict, max_length=MAX_ENTRIES)


def load_state(folder: Path, warn: object = None) -> tuple[FetchState, str | None]:
    """The state kept in `folder`, or a fresh one with the reason the kept one was set aside."""
    path = folder / FILE_NAME
    if not path.is_file():
        return FetchState(), None
    try:
        with path.open("rb") as f:
            data = f.read(MAX_STATE_BYTES + 1)
        if len(data) > MAX_STATE_BYTES:
            raise ValueError(f"larger than {MAX_STATE_BYTES:,} bytes")
        return FetchState.model_validate_json(data), None
    except (OSError, ValueError, ValidationError) as exc:
        reason = str(exc).splitlines()[0][:200]
        path.replace(path.with_name(FILE_NAME + ".bad"))
        return FetchState(), f"{path}: not a valid fetch state ({reason}); set aside as {FILE_NAME}.bad"


def save_state(folder: Path, state: FetchState) -> None:
    """Written atomically: an interrupted fetch leaves the last complete state."""
    write_atomic(folder / FILE_NAME, state.model_dump_json(indent=1))


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
