"""Issue 31, cases 1, 6 and 7: what `briefer batch` reads back from its own folders is input, not orders.

The state file may be edited (another tool, a person, an attacker who can write OUT): the endpoint and the folder
come from the command, and the state may only agree; a shard's file stays in the state's folder. Output and
import files are read line by line: a line nested 100,000 deep, or a 1.2 GB output file, is one line each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import IO, Any

import pytest

import echo_model
from briefer.batch_run import collect, submit
from briefer.errors import UsageError
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig
from conftest import FIXTURES
from fake_batches import FakeBatches
from test_batch_api import briefer, state, submit_args

DEEP = "[" * 100_000 + "]" * 100_000


def _edit_state(tmp: Path, change: Any) -> None:
    path = tmp / "out" / "batch" / "state.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _untouched(server: FakeBatches) -> bool:
    return server.retrieves == 0 and not server.files and not server.batches and not server.requests


def test_a_tampered_endpoint_in_the_state_gets_no_request_and_no_key(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond) as good, FakeBatches(echo_model.respond) as evil:
        assert briefer(*submit_args(tmp_path, good)).returncode == 0

        def elsewhere(data: dict[str, Any]) -> None:
            data["run"]["endpoint"]["base_url"] = evil.base_url

        _edit_state(tmp_path, elsewhere)
        out = str(tmp_path / "out")
        for args in (("batch", "status", "--out", out, "--base-url", good.base_url),
                     ("batch", "status", "--out", out),  # no --base-url: the default endpoint, not the state's
                     ("batch", "collect", str(FIXTURES / "articles"), "--out", out, "--base-url", good.base_url),
                     ("summarize", str(FIXTURES / "articles"), "--batch", "--poll-interval", "0.05", "--out", out,
                      "--cache-dir", str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"),
                      "--base-url", good.base_url, "--date", "2026-11-22")):
            r = briefer(*args)
            assert r.returncode == 2, r.stderr
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and "does not agree with this command on the endpoint (state.json: " \
                f"{evil.base_url}" in lines[0], r.stderr
        assert _untouched(evil)
        assert good.retrieves == 0  # nothing was asked of anyone


def test_a_shard_file_outside_the_state_folder_is_never_uploaded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("MARKER secret\n", encoding="utf-8")
    with FakeBatches(echo_model.respond, hold_create=1) as server:
        server.release.set()  # the first create fails (500): the shard stays uploaded but not submitted
        briefer(*submit_args(tmp_path, server))
        uploads = len(server.files)

        def traversal(data: dict[str, Any]) -> None:
            data["shards"].append({**data["shards"][0], "number": 2, "file": "../../secret.txt",
                                   "input_file_id": None, "batch_id": None, "status": "written"})

        _edit_state(tmp_path, traversal)
        r = briefer(*submit_args(tmp_path, server))
        assert r.returncode == 2 and "not a briefer batch state file" in r.stderr and "requests-" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert len(server.files) == uploads
        assert all(b"MARKER" not in data for data in server.content.values())


def test_a_state_pointing_at_another_folder_is_refused_at_collect(tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "articles", other)
    (other / "private.txt").write_text("Private notes\nMARKER private paragraph that must not be uploaded.\n",
                                       encoding="utf-8")
    with FakeBatches(echo_model.respond, outcomes=["failed"]) as server:
        assert briefer(*submit_args(tmp_path, server)).returncode == 0
        _edit_state(tmp_path, lambda data: data["run"].update(folder=str(other)))
        for _ in range(2):
            assert briefer("batch", "status", "--out", str(tmp_path / "out"), "--base-url", server.base_url
                           ).returncode == 0
        files_before = len(server.files)
        out = str(tmp_path / "out")
        r = briefer("batch", "collect", str(FIXTURES / "articles"), "--out", out, "--base-url", server.base_url)
        assert r.returncode == 2 and f"the folder (state.json: {other}, this command: " in r.stderr, r.stderr
        r = briefer("batch", "collect", "--out", out, "--base-url", server.base_url)  # no FOLDER: none is read
        assert r.returncode == 2 and "give the folder: briefer batch collect FOLDER" in r.stderr, r.stderr
        assert len(server.files) == files_before and len(state(tmp_path)["shards"]) == 1
        assert all(b"MARKER" not in data for data in server.content.values())


def _config(tmp: Path, base_url: str) -> RunConfig:
    return RunConfig(folder=FIXTURES / "articles", out_dir=tmp / "out", date="2026-11-22", cache_dir=tmp / "cache",
                     recordings_dir=tmp / "none", no_since=True,
                     endpoint=EndpointConfig(model="gpt-4o-mini", base_url=base_url))


class HugeOutput:
    """A provider whose finished batch's output file is 1.2 GB: the real answers, a line nested 100,000 deep,
    then a sparse tail with no line break (a file never held in memory: written with truncate)."""

    def __init__(self, real: FakeBatches, size: int = 1_200_000_000) -> None:
        self.real, self.size, self.downloads = real, size, 0
        from briefer.model.openai.files import BatchClient

        self.client = BatchClient(EndpointConfig(model="gpt-4o-mini", base_url=real.base_url))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def download_to(self, file_id: str, sink: IO[bytes]) -> None:
        self.client.download_to(file_id, sink)
        self.downloads += 1
        if self.downloads == 1:  # the output file (the error file, if any, comes second)
            sink.write(b'{"custom_id": "deep", "response": ' + DEEP.encode() + b"}\n")
            sink.truncate(self.size)
            sink.seek(0, 2)


def test_a_deep_line_and_a_huge_output_file_are_one_line_each_and_collect_finishes(tmp_path: Path) -> None:
    with FakeBatches(echo_model.respond) as server:
        cfg = _config(tmp_path, server.base_url)
        submit(cfg)
        provider = HugeOutput(server)
        for _ in range(3):
            from briefer.batch_run import status

            status(cfg.output, provider, base_url=server.base_url)
        done = collect(cfg.output, provider=provider, base_url=server.base_url, folder=cfg.folder)
    assert done.imported == 5 and done.result is not None and done.result.exit_code == 0
    reasons = [r.reason for r in done.rejected]
    assert len(reasons) == 2, reasons
    assert "line 6: line 1, column 234: nested deeper than 200 levels" in reasons[0]
    assert reasons[1].startswith("line over 67,108,864 bytes, not read")


def test_a_deep_line_in_an_import_file_is_one_line(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text(f'{{"custom_id": "x", "response": {DEEP}}}\n{DEEP}\n', encoding="utf-8")
    r = briefer("batch", "import", str(results), "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stderr
    assert f"{results}: line 1: line 1, column 231: nested deeper than 200 levels" in r.stderr
    assert f"{results}: line 2: line 1, column 201: nested deeper than 200 levels" in r.stderr


def test_an_oversized_import_line_is_one_line_and_the_next_line_is_read(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    with results.open("wb") as fh:
        fh.truncate(1_200_000_000)  # 1.2 GB of NUL bytes, sparse: one line without a break
        fh.seek(0, 2)
        fh.write(b'\n{"custom_id": "abc", "error": {"code": "batch_expired", "message": "expired"}}\n')
    r = briefer("batch", "import", str(results), "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 3, r.stderr
    assert "line 1: line over 67,108,864 bytes, not read" in r.stderr
    assert "abc" in r.stderr and "unknown custom_id" in r.stderr  # line 2 was read


def test_export_writes_through_the_one_writer(tmp_path: Path) -> None:
    """`batch export` (issue 27): mode 0644 under umask 022, and a file name of 250 bytes (the temporary name is
    short, not `.<name>.<random>.tmp`)."""
    import os

    old = os.umask(0o022)
    try:
        target = tmp_path / ("r" * 244 + ".jsonl")
        r = briefer("batch", "export", str(FIXTURES / "articles"), "-o", str(target), "--cache-dir",
                    str(tmp_path / "cache"), "--recordings", str(tmp_path / "no-recordings"))
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert len(target.read_text(encoding="utf-8").splitlines()) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_state_file_is_capped_and_strict(tmp_path: Path) -> None:
    from briefer.model.batch import StateFile

    store = StateFile(tmp_path)
    with (tmp_path / "state.json").open("wb") as fh:
        fh.truncate(2_000_000_000)  # sparse: refused by its size, never read
    with pytest.raises(UsageError, match="not a briefer batch state file"):
        store.load()
    (tmp_path / "state.json").write_text('{"briefer_batch": 1, "endpoint": "x", "model": "m", "run": '
                                         + DEEP + "}", encoding="utf-8")
    with pytest.raises(UsageError, match="not a briefer batch state file"):
        store.load()
