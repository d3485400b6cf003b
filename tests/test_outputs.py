"""The output folder: checked before anything is paid for, written with the user's umask, left holding this run
only, and a full disk is one line, not a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import echo_model
from briefer.errors import UsageError
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, SilentReporter, dry_run, run
from conftest import ROOT, SEED_IDS, reference_responder
from fake_openai import FakeOpenAI


def _briefer(*args: str, umask: int | None = None, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}

    def before() -> None:
        if umask is not None:
            os.umask(umask)
        if limit_bytes is not None:  # files may not grow past this: writes fail with EFBIG, like a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120, encoding="utf-8", preexec_fn=before)


def test_out_naming_a_file_is_a_usage_error_before_any_request(fixture_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "brief.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    with FakeOpenAI(reference_responder()) as server:
        for out in (blocker, blocker / "out"):
            cfg = RunConfig(folder=fixture_copy / "articles", out_dir=out, cache_dir=None,
                            recordings_dir=tmp_path / "none",
                            endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
            with pytest.raises(UsageError, match="is a file, not a folder"):
                asyncio.run(run(cfg))
            with pytest.raises(UsageError, match="is a file, not a folder"):
                dry_run(cfg)
        assert server.requests == []  # nothing was paid for
    r = _briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(blocker))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--out {blocker} is a file, not a folder" in r.stderr
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_path_that_is_not_utf8_is_shown_as_its_bytes(fixture_copy: Path, tmp_path: Path) -> None:
    # A folder unzipped from a Latin-1 archive: its name holds the byte 0xE9. Messages show it as \xe9, the
    # same way skipped files are shown, never as the surrogate \udce9 that a terminal cannot print.
    blocker = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    blocker.write_text("not a folder", encoding="utf-8")
    r = _briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(blocker / "out"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{tmp_path}/caf\\xe9 is a file, not a folder" in r.stderr, r.stderr
    assert "\\udc" not in r.stderr


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_output_files_follow_the_umask(fixture_copy: Path, tmp_path: Path, umask: int, mode: int) -> None:
    out = tmp_path / "out"
    r = _briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache"), umask=umask)
    assert r.returncode == 0, r.stderr
    files = [out / "brief.json", out / "brief.md", *(out / "articles").iterdir()]
    assert len(files) == 2 + len(SEED_IDS)
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(mode)}


def _run(folder: Path, out: Path, recordings: Path) -> SilentReporter:
    rep = SilentReporter()
    result = asyncio.run(run(RunConfig(folder=folder, out_dir=out, offline=True, recordings_dir=recordings,
                                       date="2026-11-22"), rep))
    assert result.exit_code == 0
    return rep


def test_reusing_out_for_another_folder_leaves_only_this_run(fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "articles").mkdir(parents=True)
    (out / "failed").mkdir()
    (out / "articles" / "from-another-folder.json").write_text("{}\n", encoding="utf-8")
    (out / "articles" / "notes.txt").write_text("mine\n", encoding="utf-8")  # not briefer's: kept
    (out / "failed" / f"{SEED_IDS[0]}.txt").write_text("an old raw answer\n", encoding="utf-8")
    (out / "failed" / "gone.txt").write_text("another folder's raw answer\n", encoding="utf-8")
    rep = _run(fixture_copy / "articles", out, fixture_copy / "recordings")
    assert sorted(p.name for p in (out / "articles").iterdir()) == sorted([f"{i}.json" for i in SEED_IDS]
                                                                          + ["notes.txt"])
    assert list((out / "failed").iterdir()) == []  # the article succeeded: its old raw answer is gone
    (line,) = [w for w in rep.warnings if "removed" in w]
    assert line.startswith(f"removed 2 file(s) in {out} left by an earlier run that are not part of this brief:")
    assert line.endswith(": articles/from-another-folder.json, failed/gone.txt")


def test_a_subset_of_the_folder_drops_the_other_articles(fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(fixture_copy / "articles", out, fixture_copy / "recordings")
    subset = tmp_path / "subset"
    subset.mkdir()
    shutil.copy(fixture_copy / "articles" / f"{SEED_IDS[0]}.txt", subset)
    rec = tmp_path / "rec"
    shutil.copytree(fixture_copy / "recordings" / "extract", rec / "extract")
    with FakeOpenAI(echo_model.respond) as server:  # the merge of one article is not recorded: answer it live
        asyncio.run(run(RunConfig(folder=subset, out_dir=out, recordings_dir=rec, cache_dir=None, date="2026-11-22",
                                  endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))))
    assert [p.name for p in (out / "articles").iterdir()] == [f"{SEED_IDS[0]}.json"]
    assert [a["id"] for a in json.loads((out / "brief.json").read_text(encoding="utf-8"))["articles"]] == SEED_IDS[:1]


@contextlib.contextmanager
def _tiny_disk(where: Path) -> Iterator[int | None]:
    """A 96 kB tmpfs when mounting is allowed (root): a real ENOSPC. Otherwise yields a file-size limit that makes
    writes fail the same way (EFBIG), so the path under test is the same."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(where)],
                             capture_output=True).returncode == 0 if shutil.which("mount") else False
    try:
        yield None if mounted else 24_000
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def test_a_full_disk_is_one_line_not_a_traceback(fixture_copy: Path, tmp_path: Path) -> None:
    with _tiny_disk(tmp_path / "disk") as limit:
        out = tmp_path / "disk" / "out"
        r = _briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(out),
                     "--cache-dir", str(tmp_path / "cache"), limit_bytes=limit)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        (line,) = [ln for ln in r.stderr.splitlines() if "cannot write" in ln]
        reason = "No space left on device" if limit is None else "File too large"
        assert line.startswith(f"briefer: cannot write {out}/") and f": {reason};" in line
    # With room again, the same command works.
    r = _briefer("summarize", str(fixture_copy / "articles"), "--offline", "--out", str(tmp_path / "roomy"),
                 "--cache-dir", str(tmp_path / "cache"))
    assert r.returncode == 0, r.stderr


