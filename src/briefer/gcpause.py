"""The cyclic garbage collector paused while briefer imports its heavy dependencies.

Importing the openai SDK, instructor and pydantic models creates tens of thousands of objects, nearly all
kept for the life of the process; each time the collector's thresholds trip during that it walks them all
again, for nothing. Paused, the start-up before the first request costs about an eighth less CPU (about
0.2 s on this project's 2-core machine). The pause ends with the imports, so a run itself is collected as usual.
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
