"""What the gateway answered for one article's requests, for extract/reuse.py: which cache entries, byte for byte.

A tape is set for one asyncio task (a context variable: each task has its own), so the articles summarised at
once never mix their answers. Without a tape (a dry run, the merge), the gateway notes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answered:
    """One request answered by a cache entry: the entry's key and bytes' hash, and the usage counted for it."""

    key: str
    sha256: str
    prompt: str
    usage: tuple[int, int] | None  # prompt and completion tokens, as the entry holds them


@dataclass
class Tape:
    asks: int = 0  # requests made
    answered: list[Answered] = field(default_factory=list)  # those a cache entry answers, in order

    @property
    def all_from_cache(self) -> bool:
        """Whether every request is answered by an entry now in the cache, and none by anything else (a
        recording, a failure, a batch's deferral): only then does the result derive from the cache alone."""
        return self.asks == len(self.answered)


_TAPE: contextvars.ContextVar[Tape | None] = contextvars.ContextVar("briefer_tape", default=None)


def current_tape() -> Tape | None:
    return _TAPE.get()


@contextlib.contextmanager
def taping() -> Iterator[Tape]:
    """Note the answers of the requests made inside, in this task only."""
    tape = Tape()
    token = _TAPE.set(tape)
    try:
        yield tape
    finally:
        _TAPE.reset(token)
