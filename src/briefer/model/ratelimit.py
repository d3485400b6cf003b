"""Client-side rate limits (--rpm, --tpm), so a rate-limited endpoint is used fully and never hit.

Providers charge a request against token buckets *before* they serve it. briefer keeps its own
buckets, refilled at the allowed rates, and lets a request go only when its bucket holds what
the request needs: one request, and its estimated tokens (prompt, schema and expected
completion). A request larger than the bucket waits until its own tokens have accrued at the
allowed rate (up to a minute's worth, the size of a provider's bucket).
When the server answers, the estimate is settled against the usage it billed.

Requests reach the server later, and closer together, than briefer let them go (the event loop
is busy, the network jitters), so briefer keeps a margin: it paces at `SAFETY` of the stated
rates, and its buckets hold half a second's worth, so requests are spread out, never burst.

Estimates are calibrated as the run goes: for each kind of request (each response schema)
briefer learns the ratio of billed to estimated prompt tokens, and the mean completion, so that
reservations soon match what the server bills. Before the first answer of a kind, the guess is
conservative (completion as large as the prompt).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

SAFETY = 0.95
BUCKET_SECONDS = 0.5
RECHECK_SECONDS = 0.05


class _Bucket:
    """A token bucket refilled continuously at `rate` per second."""

    def __init__(self, per_minute: float, now: float, capacity_seconds: float = BUCKET_SECONDS) -> None:
        self.rate = per_minute / 60.0 * SAFETY
        self.capacity = max(1.0, self.rate * capacity_seconds)
        self.level = self.capacity
        self.at = now

    def _cap(self, amount: float) -> float:
        # A request larger than the bucket may save up for itself (up to a minute's worth).
        return max(self.capacity, min(amount, self.rate * 60))

    def wait_for(self, amount: float, now: float) -> float:
        cap = self._cap(amount)
        level = min(cap, self.level + (now - self.at) * self.rate)
        return max(0.0, (min(amount, cap) - level) / self.rate)

    def take(self, amount: float, now: float) -> None:
        self.level = min(self._cap(amount), self.level + (now - self.at) * self.rate) - amount
        self.at = now

    def adjust(self, amount: float, now: float) -> None:
        """Give back (or, negative, charge) tokens after the fact."""
        level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.level = min(self.capacity, level + amount) if amount > 0 else level + amount  # a refund never overfills
        self.at = now


@dataclass(frozen=True)
class Reservation:
    kind: str
    prompt_estimate: int
    tokens: int  # reserved: calibrated prompt + expected completion


@dataclass
class _Learned:
    answers: int = 0
    estimated_prompt: int = 0
    billed_prompt: int = 0
    completion: int = 0


class RateLimiter:
    def __init__(self, rpm: float | None = None, tpm: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.rpm = rpm or None
        self.tpm = tpm or None
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._requests = _Bucket(self.rpm, now) if self.rpm else None
        self._tokens = _Bucket(self.tpm, now) if self.tpm else None
        self._lock = asyncio.Lock()
        self._learned: dict[str, _Learned] = {}
        self.waited = 0.0  # seconds spent waiting, for reporting

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    def reservation(self, prompt_estimate: int, max_tokens: int | None, kind: str = "") -> Reservation:
        """How many tokens to reserve for a request whose prompt is estimated at `prompt_estimate`."""
        learned = self._learned.get(kind)
        if learned and learned.answers:
            prompt = round(prompt_estimate * learned.billed_prompt / max(1, learned.estimated_prompt) * 1.02)
            completion = round(learned.completion / learned.answers * 1.05)
        else:
            prompt, completion = prompt_estimate, prompt_estimate  # no answer of this kind yet: be generous
        if max_tokens is not None:
            completion = max_tokens  # what providers themselves reserve
        return Reservation(kind, prompt_estimate, prompt + completion)

    async def acquire(self, reservation: Reservation) -> None:
        """Wait for this request's turn, then take its share of the buckets at the moment it goes.

        Waiters queue on a fair lock and take tokens at the real time they leave, so a busy event
        loop that wakes several of them late still lets them out one bucket at a time."""
        if not self.active:
            return
        async with self._lock:
            while True:
                now = self._clock()
                wait = max(self._requests.wait_for(1, now) if self._requests else 0.0,
                           self._tokens.wait_for(reservation.tokens, now) if self._tokens else 0.0)
                if wait <= 1e-9:
                    break
                # Short naps: a refund settled meanwhile (a request billed less than reserved) counts at once.
                nap = min(wait, RECHECK_SECONDS)
                self.waited += nap
                await self._sleep(nap)
            if self._requests:
                self._requests.take(1, now)
            if self._tokens:
                self._tokens.take(reservation.tokens, now)

    def settle(self, reservation: Reservation, billed_prompt: int | None, billed_completion: int | None) -> None:
        """Correct the token bucket with what the server billed (None: the request failed, nothing billed)."""
        billed = (billed_prompt or 0) + (billed_completion or 0)
        if billed_prompt is not None and billed_completion is not None:
            learned = self._learned.setdefault(reservation.kind, _Learned())
            learned.answers += 1
            learned.estimated_prompt += reservation.prompt_estimate
            learned.billed_prompt += billed_prompt
            learned.completion += billed_completion
        if self._tokens:
            self._tokens.adjust(reservation.tokens - billed, self._clock())
