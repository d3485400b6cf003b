"""One worker thread for the run's CPU work (reading the folder, locating quotes, rendering), so the event loop
keeps running while it is done: a notebook's or a web server's tasks, and briefer's own requests.

One thread, not asyncio's default pool: CPU-bound Python threads take turns on the interpreter lock, and with
several of them the loop's thread waits a switch interval behind each one every time it wakes up (five articles
grounded on five threads held a 10 ms ticker up for 0.2 s; on one thread it never waits more than a turn).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from .errors import UsageError

P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefer-worker")
        return _pool


async def in_worker(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the worker thread, awaited (its context variables go with it)."""
    import contextvars
    import functools

    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)


def run_sync(coro: Coroutine[Any, Any, T], instead: str) -> T:
    """Run a coroutine to its end from synchronous code: the library's one `asyncio.run`. Inside a running event
    loop it refuses in one line naming what to await `instead` (asyncio.run's own error names nothing)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise UsageError(f"called inside a running event loop (a notebook, a web server): await {instead} instead")
