"""--rpm / --tpm: a run against a server that enforces them gets no 429 and uses at least 90% of the rate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import echo_model
from briefer.model.endpoint import EndpointConfig
from briefer.model.ratelimit import SAFETY, RateLimiter, Reservation
from briefer.pipeline import RunConfig, run
from fake_openai import FakeOpenAI, RateLimits


def _articles(folder: Path, n: int) -> Path:
    """n articles of one template, told apart by their numbers only: syndicated copies of one story to briefer's
    grouping, so the runs here turn it off (copy_threshold=0) to send each one."""
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:03d}.txt").write_text(
            f"خبر رقم {i}\n" + "\n".join(f"هذه الفقرة {j} من الخبر رقم {i} وفيها تفاصيل إضافية عن الحدث." for j in
                                         range(4)) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(("rpm", "tpm"), [(600, None), (None, 600_000)])
def test_paced_run_gets_no_429_and_uses_the_rate(tmp_path: Path, rpm: float | None, tpm: float | None) -> None:
    limits = RateLimits(rpm=rpm or 0, tpm=tpm or 0)
    folder = _articles(tmp_path / "in", 40)
    with FakeOpenAI(echo_model.respond, latency=0.02, limits=limits) as server:
        cfg = RunConfig(folder=folder, out_dir=tmp_path / "out", date="2026-11-22", cache_dir=None,
                        recordings_dir=tmp_path / "none", concurrency=16, copy_threshold=0,
                        endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, rpm=rpm, tpm=tpm))
        result = asyncio.run(run(cfg))
    assert result.exit_code == 0
    assert limits.rejected == 0  # never hit the limit
    # The rate sustained while articles stream through (after the first answers have calibrated the
    # estimates, before the final merge request) is at least 90 % of what the server allows.
    steady = limits.log[5:-1]
    span = steady[-1][0] - steady[0][0]
    if rpm:
        used = (len(steady) - 1) / span * 60
        assert used >= 0.9 * rpm, f"{used:.0f} requests/min of {rpm}"
    else:
        assert tpm is not None
        used = sum(cost for _, cost in steady[1:]) / span * 60
        assert used >= 0.9 * tpm, f"{used:.0f} tokens/min of {tpm}"


def test_an_unpaced_run_does_hit_the_limit(tmp_path: Path) -> None:
    """The control: without --rpm the same server answers 429 (and briefer retries them)."""
    limits = RateLimits(rpm=300)  # a burst of 5: sixteen requests at once must overflow it
    folder = _articles(tmp_path / "in", 40)
    with FakeOpenAI(echo_model.respond, latency=0.02, limits=limits) as server:
        cfg = RunConfig(folder=folder, out_dir=tmp_path / "out", date="2026-11-22", cache_dir=None,
                        recordings_dir=tmp_path / "none", concurrency=16, copy_threshold=0,
                        endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url, max_retries=10))
        asyncio.run(run(cfg))
    assert limits.rejected > 0


def test_limiter_paces_requests_and_settles_tokens() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(rpm=60 / SAFETY, tpm=6000 / SAFETY, clock=lambda: now[0], sleep=sleep)  # 1/s, 100 t/s

    async def go() -> None:
        first = limiter.reservation(25, None, "A")
        assert first.tokens == 50  # no answer of this kind yet: completion guessed as large as the prompt
        await limiter.acquire(first)  # at 0: buckets hold 1 request and 50 tokens
        limiter.settle(first, billed_prompt=50, billed_completion=100)  # billed 150: 100 more than reserved
        second = limiter.reservation(25, None, "A")
        assert second.tokens == round(25 * 2 * 1.02) + round(100 * 1.05)  # calibrated: prompt x2, completion 100
        await limiter.acquire(second)  # repay the debt of 100, then save up the reservation: at 100 tokens/s
        assert sum(slept) == pytest.approx((100 + second.tokens) / 100)

    asyncio.run(go())
    assert limiter.reservation(25, 64, "A").tokens == round(25 * 2 * 1.02) + 64  # max_tokens is reserved as is
    assert limiter.reservation(25, None, "B").tokens == 50  # another kind: nothing learned yet


def test_a_request_larger_than_the_bucket_saves_up_for_itself() -> None:
    now = [0.0]

    async def sleep(s: float) -> None:
        now[0] += s

    limiter = RateLimiter(tpm=12000 / SAFETY, clock=lambda: now[0], sleep=sleep)  # 200 tokens/s, bucket 100

    async def go() -> None:
        await limiter.acquire(Reservation("A", 0, 100))  # empties the bucket
        await limiter.acquire(Reservation("A", 0, 500))  # saves up its own 500 tokens: 2.5 s
        assert now[0] == pytest.approx(2.5)
        await limiter.acquire(Reservation("A", 0, 100))  # then the bucket refills for the next: 0.5 s
        assert now[0] == pytest.approx(3.0)

    asyncio.run(go())
