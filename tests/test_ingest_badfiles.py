"""Whatever a user drops in the folder: each file is either read or listed as skipped with one clear line."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefer.ingest.cleaning import truncate
from briefer.ingest.folder import MAX_HTML_BYTES, MAX_JSON_BYTES, Folder, read_folder
from briefer.text.tokens import estimate_tokens

ARTICLE = "A headline\nThe first paragraph of the story, with a full sentence.\nA second paragraph, also complete.\n"
OTHER = "Another headline\nA different story, told in one sentence.\n"


def _skipped(folder: Folder) -> dict[str, str]:
    reasons = dict(folder.skipped)
    assert len(reasons) == len(folder.skipped), "one reason per path"
    return reasons


def _one_line(reason: str) -> bool:
    return "\n" not in reason and 0 < len(reason) < 300


def test_every_bad_file_gets_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\t\n\u00a0\n", encoding="utf-8")
    (tmp_path / "blank16.txt").write_bytes(" \n\n".encode("utf-16"))
    (tmp_path / "nul.txt").write_bytes(b"Headline\nBody\x00\x01\x02 sentence.\n")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "utf16-nobom.txt").write_bytes(ARTICLE.encode("utf-16-le"))
    (tmp_path / "chrome.txt").write_text("Home | News | Sport\nimage image\nCopyright © 2024 Example News\n"
                                         "Follow us\n", encoding="utf-8")
    (tmp_path / "headline.md").write_text("Only a headline\n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "README").write_text("no suffix", encoding="utf-8")
    folder = read_folder(tmp_path)
    assert [a.id for a in folder.articles] == ["good"]
    reasons = _skipped(folder)
    assert reasons == {
        "empty.txt": "empty file (0 bytes)",
        "blank.md": "empty file",
        "blank16.txt": "empty file",
        "nul.txt": "binary file (NUL byte at offset 13)",
        "image.txt": "binary file (looks like a PNG image)",
        "utf16-nobom.txt": "binary file (NUL byte at offset 1); if it is UTF-16 text, save it with a byte-order "
                           "mark or as UTF-8",
        "chrome.txt": "nothing but boilerplate: no article body after cleaning (3 lines of page chrome removed)",
        "headline.md": "no article body after cleaning: nothing but a headline",
        "notes.pdf": "unsupported file type '.pdf' (supported: .txt, .md, .html, .htm, .json, .jsonl)",
        "README": "unsupported file type '(none)' (supported: .txt, .md, .html, .htm, .json, .jsonl)",
    }
    assert all(_one_line(r) for r in reasons.values())


def _paragraphs(n_bytes: int) -> Iterator[bytes]:
    line = ("صدر بيان رسمي اليوم حول الاجتماع الذي عقد في العاصمة، وأكد المشاركون أهمية التعاون. "
            "The meeting ended with a joint statement.\n").encode()
    block = line * 1000
    written = 0
    while written < n_bytes:
        yield block
        written += len(block)


def test_a_50_mb_file_is_cut_at_a_paragraph_break_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    digest = hashlib.sha256()
    with big.open("wb") as f:
        f.write(b"Headline of a very long file\n")
        digest.update(b"Headline of a very long file\n")
        for block in _paragraphs(50 * 2**20):
            f.write(block)
            digest.update(block)
    size = big.stat().st_size
    assert size >= 50 * 2**20
    tracemalloc.start()
    try:
        folder = read_folder(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"peak {peak:,} bytes: the file was read whole"
    (a,) = folder.articles
    assert a.truncated
    assert len(a.raw_text) <= 200_000
    with big.open("rb") as f:
        head = f.read(len(a.raw_text.encode()) + 1).decode()
    assert head == a.raw_text + "\n"  # a prefix of the file, cut at a paragraph break
    assert a.content_sha256 == digest.hexdigest()  # of the whole file, hashed in chunks
    assert folder.notes == [("big.txt", f"truncated: kept the first {len(a.raw_text):,} characters (up to a paragraph "
                                        f"break) of a {size / 2**20:.1f} MB file; --max-chars is 200,000")]


def test_max_chars_truncates_on_a_paragraph_boundary(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    folder = read_folder(tmp_path, max_chars=80)
    (a,) = folder.articles
    assert a.truncated
    assert a.paragraphs == ("The first paragraph of the story, with a full sentence.",)
    kept = len("A headline\nThe first paragraph of the story, with a full sentence.")
    assert folder.notes == [("a.txt", f"truncated: kept the first {kept} characters (up to a paragraph break) of "
                                      f"{len(ARTICLE):,} characters; --max-chars is 80")]
    assert not read_folder(tmp_path).articles[0].truncated


def test_truncate_without_line_breaks_cuts_after_a_sentence() -> None:
    text = "One sentence here. Another one there. " * 10
    assert truncate(text, 50) == "One sentence here. Another one there."
    assert truncate("word " * 40, 22) == "word word word word"
    assert truncate("x" * 100, 10) == "x" * 10
    assert truncate("short", 10) == "short"


def test_truncating_a_feed_record_is_noted(tmp_path: Path) -> None:
    record = {"title": "T", "text": "First paragraph.\n" + "Second paragraph is long. " * 20}
    (tmp_path / "f.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    folder = read_folder(tmp_path, max_chars=100)
    (a,) = folder.articles
    assert a.truncated and a.paragraphs == ("First paragraph.",)
    assert folder.notes[0][0] == "f.jsonl (record 1)"


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as f:
        f.truncate(size)


def test_huge_html_and_json_are_refused_without_reading_them(tmp_path: Path, monkeypatch: Any) -> None:
    _sparse(tmp_path / "page.html", MAX_HTML_BYTES + 1)
    _sparse(tmp_path / "feed.json", 50 * 2**20)
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    reasons = _skipped(read_folder(tmp_path))
    assert reasons["page.html"] == "too large for an HTML page: 10.0 MB (limit 10.0 MB)"
    assert reasons["feed.json"] == (f"too large for a .json feed: 50.0 MB (limit {MAX_JSON_BYTES / 2**20:.1f} MB); "
                                    "split it, or write it as JSON Lines (.jsonl), which is read one record at a time")
    assert opened == []


def test_a_jsonl_line_too_long_is_refused_and_the_next_read(tmp_path: Path) -> None:
    long = json.dumps({"title": "Long", "text": "x " * 2_000_000})
    short = json.dumps({"title": "Short", "text": "A short body sentence."})
    (tmp_path / "f.jsonl").write_text(long + "\n" + short + "\n", encoding="utf-8")
    folder = read_folder(tmp_path, max_chars=1000)
    assert [a.id for a in folder.articles] == ["f.jsonl-2"]
    assert folder.skipped == [("f.jsonl", "record 1: line longer than 1,048,576 bytes")]


def test_unreadable_files(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    locked = tmp_path / "locked.txt"
    locked.write_text(OTHER, encoding="utf-8")
    locked.chmod(0)
    os.mkfifo(tmp_path / "pipe.txt")  # opening it would block forever
    (tmp_path / "folder.txt").mkdir()
    if os.access(locked, os.R_OK):  # root reads anything: make the permission error happen anyway
        real_open = Path.open

        def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self.name == "locked.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", deny)
    try:
        folder = read_folder(tmp_path)
    finally:
        locked.chmod(0o644)
    assert [a.id for a in folder.articles] == ["good"]
    assert _skipped(folder) == {
        "locked.txt": "unreadable: Permission denied",
        "pipe.txt": "not a regular file (a named pipe)",
        "folder.txt": "folder (nested folders are read only with --recursive)",
    }


def test_symbolic_links(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "gone.txt")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "story.txt").write_text(OTHER, encoding="utf-8")
    (tmp_path / "linked.txt").symlink_to(outside / "story.txt")
    (tmp_path / "linked-dir").symlink_to(outside)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.txt").write_text("Inner\nA story in a subfolder, linked from the top.\n",
                                                encoding="utf-8")
    (tmp_path / "inside.txt").symlink_to(Path("sub") / "inner.txt")  # a link that stays inside: read
    (tmp_path / "passwd.txt").symlink_to("/etc/passwd")
    folder = read_folder(tmp_path, recursive=True)
    assert [a.source_path for a in folder.articles] == ["good.txt", "inside.txt"]  # sub/inner.txt: same content
    reasons = _skipped(folder)
    assert reasons["broken.txt"] == f"broken symbolic link (its target '{tmp_path / 'gone.txt'}' does not exist)"
    assert reasons["linked-dir"] == (f"symbolic link leading out of the folder (to '{outside}'): not followed "
                                     "(--follow-links reads it)")
    assert reasons["linked.txt"].startswith("symbolic link leading out of the folder")
    assert reasons["passwd.txt"] == ("symbolic link leading out of the folder (to '/etc/passwd'): not followed "
                                     "(--follow-links reads it)")
    assert reasons["sub/inner.txt"] == "same content as inside.txt"
    followed = read_folder(tmp_path, recursive=True, follow_links=True)
    assert [a.source_path for a in followed.articles] == ["good.txt", "inside.txt", "linked.txt"]
    assert _skipped(followed)["linked-dir"] == "symbolic link to a folder (not followed)"


def _tree(root: Path) -> None:
    (root / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "a.txt").write_text(OTHER, encoding="utf-8")
    (root / "sub" / "deeper").mkdir()
    (root / "sub" / "deeper" / "b.md").write_text("Third headline\nA third story in one sentence.\n",
                                                  encoding="utf-8")
    (root / "sub" / ".git").mkdir()
    (root / "sub" / ".git" / "HEAD.txt").write_text("ref: refs/heads/main\nNot an article at all.\n",
                                                    encoding="utf-8")


def test_nested_folders_need_recursive(tmp_path: Path) -> None:
    _tree(tmp_path)
    folder = read_folder(tmp_path)
    assert [a.id for a in folder.articles] == ["a"]
    assert folder.skipped == [("sub", "folder (nested folders are read only with --recursive)")]


def test_recursive_walks_subfolders_with_unique_ids(tmp_path: Path) -> None:
    _tree(tmp_path)
    folder = read_folder(tmp_path, recursive=True)
    assert [(a.id, a.source_path) for a in folder.articles] == [
        ("a", "a.txt"), ("sub__a", "sub/a.txt"), ("sub__deeper__b.md", "sub/deeper/b.md")]
    assert folder.skipped == []  # .git is hidden


def test_hidden_files_and_folders_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(OTHER, encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.txt").write_text(OTHER, encoding="utf-8")
    for recursive in (False, True):
        folder = read_folder(tmp_path, recursive=recursive)
        assert [a.id for a in folder.articles] == ["good"] and folder.skipped == [] and folder.notes == []


def test_same_content_under_two_names_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")  # the same bytes
    (tmp_path / "c.md").write_bytes(ARTICLE.encode("utf-8-sig"))  # other bytes, the same text
    (tmp_path / "d.jsonl").write_text(json.dumps({"title": "A headline", "text": ARTICLE.split("\n", 1)[1]}) + "\n"
                                      + json.dumps({"title": "X", "text": "Fresh body."}) + "\n", encoding="utf-8")
    folder = read_folder(tmp_path)
    assert [a.id for a in folder.articles] == ["a", "d.jsonl-2"]
    assert folder.skipped == [("b.txt", "same content as a.txt"), ("c.md", "same content as a.txt"),
                              ("d.jsonl", "record 1: same content as a.txt")]


def test_ids_depend_on_the_path_alone(tmp_path: Path) -> None:
    names = {"a.md": ARTICLE, "a.txt": OTHER,
             "a-1.txt": "Feed-like name\nA story whose file name looks like a record id.\n",
             "a.jsonl": json.dumps({"title": "R", "text": "Record body."}) + "\n",
             "a-b.txt": "Dash\nA story with a dash in its name.\n",
             "a.md.txt": "Suffixed\nA story whose stem ends in a suffix.\n"}
    ids: dict[str, str] = {}
    for name, text in names.items():  # each file alone in the folder...
        alone = tmp_path / f"alone-{len(ids)}"
        alone.mkdir()
        (alone / name).write_text(text, encoding="utf-8")
        (article,) = read_folder(alone).articles
        ids[name] = article.id
    together = tmp_path / "together"  # ...has the id it has among all the others
    together.mkdir()
    for name, text in names.items():
        (together / name).write_text(text, encoding="utf-8")
    (together / "a b.md").write_text("Space\nA story with a space in its name.\n", encoding="utf-8")
    folder = read_folder(together)
    assert folder.skipped == []
    found = {a.source_path: a.id for a in folder.articles}
    assert {n: found[n] for n in names} == ids
    assert ids["a.txt"] == "a" and ids["a-b.txt"] == "a-b" and ids["a.md"] == "a.md" and ids["a.jsonl"] == "a.jsonl-1"
    assert len(set(found.values())) == len(found)  # no two files share an id
    assert found["a b.md"] != "a-b" and found["a.md.txt"] != "a.md"


@pytest.mark.parametrize("path", ["x" * 251 + ".txt", "خبر " * 50 + ".txt", "d" * 200 + "/" + "y" * 240 + ".md"])
def test_long_names_get_short_ids(tmp_path: Path, path: str) -> None:
    from briefer.ingest.ids import article_id

    assert len(article_id(path).encode()) <= 100
    assert article_id(path) != article_id(path[:-5] + "z" + path[-4:])  # the hash keeps long names apart


def test_token_estimates() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 100) == 100  # Latin: ~4 characters a token
    assert estimate_tokens("خبر" * 100) == 100  # Arabic: ~3
    assert estimate_tokens("香港" * 50) == 100  # Chinese: ~1 a character


def test_article_token_estimate_before_and_after_cleaning(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE + "aXA6IDJhMDI6NDc4MDphOjE0NTE6MDoxN2IzOjljNmY6MiA=\nCopyright © Site\n",
                                    encoding="utf-8")
    (a,) = read_folder(tmp_path).articles
    assert a.tokens.raw > a.tokens.clean > 0
    assert a.tokens.removed == a.tokens.raw - a.tokens.clean
    assert a.tokens.clean == estimate_tokens("".join((a.title, *a.paragraphs)))


def test_max_chars_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_chars"):
        read_folder(tmp_path, max_chars=0)
