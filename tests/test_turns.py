"""Turns: an answer is checked only when no request is on its way out, in the order the answers arrived."""

from __future__ import annotations

import asyncio

from briefer.model.turns import Turns


def test_answers_wait_for_every_request_on_its_way_out_and_go_in_order() -> None:
    async def main() -> list[str]:
        turns, events = Turns(), []
        first, second = turns.begin_send(), turns.begin_send()

        async def answer(name: str) -> None:
            await turns.turn()
            events.append(f"checked {name}")

        waiting = [asyncio.create_task(answer(name)) for name in ("a", "b")]
        for _ in range(5):
            await asyncio.sleep(0)
        events.append("first sent")
        first()
        first()  # told twice: counted once, the second request is still on its way out
        for _ in range(5):
            await asyncio.sleep(0)
        events.append("second sent")
        second()
        await asyncio.gather(*waiting)
        return events

    assert asyncio.run(main()) == ["first sent", "second sent", "checked a", "checked b"]


def test_a_cancelled_answer_does_not_hold_back_the_next() -> None:
    async def main() -> list[str]:
        turns, events = Turns(), []
        sent = turns.begin_send()

        async def answer(name: str) -> None:
            await turns.turn()
            events.append(f"checked {name}")

        gone, kept = asyncio.create_task(answer("gone")), asyncio.create_task(answer("kept"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        gone.cancel()  # the run was stopped while this answer waited
        sent()
        await asyncio.wait_for(kept, timeout=5)
        assert gone.cancelled()
        return events

    assert asyncio.run(main()) == ["checked kept"]


def test_with_nothing_on_its_way_out_an_answer_has_its_turn_within_a_few_loop_iterations() -> None:
    async def main() -> int:
        turns = Turns()
        task = asyncio.create_task(turns.turn())
        for n in range(1, 10):
            await asyncio.sleep(0)
            if task.done():
                return n
        raise AssertionError("the answer never had its turn")

    assert asyncio.run(main()) <= 4
