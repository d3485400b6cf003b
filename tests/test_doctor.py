"""`briefer doctor`: one line per check and a non-zero exit when one fails, against real HTTP servers on 127.0.0.1
(the fake OpenAI server, one without json_schema, one that ignores tool_choice) and against nothing listening."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from briefer.cli import app
from fake_openai import FakeOpenAI, FaultPlan

KEY = "sk-doctor-test-0123456789abcdefWXYZ"


def probe_answer(body: dict[str, Any]) -> dict[str, Any]:
    return {"answer": 5}


def doctor(*args: str, key: str | None = KEY) -> tuple[int, list[str]]:
    env = {"OPENAI_API_KEY": key} if key else {}
    r = CliRunner().invoke(app, ["doctor", *args], env=env)
    return r.exit_code, r.output.splitlines()


def line(lines: list[str], name: str) -> str:
    found = [ln for ln in lines if ln[6:].startswith(name)]  # "FAIL  name: detail"
    assert len(found) == 1, lines
    return found[0]


def test_every_check_passes_against_the_fake_server(tmp_path: Path) -> None:
    llama = [{"id": "qwen2.5-0.5b-instruct", "object": "model", "owned_by": "llamacpp",
              "meta": {"vocab_type": 2, "n_ctx_train": 32768, "n_params": 494032768}}]
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "answer.json").write_bytes(b"x" * 2_000_000)
    with FakeOpenAI(probe_answer, models=llama) as server:
        code, lines = doctor("--base-url", server.base_url, "-m", "qwen2.5-0.5b-instruct", "--mode", "json_schema",
                             "--cache-dir", str(tmp_path / "cache"))
        sent = server.requests
    assert code == 0, lines
    assert len(lines) == 5
    assert all(ln.startswith("ok ") for ln in lines), lines
    assert line(lines, "API key").endswith("set (…WXYZ, 35 characters)")
    assert KEY not in "\n".join(lines)
    assert "2.0 MB in 1 file" in line(lines, "cache")
    assert "model 'qwen2.5-0.5b-instruct' listed (1 model in all)" in line(lines, "server")
    assert line(lines, "context length").endswith("32,768 tokens (reported by the server)")
    assert "the answer kept to the schema" in line(lines, "structured request (--mode json_schema)")
    # One request, in the mode in force, with the probe's schema.
    assert len(sent) == 1 and sent[0]["response_format"]["type"] == "json_schema"
    assert sent[0]["max_tokens"] == 64


def test_a_server_without_json_schema_fails_the_request_check_and_names_the_next_mode(tmp_path: Path) -> None:
    with FakeOpenAI(probe_answer, faults=FaultPlan({"*": ["nojsonschema"]})) as server:
        code, lines = doctor("--base-url", server.base_url, "--mode", "json_schema", "--cache-dir", str(tmp_path))
    assert code == 1
    assert line(lines, "server").startswith("ok ")
    assert line(lines, "context length").startswith("info")  # OpenAI-style lists report none
    request = line(lines, "structured request (--mode json_schema)")
    assert request.startswith("FAIL") and "rejected --mode json_schema" in request and "try --mode json" in request


def test_a_server_that_ignores_tool_choice_did_not_keep_to_the_schema(tmp_path: Path) -> None:
    # llama.cpp answers a tools request with plain text when its template ignores tool_choice.
    with FakeOpenAI(probe_answer, faults=FaultPlan({"*": ["notool"]})) as server:
        code, lines = doctor("--base-url", server.base_url, "--cache-dir", str(tmp_path))
        sent = len(server.requests)
    assert code == 1
    request = line(lines, "structured request (--mode tools)")
    assert request.startswith("FAIL") and "answered in plain text instead of calling the tool" in request
    assert "use --mode json_schema" in request
    assert sent == 1  # no re-ask: a re-ask would hide the answer that broke the schema


def test_an_answer_that_breaks_the_schema_is_named(tmp_path: Path) -> None:
    with FakeOpenAI(lambda body: {"answer": "five"}) as server:
        code, lines = doctor("--base-url", server.base_url, "--cache-dir", str(tmp_path))
    assert code == 1
    request = line(lines, "structured request (--mode tools)")
    assert request.startswith("FAIL") and "did not keep to the schema" in request and "answer" in request


def test_nothing_listening_fails_fast_and_sends_nothing(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    code, lines = doctor("--base-url", f"http://127.0.0.1:{port}/v1", "--cache-dir", str(tmp_path))
    assert time.monotonic() - started < 10
    assert code == 1
    assert line(lines, "server").startswith(f"FAIL  server: cannot reach http://127.0.0.1:{port}/v1")
    assert line(lines, "structured request").startswith("skip")
    assert line(lines, "API key").startswith("ok ")


def test_a_model_the_server_does_not_list_fails(tmp_path: Path) -> None:
    with FakeOpenAI(probe_answer) as server:
        code, lines = doctor("--base-url", server.base_url, "-m", "gpt-5-nano", "--cache-dir", str(tmp_path))
    assert code == 1
    assert "model 'gpt-5-nano' is not listed (it lists gpt-4o-mini, gpt-4o)" in line(lines, "server")


def test_no_key_for_the_provider_and_an_unwritable_cache_fail_without_a_request(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, lines = doctor("--cache-dir", str(blocker / "cache"), key=None)
    assert code == 1
    assert line(lines, "API key").startswith("FAIL  API key: OPENAI_API_KEY not set")
    assert line(lines, "cache").startswith("FAIL")
    assert line(lines, "server").startswith("skip")


def test_doctor_uses_the_config_file_endpoint(tmp_path: Path, monkeypatch: Any) -> None:
    with FakeOpenAI(probe_answer) as server:
        (tmp_path / "briefer.toml").write_text(f'base_url = "{server.base_url}"\nmode = "json"\n', encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        code, lines = doctor("--no-cache")
        sent = server.requests
    assert code == 0, lines
    assert line(lines, "structured request (--mode json)").startswith("ok ")
    assert sent[0]["response_format"] == {"type": "json_object"}
