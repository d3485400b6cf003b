"""The one writer and the readers of every file briefer writes or reads back.

Writing: `atomic_write` (and `atomic_write_pieces` for a text given in pieces) writes a temporary
`.tmp-*.part` file beside the target and renames it: a reader sees the old file or the new one, never half
of one. Every written byte passes `redact` here, after the renderers escaped it (redact.py also knows the
secrets' escaped forms). `OutputSet` switches brief.json, brief.md and brief.html as one set, and
`lock_out` keeps a second run out of the same output folder.

Reading back: everything briefer wrote earlier is input like any other (another run, a person or a
program may have changed it). `read_regular` caps its size before reading, `read_lines` streams a JSONL
file with a cap per line, and `loads_json` / `loads_toml` turn nesting too deep for the parser into one
line with the file and the position, never a RecursionError. `inside` keeps a path taken from such a file
in its folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .redact import redact, redact_pieces

PART_PREFIX, PART_SUFFIX = ".tmp-", ".part"
MAX_DEPTH = 200  # nesting briefer's own files never come near (a brief.json is about 8 deep)


class ReadBackError(ValueError):
    """A file read back cannot be used: too large, a line too long, nested too deeply. One line, with where."""


def pretty_json(value: Any) -> str:
    """How briefer writes JSON for people: indented, UTF-8 as written, newline at the end."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------- writing

def atomic_write(path: Path, text: str) -> str:
    """Write via a temporary file in the same folder and rename: readers never see half a file, and a
    crash or kill of briefer leaves the old file or the new one (and a `.part` file that the next run in
    that folder removes, `clean_parts`). No fsync (it was a fifth of a warm run): after a power cut an
    entry may be damaged, and a damaged cache entry is read as a miss. Returns the text written (redacted)."""
    text = redact(text)
    _replace(path, _staged(path, (text,)))
    return text


def atomic_write_pieces(path: Path, pieces: Iterable[str]) -> None:
    """`atomic_write` of a text given in pieces (redacted as it goes, `redact_pieces`), never held whole: a
    10,000-article brief.html is about 70 MB, and joining its pieces was the run's peak memory."""
    _replace(path, _staged(path, redact_pieces(pieces)))


def write_if_changed(path: Path, text: str) -> bool:
    """`atomic_write`, unless the file already holds exactly this text (a warm rerun rewrites nothing).
    Returns whether it wrote."""
    data = redact(text).encode("utf-8")
    with contextlib.suppress(OSError):
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    atomic_write(path, text)
    return True


def _replace(path: Path, tmp: str) -> None:
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _staged(path: Path, pieces: Iterable[str]) -> str:
    """The pieces written to a new temporary file beside `path` (mode as the umask says); its name."""
    # A short temporary name: `.<name>.<random>.tmp` would pass the 255-byte name limit for long names.
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=PART_PREFIX, suffix=PART_SUFFIX)
    except FileNotFoundError:  # the folder is made only when missing: trying first saves a call for each file
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=PART_PREFIX, suffix=PART_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for piece in pieces:
                fh.write(piece)
        os.chmod(tmp, _FILE_MODE & ~_umask())  # mkstemp makes 0600: follow the umask like any new file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


_FILE_MODE = 0o666
_UMASK: int | None = None


def _umask() -> int:
    # Read once per process (setting it is the only way to read it, and not thread-safe, so not per write).
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


MANIFEST = "manifest.json"


class OutputSet:
    """Files switched as one set: each is written whole to a `.part` file first; only when all are written
    are they renamed into place, between removing `manifest.json` and writing it again naming the run (by
    its files' digest) and each file's SHA-256. A reader (or the next run, `check_set`) that finds the files
    and the manifest disagreeing knows the set was being switched; a run killed before the renames leaves the
    old set whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._staged: dict[str, str] = {}
        self._gone: list[str] = []

    def add(self, name: str, text: str | Iterable[str]) -> None:
        pieces = (redact(text),) if isinstance(text, str) else redact_pieces(text)
        self._staged[name] = _staged(self.folder / name, pieces)

    def remove(self, name: str) -> None:
        """A file of an earlier set that this one does not have (brief.html without --html)."""
        self._gone.append(name)

    def commit(self) -> None:
        (self.folder / MANIFEST).unlink(missing_ok=True)
        for name, tmp in self._staged.items():
            _replace(self.folder / name, tmp)
        for name in self._gone:
            (self.folder / name).unlink(missing_ok=True)
        files = {name: _sha256(self.folder / name) for name in sorted(self._staged)}
        # The run is named by what it wrote (a warm rerun writing the same files writes the same manifest).
        run = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        atomic_write(self.folder / MANIFEST, pretty_json({"briefer_outputs": 1, "run": run, "files": files}))
        self._staged.clear()

    def abort(self) -> None:
        for tmp in self._staged.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged.clear()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_set(folder: Path, names: Iterable[str]) -> str | None:
    """Why the outputs in `folder` are not one run's set (None when they are, or when there are none): the
    manifest is missing or names other contents (a run was killed while switching them)."""
    present = [n for n in names if (folder / n).is_file()]
    if not present:
        return None
    try:
        manifest = loads_json(read_regular(folder / MANIFEST, 1 << 20), str(folder / MANIFEST))
        files = manifest["files"] if isinstance(manifest, dict) else None
        if not isinstance(files, dict):
            raise ValueError("no files")
    except FileNotFoundError:
        return f"{', '.join(present)} without {MANIFEST}"
    except (OSError, ValueError, KeyError):
        return f"{MANIFEST} unreadable"
    differ = [n for n in present if files.get(n) != _sha256(folder / n)]
    return f"{', '.join(differ)} not of the run {MANIFEST} names" if differ else None


def clean_parts(folder: Path, subfolders: Iterable[str] = ("articles", "failed", "batch")) -> int:
    """Remove the `.part` files a killed run left in `folder` (and its own subfolders). Call it only with
    the folder's lock held (`lock_out`): another run's parts are never removed. Returns how many."""
    removed = 0
    for where in (folder, *(folder / s for s in subfolders)):
        with contextlib.suppress(OSError):
            for entry in os.scandir(where):
                if entry.name.startswith(PART_PREFIX) and entry.name.endswith(PART_SUFFIX) and entry.is_file(
                        follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed += 1
    return removed


# ---------------------------------------------------------------------- the lock on an output folder

LOCK = ".briefer.lock"


class Busy(Exception):
    """The output folder is locked by another run: `holder` says which process (pid and command)."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


