"""The cyclic garbage collector paused while briefer imports its heavy dependencies, and spaced out for a run.

Importing the openai SDK, instructor and pydantic models creates tens of thousands of objects, nearly all
kept for the life of the process; each time the collector's thresholds trip during that it walks them all
again, for nothing. Paused, the start-up before the first request costs about an eighth less CPU (about
0.2 s on this project's 2-core machine). The pause ends with the imports, so a run itself is still collected.

A command that only reads and computes (a warm rerun, an offline replay, a dry run) keeps what it allocates
(summaries, answers, the brief) to the end and makes little cyclic garbage, so the command spaces the youngest
generation's collections out (`for_a_run`) until the SDK is loaded to ask the model (`for_requests`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Collection off inside, back as it was after (nested pauses leave it to the outermost)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


RUN_THRESHOLD = 50_000  # allocations between collections of the youngest generation (Python's default: 700)
_before: tuple[int, int, int] | None = None  # the thresholds `for_a_run` replaced


def for_a_run() -> None:
    """Collect the youngest generation every 50,000 allocations, not every 700. At 700, a warm rerun of 2,000
    articles ran 350 collections, 2 of them full ones walking every summary (0.2 s of its 3 s); at 50,000 it runs
    31, none full (0.05 s). Peak memory is unchanged. Set by the command only: a program embedding briefer keeps
    its own collector settings."""
    global _before
    _before = gc.get_threshold()
    gc.set_threshold(RUN_THRESHOLD, _before[1], _before[2])


def for_requests() -> None:
    """Back to the thresholds before `for_a_run`, once the SDK is loaded to ask the model. Measured on cold runs
    of 2,000 articles, 50,000 made the request path about a tenth slower in CPU (what each request leaves in
    cycles is freed later, and memory is less warm), though the collector itself ran less."""
    global _before
    if _before is not None:
        gc.set_threshold(*_before)
        _before = None
