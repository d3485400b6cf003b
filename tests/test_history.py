"""Which earlier brief a run follows (issue 29 item 3, issue 31 case 3): only its own input folder's history,
found through each output folder's small index; `--since` as a folder or a day; an earlier brief.json read as
input (ids that are file names, sizes and copied strings capped)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from briefer.brief.continuity import MAX_BRIEF_BYTES, load_earlier
from briefer.brief.history import INDEX_FILE, TITLE_CHARS, BriefIndex, find_earlier, resolve_since
from briefer.errors import UsageError
from briefer.pipeline import RunConfig, RunResult, SilentReporter, run
from conftest import FIXTURES, ROOT

DAILY = FIXTURES / "daily"
DAY1, DAY2 = "2024-09-17", "2024-09-18"
A001 = "001_60e5ac162c7950a1"


def briefer(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    return subprocess.run([sys.executable, "-m", "briefer", *args], capture_output=True, text=True, cwd=cwd,
                          env={**clean, **(env or {})}, timeout=180, encoding="utf-8")


def day(n: str, out: Path, reporter: SilentReporter | None = None, **options: object) -> RunResult:
    cfg = RunConfig(folder=DAILY / n, out_dir=out, date=n, offline=True, **options)  # type: ignore[arg-type]
    return asyncio.run(run(cfg, reporter))


def brief_data(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "brief.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the automatic --since


def test_every_run_writes_a_small_index_naming_its_input_folder(tmp_path: Path) -> None:
    first = day(DAY1, tmp_path / "briefs" / DAY1)
    index = BriefIndex.model_validate_json((first.out_dir / INDEX_FILE).read_text(encoding="utf-8"))
    assert (index.date, index.title) == (DAY1, first.brief.title)
    assert index.folder == str((DAILY / DAY1).resolve()) and index.series == str(DAILY.resolve())
    assert index.stories == [st.title for st in first.brief.stories]
    assert (first.out_dir / INDEX_FILE).stat().st_size < 4096


def test_a_dated_out_beside_another_folders_briefs_stands_alone(tmp_path: Path, fixture_copy: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs / DAY1)
    day(DAY2, briefs / DAY2)
    reporter = SilentReporter()
    cfg = RunConfig(folder=fixture_copy / "articles", out_dir=briefs / "2026-12-08", date="2026-12-08", offline=True)
    beside = asyncio.run(run(cfg, reporter))
    clean = asyncio.run(run(RunConfig(folder=fixture_copy / "articles", out_dir=tmp_path / "clean" / "2026-12-08",
                                      date="2026-12-08", offline=True)))
    assert beside.brief.continuity is None and not beside.brief.failures and reporter.warnings == []
    assert beside.brief == clean.brief


def test_the_same_folder_of_days_is_followed(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs / DAY1)
    assert find_earlier(briefs / DAY2, DAY2, DAILY / DAY2) == briefs / DAY1
    assert find_earlier(briefs / DAY2, DAY2, FIXTURES / "articles") is None  # another folder's history
    assert find_earlier(briefs / DAY1, DAY1, DAILY / DAY1) is None  # nothing before it


def test_a_brief_without_an_index_is_followed_only_when_named(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs / DAY1)
    (briefs / DAY1 / INDEX_FILE).unlink()  # as a briefer without indexes left it
    assert day(DAY2, briefs / DAY2).brief.continuity is None
    named = day(DAY2, tmp_path / "two" / DAY2, since=briefs / DAY1).brief.continuity
    assert named is not None and named.compared_with.date == DAY1 and A001 in named.already_reported


def test_the_lookup_reads_indexes_only(tmp_path: Path) -> None:
    """365 days of another folder's briefs and one of this folder's, none with a brief.json: found by index."""
    briefs = tmp_path / "briefs"
    mine = day(DAY1, briefs / DAY1)
    for n in range(365):
        folder = briefs / f"2023-{1 + n // 28:02d}-{1 + n % 28:02d}"
        if folder.exists():
            continue
        folder.mkdir()
        (folder / INDEX_FILE).write_text((mine.out_dir / INDEX_FILE).read_text(encoding="utf-8").replace(
            json.dumps(str(DAILY.resolve())), json.dumps(str((FIXTURES / "articles").resolve()))), encoding="utf-8")
    (briefs / DAY1 / "brief.json").rename(tmp_path / "kept.json")
    assert find_earlier(briefs / DAY2, DAY2, DAILY / DAY2) == briefs / DAY1


def test_an_index_out_of_bounds_is_not_followed(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    first = day(DAY1, briefs / DAY1)
    index = json.loads((first.out_dir / INDEX_FILE).read_text(encoding="utf-8"))
    for change in ({"title": "x" * 100_000}, {"extra": 1}, {"date": "yesterday"}):
        (first.out_dir / INDEX_FILE).write_text(json.dumps(index | change), encoding="utf-8")
        assert find_earlier(briefs / DAY2, DAY2, DAILY / DAY2) is None, change
    (first.out_dir / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
    link = briefs / "2024-09-16"
    link.symlink_to(briefs / DAY1)  # a link leads anywhere: never followed on its own
    (first.out_dir / INDEX_FILE).unlink()
    assert find_earlier(briefs / DAY2, DAY2, DAILY / DAY2) is None


def test_the_readme_first_command_is_the_same_beside_another_folders_briefs(elsewhere: Path,
                                                                          tmp_path: Path) -> None:
    """`briefer summarize fixtures/articles --offline` (no --out) from a folder holding the "Day after day"
    briefs gives the brief a clean checkout gives."""
    clean, crowded = tmp_path / "clean", tmp_path / "crowded"
    clean.mkdir()
    for name in ("2024-09-16", DAY1, DAY2):  # as the session made them (another test may have added a folder)
        shutil.copytree(elsewhere / "briefs" / name, crowded / "briefs" / name)
    runs = [briefer("summarize", str(ROOT / "fixtures" / "articles"), "--offline", cwd=cwd,
                    env={"BRIEFER_CACHE_DIR": str(tmp_path / f"cache-{cwd.name}")}) for cwd in (clean, crowded)]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    assert runs[0].stderr == runs[1].stderr and "compared with" not in runs[1].stderr
    (made,) = (clean / "briefs").iterdir()
    for name in ("brief.json", "brief.md", "brief.html", INDEX_FILE):
        assert (made / name).read_bytes() == (crowded / "briefs" / made.name / name).read_bytes(), name


# ---------------------------------------------------------------- --since as a day; what the run says


def test_since_takes_a_day_or_yesterday(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs / DAY1)
    for value in (DAY1, "yesterday"):
        c = day(DAY2, briefs / DAY2, since=value).brief.continuity
        assert c is not None and Path(c.compared_with.path) == briefs / DAY1, value
    with pytest.raises(UsageError, match="--since 2024-09-10: no brief of 2024-09-10 beside --out"):
        day(DAY2, briefs / DAY2, since="2024-09-10")
    assert resolve_since(str(briefs / DAY1), briefs / DAY2, DAY2, DAILY / DAY2) == briefs / DAY1  # a folder


def test_the_closing_line_names_the_earlier_brief_and_a_bad_day_is_one_line(tmp_path: Path) -> None:
    briefs = tmp_path / "briefs"
    day(DAY1, briefs / DAY1)
    r = briefer("summarize", str(DAILY / DAY2), "--offline", "--no-cache", "--date", DAY2, "--out",
                str(briefs / DAY2), "--since", DAY1, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    closing = [ln for ln in r.stderr.splitlines() if ln.startswith("brief written to")]
    assert closing and closing[0].endswith(f"; compared with the brief of {DAY1} in {briefs / DAY1} "
                                           "(--since chooses another, --no-since none)"), r.stderr
    r = briefer("summarize", str(DAILY / DAY2), "--offline", "--no-cache", "--date", DAY2, "--out",
                str(briefs / DAY2), "--since", "2024-01-01", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no brief of 2024-01-01" in r.stderr


def test_a_failed_merge_with_an_earlier_brief_names_since_and_no_since(tmp_path: Path) -> None:
    # Day 1 compared with day 2's brief: article 001 is already reported, so the merge input is not the recorded
    # one; the failure says that the earlier brief is part of it.
    two = day(DAY2, tmp_path / "two")
    brief = day(DAY1, tmp_path / "one", since=two.out_dir).brief
    (failure,) = [f for f in brief.failures if f.source_path == "(merge)"]
    assert "is stale" in failure.reason and f"--since {two.out_dir}" in failure.reason
    assert failure.reason.endswith(f"the merge's input includes the earlier brief of {DAY2} ({two.out_dir}): "
                                   "--since names another, --no-since writes a brief that stands alone")


# ---------------------------------------------------------------- an earlier brief.json is input


def _tampered(tmp_path: Path, change: dict) -> Path:  # type: ignore[type-arg]
    first = day(DAY1, tmp_path / "earlier")
    data = brief_data(first.out_dir) | change
    (first.out_dir / "brief.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return first.out_dir


@pytest.mark.parametrize("bad_id", ["../../outside/big", "/etc/passwd", "../../../../dev/zero"])
def test_article_ids_that_are_paths_are_refused(tmp_path: Path, bad_id: str) -> None:
    # A brief consistent in itself (the id replaced everywhere it is cited), with no hashes in its article list,
    # so that its articles/<id>.json would be read: ../../outside/big.json holds article 001's hash.
    earlier = day(DAY1, tmp_path / "briefs" / "earlier").out_dir
    data = brief_data(earlier)
    sha = next(a["content_sha256"] for a in data["articles"] if a["id"] == A001)
    for a in data["articles"]:
        a.pop("content_sha256")
    (earlier / "brief.json").write_text(json.dumps(data).replace(A001, bad_id), encoding="utf-8")
    (tmp_path / "briefs" / "outside").mkdir()
    (tmp_path / "briefs" / "outside" / "big.json").write_text(json.dumps({"content_sha256": sha}), encoding="utf-8")
    reporter = SilentReporter()
    b = day(DAY2, tmp_path / "today", reporter, since=earlier).brief
    assert b.continuity is None and A001 in {i for st in b.stories for i in st.article_ids}
    (warning,) = reporter.warnings
    assert warning.startswith(f"--since {earlier}: brief.json is not a brief briefer can read (")
    assert warning.endswith(f"Value error, '{bad_id}' is not an article id); this brief stands alone")


def test_an_article_file_linked_out_of_its_folder_is_not_read(tmp_path: Path) -> None:
    earlier = day(DAY1, tmp_path / "earlier").out_dir
    data = brief_data(earlier)
    for a in data["articles"]:
        a.pop("content_sha256")
    (earlier / "brief.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "elsewhere.json").write_bytes((earlier / "articles" / f"{A001}.json").read_bytes())
    (earlier / "articles" / f"{A001}.json").unlink()
    (earlier / "articles" / f"{A001}.json").symlink_to(tmp_path / "elsewhere.json")
    found = load_earlier(earlier, print)
    assert found is not None and A001 not in found.hashes.values() and len(found.hashes) == 2


def test_a_100_mb_title_is_not_read_and_a_long_one_is_capped(tmp_path: Path) -> None:
    huge = _tampered(tmp_path / "huge", {"title": "T" * (100 * 2**20)})
    reporter = SilentReporter()
    today = day(DAY2, tmp_path / "today", reporter, since=huge)
    assert today.brief.continuity is None and len(reporter.warnings) == 1
    # 100 MB of title plus the rest of the brief (its size grows with what the brief holds: statement checks)
    assert re.search(r"cannot read brief\.json \(100\.\d MB, over the 32\.0 MB briefer reads\)", reporter.warnings[0])
    for name in ("brief.json", "brief.md", "brief.html", INDEX_FILE):
        assert (today.out_dir / name).stat().st_size < 2 * 2**20, name
    assert (huge / "brief.json").stat().st_size > MAX_BRIEF_BYTES

    long = _tampered(tmp_path / "long", {"title": "L" * 1_000_000})
    today = day(DAY2, tmp_path / "today2", since=long)
    c = today.brief.continuity
    assert c is not None and len(c.compared_with.title) == TITLE_CHARS and c.compared_with.title.endswith("…")
    for name in ("brief.json", "brief.md", "brief.html"):
        assert "L" * (TITLE_CHARS + 1) not in (today.out_dir / name).read_text(encoding="utf-8"), name


def test_a_deeply_nested_earlier_brief_is_one_warning(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "brief.json").write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    reporter = SilentReporter()
    assert day(DAY2, tmp_path / "today", reporter, since=earlier).brief.continuity is None
    (warning,) = reporter.warnings
    assert "is not a brief briefer can read (Invalid JSON: recursion limit exceeded" in warning
