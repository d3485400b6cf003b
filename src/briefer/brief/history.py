"""Which earlier brief a run follows: a small index per output folder, and `--since` as a folder or a date.

Every run writes `OUT/brief-index.json` beside its brief: the brief's date and title, its story titles, and
the input folder it was made from. The automatic `--since` (an `--out` named by its date, as
`briefs/2026-11-30/`) reads only these indexes of the sibling day folders, never their brief.json, and
follows only a brief of the same input *series*: the same folder (`today/`, refilled each morning), or, for
a folder per day of articles (`fixtures/daily/2024-09-18`), the same parent. A brief of another folder, or
one written before indexes existed, is never followed on its own; `--since` names it.

Everything here is read back from disk, so it is input: each index is read with a size cap and parsed
strictly (capped strings, no extra keys), and a folder is followed only if it is a real sibling (a link
leading out of the briefs' folder is not).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from briefer.errors import UsageError
from briefer.text import dates

INDEX_FILE = "brief-index.json"
INDEX_VERSION: Literal[1] = 1
MAX_INDEX_BYTES = 64 * 1024  # an index is a few hundred bytes; a bigger one is not one briefer wrote
TITLE_CHARS = 300  # a brief's or story's title, as copied into an index (and into today's brief)
INDEX_STORIES = 50  # story titles kept in an index
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")  # a folder per day: briefs/2026-11-30/, fixtures/daily/2024-09-18/
_DATE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")

Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_CHARS)]
PathText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class BriefIndex(BaseModel):
    """What the next day's run needs to know of this brief to find it: one per output folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    briefer_index: Literal[1] = Field(description="The index format's version.")
    date: Annotated[str, StringConstraints(pattern=_DATE.pattern)] = Field(description="The brief's date.")
    folder: PathText = Field(description="The input folder the brief was made from, resolved.")
    series: PathText = Field(description="The folder whose briefs follow one another: the input folder, or its "
                             "parent when the input folder is named by its date (a folder per day).")
    title: Title
    stories: list[Title] = Field(max_length=INDEX_STORIES, description="The brief's story titles (capped).")


def cap(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis saying so: what is copied from an earlier brief."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def series_of(folder: Path) -> Path:
    """The input series a folder belongs to: its parent for a folder named by its date, else itself."""
    here = folder.resolve()
    return here.parent if _DAY.match(here.name) else here


def index_json(date: str, folder: Path, title: str, story_titles: list[str]) -> str:
    index = BriefIndex(briefer_index=INDEX_VERSION, date=date, folder=str(folder.resolve()),
                       series=str(series_of(folder)), title=cap(title, TITLE_CHARS),
                       stories=[cap(t, TITLE_CHARS) for t in story_titles[:INDEX_STORIES]])
    return index.model_dump_json(indent=1) + "\n"


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError for anything else (a larger file, a named
    pipe, a device such as /dev/zero), without reading more than `limit` + 1 bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise _TooLarge(info.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # a file growing while read is cut here too
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _TooLarge(size, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


class _TooLarge(OSError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{_mb(size)}, over the {_mb(limit)} briefer reads")


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def read_index(folder: Path) -> BriefIndex | None:
    try:
        return BriefIndex.model_validate_json(read_capped(folder / INDEX_FILE, MAX_INDEX_BYTES))
    except (OSError, ValueError, ValidationError):
        return None


@dataclass(frozen=True)
class Sibling:
    folder: Path  # as --out was given: out.parent / name
    index: BriefIndex


def _siblings(out: Path) -> list[Sibling]:
    """The day folders beside `out` that hold an index, each a real folder inside out's parent."""
    here = out.resolve()
    parent = here.parent
    try:
        names = sorted(p.name for p in parent.iterdir() if _DAY.match(p.name) and p.name != here.name)
    except OSError:
        return []
    found = []
    for name in names:
        path = parent / name
        try:
            if path.is_symlink() or not path.is_dir():
                continue  # a link may lead anywhere: followed only when --since names it
        except OSError:
            continue
        index = read_index(path)
        if index is not None:
            found.append(Sibling(out.parent / name, index))
    return found


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        dates.earliest(value)
    except ValueError:
        return False
    return True


def find_earlier(out: Path, date: str, folder: Path) -> Path | None:
    """The default: when `out` is a folder per day (named by its date, as briefs/2026-11-30/), the sibling day
    folder holding the newest brief dated before `date` that was made from the same input series as `folder`.
    Any other --out compares with nothing unless --since is given."""
    if not _DAY.match(out.resolve().name) or not _is_date(date):
        return None
    series = str(series_of(folder))
    before = [s for s in _siblings(out) if s.index.series == series and _is_date(s.index.date)
              and dates.latest(s.index.date) < dates.earliest(date)]
    if not before:
        return None
    return max(before, key=lambda s: (dates.timeline_key(s.index.date), s.folder.name)).folder


def since_date(value: str, brief_date: str) -> str | None:
    """The day a `--since` value names (`2024-09-17`, or `yesterday`: the day before the brief's date), or None
    when it is not a date."""
    if value.strip().lower() == "yesterday":
        if len(brief_date) != 10 or not _is_date(brief_date):
            return None
        return (dt.date.fromisoformat(brief_date) - dt.timedelta(days=1)).isoformat()
    return value if len(value) == 10 and _is_date(value) else None


def resolve_since(value: Path | str, out: Path, brief_date: str, folder: Path) -> Path:
    """The earlier brief `--since` names: a folder or brief.json as given (when it exists), else the brief of the
    day it names, found beside the output folder: a sibling whose index has that date (one of the same input
    series first), else the folder named by that date. A date with no brief is a usage error."""
    path = Path(value)
    day = since_date(str(value), brief_date)
    if day is None or path.exists() or path.is_symlink():
        return path
    series = str(series_of(folder))
    that_day = [s for s in _siblings(out) if s.index.date == day]
    that_day.sort(key=lambda s: (s.index.series != series, s.folder.name))
    if that_day:
        return that_day[0].folder
    named = out.parent / day
    if (named / "brief.json").is_file():
        return named
    raise UsageError(f"--since {value}: no brief of {day} beside --out (looked in {out.parent}); give the "
                     "earlier brief's folder instead")
