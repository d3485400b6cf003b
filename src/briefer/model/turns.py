"""Requests go out before answers are checked.

One event loop sends every request and checks every answer (the SDK's parsing, validation, grounding, the
files). When many answers arrive together (a wave at high --concurrency), each freed slot's next request used
to wait until every answer ahead of it in the loop's queue had been checked: the next wave left hundreds of
milliseconds late. Here an answer is checked only when no request is on its way out, and one at a time, a loop
iteration each, so a request whose slot has just been freed goes first.

A request is "on its way out" from the moment it holds a slot and the rate limiter let it through until the
HTTP client is about to send it (its request hook): waiting for a connection or for the answer does not count.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Turns:
    """One per run (per event loop): `begin_send()` marks a request on its way out, `await turn()` waits until an
    answer may be checked."""

    def __init__(self) -> None:
        self.sending = 0
        self._queue: deque[asyncio.Future[None]] = deque()
        self._scheduled = False

    def begin_send(self) -> Callable[[], None]:
        """A request is on its way out; call the result once it has left (or failed to). Calling it again does
        nothing."""
        self.sending += 1
        done = False

        def sent() -> None:
            nonlocal done
            if not done:
                done = True
                self.sending -= 1
                self._kick()

        return sent

    async def turn(self) -> None:
        """Wait until no request is on its way out and the answers that waited before this one had their turn."""
        await asyncio.sleep(0)  # a slot freed by this answer: its waiter takes it and starts sending first
        waiter = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        self._kick()
        await waiter

    def _kick(self) -> None:
        if not self._scheduled and self._queue and not self.sending:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        """Let one waiting answer be checked; the next one's turn comes after its step has run (call_soon)."""
        self._scheduled = False
        if self.sending:
            return  # the last request to leave kicks again
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():  # not cancelled
                waiter.set_result(None)
                break
        self._kick()
