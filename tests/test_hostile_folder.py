"""The hostile folder: every input case of issue 10 §2 beside the seed articles, run end to end.

`tests/data/hostile/` holds the cases that can live in git (a feed with a 5,000-digit number, a feed whose date
field carries an instruction); `hostile()` adds at test time those that cannot: names that are not UTF-8 or
hold a line break, a 250-byte Arabic name, a feed nested 100,000 deep, a tree 1,200 folders deep, a named pipe,
links out of the folder and a broken one, a 2.4 MB headline, an empty file, and the five seed articles.
A first run answers the new articles from the test's model into a cache; the second is offline: exit 0, every
file summarised or skipped with a one-line reason, no traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import echo_model
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run
from conftest import FIXTURES, ROOT, SEED_IDS, remove_tree
from fake_openai import FakeOpenAI

DATA = ROOT / "tests" / "data" / "hostile"
ARABIC = "خبر عن الكهرباء\nأعلنت الحكومة اليوم عن خطة جديدة لإصلاح قطاع الكهرباء في البلاد.\n"


def hostile(folder: Path) -> None:
    shutil.copytree(DATA, folder)
    for seed in (FIXTURES / "articles").iterdir():
        shutil.copy(seed, folder / seed.name)
    raw = os.fsencode(folder)
    for name, data in ((b"r\xe9sum\xe9.pdf", b"%PDF-1.4"),  # Latin-1
                       ("خبر".encode("cp1256") + b".txt", "خبر بترميز قديم\nاسم الملف بترميز ويندوز 1256.\n".encode()),
                       (b"two\nlines.txt", "خبر في سطرين\nاسم الملف فيه سطر جديد.\n".encode())):
        with open(raw + b"/" + name, "wb") as f:
            f.write(data)
    (folder / ("عاجل " * 26 + "الكهرباء.txt")).write_text(ARABIC, encoding="utf-8")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (folder / "headline.json").write_text(json.dumps([{"title": "عنوان " * 400_000, "text": "نص لخبر بعنوان طويل."}],
                                                     ensure_ascii=False), encoding="utf-8")
    deep = folder / "tree"
    for _ in range(1200):
        deep.mkdir()
        deep = deep / "d"
    (deep.parent / "bottom.txt").write_text("خبر في قاع الشجرة\nهذا الخبر في مجلد عمقه ألف ومئتان.\n", encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    outside = folder.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("سر\nنص خارج المجلد لا يجوز إرساله.\n", encoding="utf-8")
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "outside-dir").symlink_to(outside)
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    (folder / "empty.md").write_bytes(b"")


def _visible(folder: Path) -> list[str]:
    """Every file-like entry a user would expect to be accounted for, as briefer shows its path."""
    found = []
    stack = [b""]  # os.walk recurses (Python 3.11): a stack instead, for the deep tree
    while stack:
        rel_dir = stack.pop()
        for entry in os.scandir(os.fsencode(folder) + (b"/" + rel_dir if rel_dir else b"")):
            if entry.name.startswith(b"."):
                continue
            rel = rel_dir + b"/" + entry.name if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                stack.append(rel)
            else:
                found.append(rel.decode("utf-8", "backslashreplace").replace("\n", "\\n"))
    return sorted(found)


def test_the_hostile_folder_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    hostile(folder)
    try:
        _end_to_end(folder, tmp_path)
    finally:
        remove_tree(folder / "tree")


def _end_to_end(folder: Path, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    shutil.copytree(FIXTURES / "recordings", recordings)
    cache = tmp_path / "cache"
    with FakeOpenAI(echo_model.respond) as server:  # the seeds come from their recordings, the rest from the model
        live = RunConfig(folder=folder, out_dir=tmp_path / "live", date="2026-11-22", cache_dir=cache, recursive=True,
                         recordings_dir=recordings, endpoint=EndpointConfig(model="gpt-4o-mini",
                                                                            base_url=server.base_url))
        assert asyncio.run(run(live)).exit_code == 0
        sent = "\n".join(json.dumps(r, ensure_ascii=False) for r in server.requests)
    assert "نص خارج المجلد" not in sent and "root:" not in sent  # nothing behind a link out of the folder
    assert max(len(json.dumps(r, ensure_ascii=False)) for r in server.requests) < 200_000  # the headline bounded

    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "briefer", "summarize", str(folder), "--offline", "--recursive",
                        "--out", str(out), "--recordings", str(recordings), "--cache-dir", str(cache),
                        "--date", "2026-11-22"], capture_output=True, text=True, encoding="utf-8", timeout=300,
                       env={k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "model calls (0 HTTP requests)" in r.stderr
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    summarised = {a["source_path"] for a in (json.loads(p.read_text(encoding="utf-8"))
                                             for p in (out / "articles").iterdir())}
    skipped: dict[str, list[str]] = {}
    for s in brief["skipped"]:
        skipped.setdefault(s["source_path"], []).append(s["reason"])
    assert brief["failures"] == []
    for name in _visible(folder):
        assert name in summarised or name in skipped, f"{name} was neither summarised nor skipped"
    assert {f"{i}.txt" for i in SEED_IDS} <= summarised
    assert {"\\xce\\xc8\\xd1.txt", "two\\nlines.txt", "tree/" + "d/" * 1199 + "bottom.txt", "headline.json",
            "injected-date.jsonl", "عاجل " * 26 + "الكهرباء.txt"} <= summarised
    assert all("\n" not in reason and len(reason) < 400 for reasons in skipped.values() for reason in reasons)
    assert skipped["pipe.txt"] == ["not a regular file (a named pipe)"]
    assert skipped["deep.json"] == ["invalid JSON: nested too deeply to read"]
    assert skipped["big-number.json"][0].startswith("invalid JSON: Exceeds the limit")
    assert skipped["injected-date.jsonl"] == ["record 2: no text (looked for text, content, body, article, ... fields)"]
    for link in ("passwd.txt", "secret.txt", "outside-dir"):
        assert skipped[link][0].startswith("symbolic link leading out of the folder"), link
    assert skipped["r\\xe9sum\\xe9.pdf"][0].startswith("unsupported file type '.pdf'")
