"""What a daily user reads on stderr: skipped files named (or counted), an alias file inside the folder pointed
to its place, the alias file applied said in the closing line, and counts in the right grammar."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from briefer.cli import app
from briefer.plural import plural
from conftest import FIXTURES
from fake_openai import FakeOpenAI


def run(folder: Path, out: Path, *more: str) -> tuple[int, list[str]]:
    r = CliRunner().invoke(app, ["summarize", str(folder), "--offline", "--no-cache", "-o", str(out),
                                 "--date", "2026-11-22", "--no-html", *more])
    return r.exit_code, r.output.splitlines()


def test_a_few_skipped_files_are_named_one_line_each_and_an_alias_file_inside_is_pointed_out(
        fixture_copy: Path, tmp_path: Path) -> None:
    articles = fixture_copy / "articles"
    shutil.copy(fixture_copy / "aliases.toml", articles / "aliases.toml")
    (articles / "notes.docx").write_bytes(b"PK\x03\x04")
    code, lines = run(articles, tmp_path / "out")
    assert code == 0, lines
    closing = next(ln for ln in lines if ln.startswith("brief written to"))
    assert "2 skipped" in closing
    assert closing.endswith(f"alias file {(fixture_copy / 'aliases.toml').resolve()} applied")  # the one beside
    assert "briefer: skipped: aliases.toml: an alias file is not an article, and is read from beside the folder, " \
           "not inside it: move it next to the folder, or give --aliases" in lines
    assert [ln for ln in lines if ln.startswith("briefer: skipped: notes.docx: unsupported file type '.docx'")]


def test_many_skipped_files_are_counted(fixture_copy: Path, tmp_path: Path) -> None:
    for n in range(7):
        (fixture_copy / "articles" / f"scan-{n}.pdf").write_bytes(b"%PDF-1.4")
    code, lines = run(fixture_copy / "articles", tmp_path / "out")
    assert code == 0
    assert "briefer: skipped 7 files that are not articles (brief.md lists them)" in lines
    assert not [ln for ln in lines if ln.startswith("briefer: skipped: ")]


def test_the_closing_line_says_which_alias_file_was_applied(fixture_copy: Path, tmp_path: Path) -> None:
    code, lines = run(fixture_copy / "articles", tmp_path / "out")
    assert code == 0
    assert lines[0].endswith(f"; alias file {(fixture_copy / 'aliases.toml').resolve()} applied")
    assert lines[0].startswith(f"brief written to {tmp_path / 'out'}: 5 articles, 0 failed, 0 skipped; ")


def test_counts_of_one_are_singular(tmp_path: Path, reference_server: FakeOpenAI) -> None:
    assert (plural(1, "answer"), plural(2, "answer"), plural(0, "batch", "batches")) == ("1 answer", "2 answers",
                                                                                       "0 batches")
    one = tmp_path / "one"
    one.mkdir()
    first = sorted((FIXTURES / "articles").glob("*.txt"))[0]
    shutil.copy(first, one / first.name)
    r = CliRunner().invoke(app, ["summarize", str(one), "--base-url", reference_server.base_url, "--no-cache",
                                 "-o", str(tmp_path / "out"), "--date", "2026-11-22"], env={"OPENAI_API_KEY": "sk-x"})
    # The reference merge answer cites all five seed articles: kept in part (exit 3), which is not the point here.
    assert r.exit_code == 3, r.output
    assert f"brief written to {tmp_path / 'out'}: 1 article, 0 failed, 0 skipped; spent: 2 model calls " in r.output
    md = (tmp_path / "out" / "brief.md").read_text(encoding="utf-8").splitlines()[2]
    html = (tmp_path / "out" / "brief.html").read_text(encoding="utf-8")
    assert re.search(r" · 1 article from 1 named outlet · ", md), md
    assert re.search(r">1 article from 1 named outlet · ", html)
