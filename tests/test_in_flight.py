"""Never more requests in flight than --concurrency, whatever the stage: article requests and the
merge's batch calls share the same slots (counted at the server)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import echo_model
from briefer.model.llm import EndpointConfig
from briefer.pipeline import RunConfig, run
from fake_openai import FakeOpenAI


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
                        merge_budget=400, endpoint=EndpointConfig(model="m", base_url=server.base_url))
        result = asyncio.run(run(cfg))
    assert result.exit_code == 0
    assert gauge.names.count("StoriesDraft") >= 4, gauge.names  # the merge really ran in several batches
    assert gauge.peak == 3  # the slots were used, and never exceeded