def test_sibling_folders_never_share_recordings(tmp_path: Path) -> None:
    for name, text in (("today", "خبر اليوم\nأعلنت الحكومة اليوم خطة جديدة للكهرباء.\n"),
                       ("yesterday", "خبر الأمس\nأعلنت الوزارة أمس خطة مختلفة للمياه.\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "1.txt").write_text(text, encoding="utf-8")  # the same file name: the same id
    with FakeOpenAI(echo_model.respond) as server:
        for name in ("today", "yesterday"):
            cfg = RunConfig(folder=tmp_path / name, out_dir=tmp_path / f"out-{name}", cache_dir=None, record=True,
                            date="2026-11-22", endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
            assert cfg.recordings == tmp_path / "recordings" / name
            assert asyncio.run(run(cfg)).exit_code == 0
    for name in ("today", "yesterday"):
        assert (tmp_path / "recordings" / name / "extract" / "1.json").is_file()
        assert (tmp_path / "recordings" / name / "merge" / "brief.json").is_file()
        result = asyncio.run(run(RunConfig(folder=tmp_path / name, out_dir=tmp_path / f"replay-{name}",
                                           offline=True, date="2026-11-22")))
        assert result.exit_code == 0 and result.report.spent.answers == 0  # neither made the other stale


def test_the_flat_recordings_layout_still_works(fixture_copy: Path, tmp_path: Path) -> None:
    # fixtures/recordings is marked as the recordings of fixtures/articles: replayed from and recorded into.
    for record in (False, True):
        assert RunConfig(folder=fixture_copy / "articles", record=record).recordings == fixture_copy / "recordings"
    # An unmarked flat layout (made before recordings were kept per folder) is still replayed from; recording
    # goes to the folder's own place, so it cannot overwrite what may be another folder's.
    (fixture_copy / "recordings" / ".briefer-folder").unlink()
    assert RunConfig(folder=fixture_copy / "articles").recordings == fixture_copy / "recordings"
    assert RunConfig(folder=fixture_copy / "articles", record=True).recordings == (fixture_copy / "recordings"
                                                                                   / "articles")
    result = asyncio.run(run(RunConfig(folder=fixture_copy / "articles", out_dir=tmp_path / "out", offline=True,
                                       date="2026-11-22")))
    assert result.exit_code == 0 and result.report.spent.answers == 0
    # A flat layout marked as another folder's is never used for this one.
    (fixture_copy / "recordings" / ".briefer-folder").write_text("yesterday\n", encoding="utf-8")
    assert RunConfig(folder=fixture_copy / "articles").recordings == fixture_copy / "recordings" / "articles"
