"""The cache key covers every ingredient; the store is atomic and tolerant of corruption."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from briefer.model.answers import Call, Gateway, Policy
from briefer.model.cache import CacheEntry, Fingerprint, RecordingStore, ResponseCache, atomic_write
from briefer.model.endpoint import EndpointConfig


class Answer(BaseModel):
    text: str


class OtherAnswer(BaseModel):
    text: str
    extra: int = 0


def _gateway(tmp_path: Path, **endpoint: object) -> Gateway:
    cfg = EndpointConfig(model="m", **endpoint)  # type: ignore[arg-type]
    return Gateway(endpoint=cfg, cache=ResponseCache(tmp_path / "c"), recordings=RecordingStore(tmp_path / "r"),
                   policy=Policy(offline=True))


BASE = Call(stage="extract", subject="a", prompt="extract", prompt_version="v1",
            messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
            response_model=Answer, input_text="u")


def test_same_request_same_key(tmp_path: Path) -> None:
    assert _gateway(tmp_path).cache_key(BASE) == _gateway(tmp_path).cache_key(dataclasses.replace(BASE))


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"mode": "json_schema"},
        {"temperature": 0.7},
        {"max_tokens": 1000},
    ],
)
def test_endpoint_ingredients_change_the_key(tmp_path: Path, change: dict[str, object]) -> None:
    base = _gateway(tmp_path).cache_key(BASE)
    settings: dict[str, object] = {"model": "m", **change}
    gw = Gateway(endpoint=EndpointConfig(**settings),  # type: ignore[arg-type]
                 cache=ResponseCache(None), recordings=RecordingStore(tmp_path), policy=Policy())
    assert gw.cache_key(BASE) != base


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u2"}]},
        {"messages": [{"role": "system", "content": "s2"}, {"role": "user", "content": "u"}]},
        {"response_model": OtherAnswer},
        {"prompt_version": "v2"},
    ],
)
def test_request_ingredients_change_the_key(tmp_path: Path, change: dict[str, object]) -> None:
    gw = _gateway(tmp_path)
    assert gw.cache_key(dataclasses.replace(BASE, **change)) != gw.cache_key(BASE)  # type: ignore[arg-type]


def _entry(key: str) -> CacheEntry:
    fp = Fingerprint(prompt="p", prompt_version="v", schema_name="A", schema_sha256="s", model="m", mode="tools",
                     params_sha256="x", input_sha256="i")
    return CacheEntry(key=key, fingerprint=fp, response={"text": "مرحبا"}, usage=None, recorded_at="t", endpoint="e")


def test_cache_roundtrip_keeps_arabic_readable(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(_entry("ab" * 32))
    assert cache.get("ab" * 32) == _entry("ab" * 32)
    raw = next(tmp_path.rglob("*.json")).read_text(encoding="utf-8")
    assert "مرحبا" in raw and "\\u" not in raw


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = "cd" * 32
    cache.put(_entry(key))
    path = next(tmp_path.rglob("*.json"))
    path.write_text('{"briefer_cache": 1, "key": "cd', encoding="utf-8")  # truncated
    assert cache.get(key) is None


def test_unwritable_cache_degrades_with_one_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    warnings: list[str] = []
    cache = ResponseCache(blocker / "cache", warn=warnings.append)
    cache.put(_entry("ef" * 32))
    cache.put(_entry("ef" * 32))
    assert len(warnings) == 1 and "running uncached" in warnings[0]


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "x" / "out.json"
    atomic_write(target, "one")
    atomic_write(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert os.listdir(target.parent) == ["out.json"]
