"""Never more requests in flight than --concurrency, whatever the stage: article requests and the
merge's batch calls share the same slots (counted at the server)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel, field_validator

import echo_model
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.client import ModelClient
from briefer.models import ArticleExtraction
from briefer.pipeline import RunConfig, run
from fake_openai import FakeOpenAI, FaultPlan


class Gauge:
    """A responder that holds each request a moment and records how many were in flight at once."""

    def __init__(self, hold: float) -> None:
        self.hold, self.now, self.peak, self.names = hold, 0, 0, []
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.names.append(echo_model._schema_name(body))
        time.sleep(self.hold)
        try:
            return echo_model.respond(body)
        finally:
            with self._lock:
                self.now -= 1


def write_articles(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        body = "\n".join(f"قال المسؤول رقم {i} في الفقرة {p} إن الاجتماع بحث ملف الكهرباء في المحافظة."
                         for p in range(12))
        (folder / f"a{i:03d}.txt").write_text(f"اجتماع رقم {i} حول الكهرباء\n{body}\n", encoding="utf-8")


def test_merge_batches_respect_concurrency(tmp_path: Path) -> None:
    write_articles(tmp_path / "today", 24)
    gauge = Gauge(hold=0.05)
    with FakeOpenAI(gauge) as server:
        cfg = RunConfig(folder=tmp_path / "today", out_dir=tmp_path / "out", date="2026-11-30", concurrency=3,
                        merge_budget=400, endpoint=EndpointConfig(model="m", base_url=server.base_url),
                        copy_threshold=0)  # the articles differ only in their numbers: copies, were grouping on
        result = asyncio.run(run(cfg))
    assert result.exit_code == 0
    assert gauge.names.count("StoriesDraft") >= 4, gauge.names  # the merge really ran in several batches
    assert gauge.peak == 3  # the slots were used, and never exceeded


@pytest.mark.parametrize("second_try", ["re-ask", "retry"])
def test_a_request_waiting_to_be_reasked_or_retried_holds_no_slot(second_try: str) -> None:
    """--concurrency counts requests in flight: while article a's first answer is checked and re-asked, or its
    failed request waits for the retry, article b's request goes out in the free slot."""
    faults = FaultPlan({"Article id: a\n": ["500"]} if second_try == "retry" else {})

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        extraction = echo_model.extraction(body)
        if second_try == "re-ask" and len(server.requests) == 1:  # a's first answer is one paragraph short
            extraction["translation_en"] = []
        return extraction

    def messages(article: str) -> list[dict[str, str]]:
        user = f"Article id: {article}\n<<<DATA-0\nHEADLINE: h\n[0] one paragraph here\nDATA-0>>>"
        return [{"role": "system", "content": "Answer."}, {"role": "user", "content": user}]

    async def no_wait(seconds: float) -> None:
        pass

    async def both(client: ModelClient) -> None:
        slot = asyncio.Semaphore(1)
        try:
            await asyncio.gather(*(client.complete(messages(a), ArticleExtraction, {"paragraph_count": 1}, slot=slot)
                                   for a in ("a", "b")))
        finally:
            await client.aclose()

    with FakeOpenAI(answer, faults=faults) as server:
        asyncio.run(both(ModelClient(EndpointConfig(model="m", base_url=server.base_url), sleep=no_wait)))
    order = [m["messages"][1]["content"].split("\n")[0][-1] for m in server.requests]
    assert order == ["a", "b", "a"]  # held for the whole call, the slot would have made it a, a, b


class Noted(BaseModel):
    """A response model whose check is seen: its validator notes which answer is being checked."""

    article: str

    @field_validator("article")
    @classmethod
    def _note(cls, value: str) -> str:
        events.append(f"checked {value}")
        return value


events: list[str] = []


def test_a_freed_slot_sends_its_next_request_before_the_answer_is_checked() -> None:
    """When an answer arrives, the request waiting for its slot goes out first, then the answer is checked
    (parsed, validated, grounded, stored): at high --concurrency a wave of answers no longer holds back the next
    wave of requests while each is checked."""
    events.clear()

    def messages(article: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": "Answer."}, {"role": "user", "content": f"Article id: {article}"}]

    async def note_sent(request: Any) -> None:
        events.append("sent " + json.loads(request.content)["messages"][1]["content"][-1])

    async def both(client: ModelClient) -> None:
        slot = asyncio.Semaphore(1)
        try:
            await asyncio.gather(*(client.complete(messages(a), Noted, None, slot=slot) for a in ("a", "b")))
        finally:
            await client.aclose()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return {"article": body["messages"][1]["content"][-1]}

    with FakeOpenAI(answer) as server:
        http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [note_sent]})
        asyncio.run(both(ModelClient(EndpointConfig(model="m", base_url=server.base_url), http_client=http)))
    # Checked as soon as it arrived, a's answer would have come before b's request: sent a, checked a, sent b.
    assert events == ["sent a", "sent b", "checked a", "checked b"]
