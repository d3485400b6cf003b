"""Files written on one thread beside the event loop, so that a run asking many requests at once does not wait for
the disk between them: every answer, stored summary and `articles/<id>.json` of a cold run is a temporary file,
a write, a chmod and a rename (three files per article).

Writes keep their order, and a file queued and not yet written is read back as queued (`text`), so nothing
reads an older version than the one briefer last wrote. A failed write is reported on the event loop's thread
by the caller's `failed` callback (any other error is raised as itself): at the next `write`, or at `close`,
which waits for every file queued (so an interrupted run keeps every answer it was given, as when each was
written at once).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefer.model.cache import atomic_write, umask, write_if_changed, write_redacted


@dataclass(frozen=True)
class _Job:
    path: Path
    text: str
    failed: Callable[[OSError], None]
    only_if_changed: bool
    redacted: bool


class Writer:
    """One thread writing files in the order given. Made and closed by the loop that uses it."""

    def __init__(self) -> None:
        umask()  # read here: reading it sets it for a moment, which only one thread may do
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._queued: dict[Path, str] = {}  # the last text queued for each file not yet written
        self._failures: list[tuple[Callable[[OSError], None], Exception]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="briefer-writer", daemon=True)
        self._thread.start()

    def write(self, path: Path, text: str, *, failed: Callable[[OSError], None], only_if_changed: bool = False,
              redacted: bool = False) -> None:
        """Queue `text` for `path` (`atomic_write`, or `write_if_changed`); `failed(error)` is called on this
        thread if it cannot be written. `redacted`: the text is already as written (see redact.py)."""
        self._settle()
        with self._lock:
            self._queued[path] = text
        self._jobs.put(_Job(path, text, failed, only_if_changed, redacted))

    def text(self, path: Path) -> str | None:
        """The text queued for `path` and not yet written, if any."""
        with self._lock:
            return self._queued.get(path)

    def close(self) -> None:
        """Wait until every queued file is written, then report the failures (a `failed` callback may raise)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        self._settle()

    def _settle(self) -> None:
        with self._lock:
            failures, self._failures = self._failures, []
        for failed, error in failures:
            if not isinstance(error, OSError):
                raise error
            failed(error)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if job.only_if_changed:
                    write_if_changed(job.path, job.text)
                elif job.redacted:
                    write_redacted(job.path, job.text)
                else:
                    atomic_write(job.path, job.text)
            except Exception as exc:  # noqa: BLE001 - reported on the loop's thread (_settle)
                with self._lock:
                    self._failures.append((job.failed, exc))
            finally:
                with self._lock:
                    if self._queued.get(job.path) is job.text:  # a later text for the same file stays queued
                        del self._queued[job.path]
