"""The run's files written on a thread (model/writer.py): in order, read back while queued, failures reported on
the caller's thread, nothing left unwritten at close."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from briefer.errors import OutputError
from briefer.model import writer as writer_module
from briefer.model.cache import CacheEntry, Fingerprint, ResponseCache
from briefer.model.writer import Writer


def _entry(key: str) -> CacheEntry:
    fp = Fingerprint(prompt="extract", prompt_version="v", schema_name="S", schema_sha256="s", model="m", mode="tools",
                     params_sha256="p", input_sha256="i")
    return CacheEntry(key=key, fingerprint=fp, response={"title_en": "مرحبا"}, usage=None, recorded_at="t",
                      endpoint="e")


def _never(error: OSError) -> None:
    raise AssertionError(f"unexpected failure: {error}")


def test_an_answer_queued_and_not_yet_written_is_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go = threading.Event()
    real = writer_module.write_redacted

    def held(path: Path, text: str) -> None:  # the disk is slow: the write waits until the test lets it go
        go.wait(10)
        real(path, text)

    monkeypatch.setattr(writer_module, "write_redacted", held)
    cache = ResponseCache(tmp_path)
    cache.writer = writer = Writer()
    written = cache.put(_entry("ab" * 32))
    assert not cache.path("ab" * 32).exists()
    assert cache.get("ab" * 32) == _entry("ab" * 32)  # the queued text, as the file will hold it
    go.set()
    writer.close()
    cache.writer = None
    assert cache.path("ab" * 32).read_text(encoding="utf-8") == written
    assert cache.get("ab" * 32) == _entry("ab" * 32)


def test_writes_keep_their_order_and_close_waits_for_every_one(tmp_path: Path) -> None:
    writer = Writer()
    for i in range(200):
        writer.write(tmp_path / f"{i % 7}" / "same.json", f"version {i}\n", failed=_never)
        writer.write(tmp_path / f"{i:03d}.json", f"file {i}\n", failed=_never, only_if_changed=True)
    writer.close()
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [f"{i:03d}.json" for i in range(200)]
    assert [(tmp_path / f"{k}" / "same.json").read_text(encoding="utf-8") for k in range(7)] == \
        [f"version {max(i for i in range(200) if i % 7 == k)}\n" for k in range(7)]
    assert writer.text(tmp_path / "0" / "same.json") is None  # nothing left queued
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_cache_that_cannot_be_written_warns_once_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory", encoding="utf-8")
    warnings: list[str] = []
    cache = ResponseCache(tmp_path / "file" / "cache", warn=warnings.append)
    cache.writer = writer = Writer()
    for key in ("ab", "cd", "ef"):
        cache.put(_entry(key * 32))
    writer.close()  # the failures are reported here at the latest, on this thread
    assert len(warnings) == 1 and "running uncached" in warnings[0]
    assert not cache.writable
    assert cache.put(_entry("12" * 32)) is None


def test_an_output_file_that_cannot_be_written_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory", encoding="utf-8")

    def stop(error: OSError) -> None:
        raise OutputError(f"cannot write: {error.strerror}")

    writer = Writer()
    writer.write(tmp_path / "file" / "articles" / "a.json", "{}\n", failed=stop)
    with pytest.raises(OutputError, match="cannot write: Not a directory"):
        writer.close()
    writer = Writer()
    writer.write(tmp_path / "odd.json", "\ud800 a lone surrogate\n", failed=_never)  # not an OSError: as itself
    with pytest.raises(UnicodeEncodeError):
        writer.close()