_held: dict[Path, int] = {}  # the folders this process holds locked, and how deeply (a collect's run re-enters)


@contextlib.contextmanager
def lock_out(folder: Path, *, wait: float = 0.0, what: str = "briefer") -> Iterator[str]:
    """Hold `folder/.briefer.lock` (an OS lock, flock) for the block; waits up to `wait` seconds for another
    run to finish, then raises Busy naming it. The OS drops the lock of a process that dies (kill -9), so a
    stale lock file is taken over: yields the earlier holder's line then ("" when there was none). The file
    is removed when the block ends. Re-entrant within one process."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield ""
        finally:
            _held[key] -= 1
        return
    fd = _acquire(folder / LOCK, time.monotonic() + wait)
    try:
        earlier = _holder(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, redact(f"pid {os.getpid()}: {what}\n", shapes=True).encode()[:4096], 0)
        _held[key] = 1
        try:
            yield earlier
        finally:
            del _held[key]
            with contextlib.suppress(OSError):
                os.unlink(folder / LOCK)  # still locked: whoever opened this file finds it gone and opens anew
    finally:
        os.close(fd)  # closing drops the lock


def _acquire(path: Path, deadline: float) -> int:
    """A descriptor of `path` holding its flock. The file may be removed by the holder between our open and our
    lock: a lock won on a removed file is no lock, so it is tried again on the file now there."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise Busy(holder or "another process") from None
            time.sleep(0.1)
            continue
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 4096, 0).decode("utf-8", errors="replace").strip()
    return ""


# ---------------------------------------------------------------------- reading back

def read_regular(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file; OSError for anything else, and for a file over `max_bytes` (EFBIG:
    checked by fstat before reading anything). A named pipe in place of a cache entry or a recording is
    opened without blocking and refused, so it can never hang the run."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"over {max_bytes:,} bytes", str(path))
        # Read with the descriptor itself, sized by fstat: a file object around it cost three times the read
        # (a warm rerun reads two files per article). Reading on to the end still gets a file that grew.
        chunks = [os.read(fd, info.st_size + 1)]
        total = len(chunks[0])
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
            total += len(chunks[-1])
            if max_bytes is not None and total > max_bytes:
                raise OSError(errno.EFBIG, f"over {max_bytes:,} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


MAX_LINE = 64 * 1024 * 1024  # one JSONL line (a request with a long article and its schema is well under 1 MB)


def read_lines(stream: IO[bytes], where: str, max_line: int = MAX_LINE) -> Iterator[tuple[int, str | None]]:
    """The lines of a binary stream, numbered from 1, decoded (bad bytes replaced), one at a time: never the
    whole file. A line over `max_line` bytes is skipped, read through in pieces, and given as None (the caller
    says so in one line); `where` names the stream in such lines."""
    number = 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line.decode("utf-8", errors="replace")


def loads_json(text: str | bytes, where: str) -> Any:
    """`json.loads`, with nesting too deep for the parser reported as one line naming the file and position."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ReadBackError(f"{where}: {_deep(text)}") from None


def loads_toml(text: str, where: str) -> dict[str, Any]:
    """`tomllib.loads`, likewise (tomllib recurses once per level of arrays and inline tables)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ReadBackError(f"{where}: {_deep(text)}") from None


def _deep(text: str | bytes, limit: int = MAX_DEPTH) -> str:
    """Where `text` first nests deeper than `limit` brackets (strings skipped roughly: a position for people)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth, line, col, quote, escaped = 0, 1, 0, "", False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote or ch == "\n":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return f"line {line}, column {col}: nested deeper than {limit} levels"
        elif ch in "]}":
            depth -= 1
    return "nested too deeply to read"


def inside(folder: Path, name: str) -> Path:
    """`folder / name` for a name read from a file, only when it stays in `folder` (resolved: no `..`, no
    absolute path, no link out); ValueError otherwise."""
    base = folder.resolve()
    path = (base / name).resolve()
    if path.parent != base or not name or Path(name).is_absolute():
        raise ValueError(f"{name!r} is not a file in {folder}")
    return path
