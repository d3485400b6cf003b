"""Shared fixtures. Tests are offline: any connection to a non-loopback address fails the test."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SEED_IDS = [p.stem for p in sorted((FIXTURES / "articles").glob("*.txt"))]


class NetworkBlocked(AssertionError):
    pass


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple):
        host = address[0]
    else:
        return True  # AF_UNIX paths
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name that is not localhost: refused without resolving it


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach a non-loopback address: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise NetworkBlocked(f"test tried to reach a non-loopback address: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _offline_guard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    # No test may pick up a real key or endpoint from the developer's environment.
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFER_MODEL", "BRIEFER_CACHE_DIR", "BRIEFER_PRICE",
                "BRIEFER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # Nor the developer's own briefer.toml: the user config folder is an empty one of the test's (subprocesses
    # inherit it).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(scope="session")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory holding another folder's briefs: the README's "Day after day" commands'
    `briefs/2024-09-17/` and `briefs/2024-09-18/`, and `briefs/2024-09-16/` as a briefer without indexes
    left it. Every test runs from here (`_away_from_the_checkout`), so none depends on the directory
    pytest was started in, or on what a default `briefs/` there holds."""
    from briefer.pipeline import RunConfig, summarize_folder

    cwd = tmp_path_factory.mktemp("elsewhere")
    for day in ("2024-09-17", "2024-09-18"):
        summarize_folder(RunConfig(folder=FIXTURES / "daily" / day, out_dir=cwd / "briefs" / day, date=day,
                                   offline=True))
    (cwd / "briefs" / "2024-09-16").mkdir()
    shutil.copy(cwd / "briefs" / "2024-09-17" / "brief.json", cwd / "briefs" / "2024-09-16" / "brief.json")
    return cwd


@pytest.fixture(autouse=True)
def _away_from_the_checkout(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(elsewhere)


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """A private copy of fixtures/ (articles, recordings, alias file), so tests can change it freely."""
    dest = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "articles", dest / "articles")
    shutil.copytree(FIXTURES / "recordings", dest / "recordings")
    shutil.copy(FIXTURES / "aliases.toml", dest / "aliases.toml")
    return dest


def reference_responder() -> Any:
    """Answer like the reference recordings: the extraction whose headline appears in the request, else the merge."""
    extracts = [json.loads(p.read_text(encoding="utf-8"))["response"]
                for p in sorted((FIXTURES / "recordings" / "extract").glob("*.json"))]
    merge = json.loads((FIXTURES / "recordings" / "merge" / "brief.json").read_text(encoding="utf-8"))["response"]

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        user = "\n".join(str(m.get("content") or "") for m in body["messages"])
        for answer in extracts:
            if answer["headline_original"] in user:
                return answer
        return merge

    return respond


@pytest.fixture
def reference_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(reference_responder()) as server:
        yield server


def output_files(out: Path) -> dict[str, bytes]:
    """Every file a run wrote under `out`, by its path relative to `out`, byte for byte."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


RUN_REPORT = "run.json"  # what a run spent and replayed: the one file two runs of the same brief differ in


def assert_same_outputs(one: Path, two: Path) -> None:
    """Two runs wrote the same files, byte for byte, brief.json included; only their run reports differ."""
    a, b = output_files(one), output_files(two)
    assert sorted(a) == sorted(b) and RUN_REPORT in a
    for name in a:
        if name != RUN_REPORT:
            assert a[name] == b[name], name


def remove_tree(root: Path) -> None:
    """shutil.rmtree without recursion: pytest's own clean-up of tmp_path recurses, and a tree 1,200 folders
    deep (the hostile-input tests) would break it at the end of the session."""
    stack = [root]
    while stack:
        with os.scandir(stack[-1]) as it:
            subdirs = [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
        if subdirs:
            stack.extend(subdirs)
            continue
        with os.scandir(stack[-1]) as it:
            for e in it:
                os.unlink(e.path)
        os.rmdir(stack.pop())
