"""Whatever a user drops in the folder: every file is either summarised or listed as skipped with a reason."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import echo_model
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run
from conftest import ROOT
from fake_openai import FakeOpenAI

REAL = ROOT / "tests" / "data" / "real-samples"
ARABIC = ("أعلنت الحكومة العراقية اليوم عن خطة جديدة لإصلاح قطاع الكهرباء في البلاد.\n"
          "وقال المتحدث إن الخطة تبدأ الشهر المقبل.")


def _messy(folder: Path) -> None:
    folder.mkdir()
    for p in REAL.iterdir():
        if p.name != "README.md":
            shutil.copy(p, folder / p.name)
    (folder / "utf8.txt").write_text(f"خطة الكهرباء\n{ARABIC}\n", encoding="utf-8")
    (folder / "bom.md").write_bytes("\ufeffخطة الكهرباء مع BOM\n".encode() + ARABIC.encode())
    (folder / "utf16.txt").write_text(f"خطة الكهرباء UTF-16\n{ARABIC}\n", encoding="utf-16")
    (folder / "cp1256.txt").write_bytes(f"خطة الكهرباء بترميز ويندوز\n{ARABIC}\n".encode("cp1256"))
    (folder / "cp1251.txt").write_bytes("Новый план энергетики\nПравительство объявило о новом плане реформы "
                                        "энергетики страны. Он начнётся в следующем месяце.\n".encode("cp1251"))
    (folder / "page.html").write_text(
        "<html><head><title>خطة الكهرباء</title><meta property='og:site_name' content='Example News'>"
        "<meta name='date' content='2024-03-05'></head><body><nav>الرئيسية | أخبار</nav><article><h1>خطة "
        f"الكهرباء في صفحة ويب</h1><p>{ARABIC.splitlines()[0]}</p><p>{ARABIC.splitlines()[1]}</p></article>"
        "<script>var x = 1;</script></body></html>", encoding="utf-8")
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"title": "خبر أول", "text": ARABIC, "url": "https://example.org/1", "date": "2024-03-05"},
        {"title": "خبر ثان", "text": ARABIC.replace("الكهرباء", "المياه"), "url": "https://example.org/2"},
    ]) + "\n", encoding="utf-8")
    (folder / "duplicate.txt").write_bytes((folder / "utf8.txt").read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 50)
    (folder / "bad-utf8.txt").write_bytes("خبر\n".encode() + b"\xff\xfe\xfa" + "نص".encode())
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "broken-link.txt").symlink_to(folder / "missing.txt")
    (folder / ".hidden.txt").write_text("x", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text(f"خبر في مجلد\n{ARABIC}\n", encoding="utf-8")


def test_every_file_is_summarised_or_skipped_with_a_reason(tmp_path: Path) -> None:
    folder = tmp_path / "today"
    _messy(folder)
    # The same text in every encoding: each one is to be read and summarised, so syndicated-copy grouping (which
    # would ask once for all of them, tests/test_syndicated.py) is off here.
    with FakeOpenAI(echo_model.respond) as server:
        live = RunConfig(folder=folder, out_dir=tmp_path / "live", date="2026-11-22", cache_dir=None, record=True,
                         recordings_dir=tmp_path / "rec", recursive=True, copy_threshold=0,
                         endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
        assert asyncio.run(run(live)).exit_code == 0
    # Then offline, from what was recorded: no network at all.
    result = asyncio.run(run(RunConfig(folder=folder, out_dir=tmp_path / "out", date="2026-11-22", offline=True,
                                       recordings_dir=tmp_path / "rec", recursive=True, copy_threshold=0)))
    assert result.exit_code == 0 and result.report.spent.answers == 0
    brief = result.brief
    summarised = {a.id for a in brief.articles}
    sources = {s.source_path for s in result.summaries}
    skipped = {s.source_path: s.reason for s in brief.skipped}

    visible = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if not p.name.startswith(".") and (p.is_file() or p.is_symlink()))
    for name in visible:
        in_sources = any(src == name or src.startswith(name + "#") for src in sources)
        assert in_sources or name in skipped, f"{name} was neither summarised nor skipped"
        assert not (in_sources and name in skipped), name
    assert {"empty.txt", "blank.md", "binary.txt", "bad-utf8.txt", "photo.jpg", "broken-link.txt",
            "utf8.txt"} <= set(skipped)
    assert skipped["utf8.txt"] == "same content as duplicate.txt"  # summarised once, both listed
    assert "byte" in skipped["bad-utf8.txt"]  # invalid bytes are reported with their offsets
    assert len(summarised) == len(result.summaries) == 12  # 3 real pages, 5 text files, html, 2 records, nested

    by_path = {s.source_path: s for s in result.summaries}
    persian = next(s for p, s in by_path.items() if p.startswith("fa_"))
    assert any("\u200c" in p for p in persian.paragraphs_original)  # ZWNJ kept as written
    html = next(s for p, s in by_path.items() if p.startswith("ar_cnnarabic"))
    assert not any("<script" in p or "function(" in p for p in html.paragraphs_original)
    assert any("cp1256" in n.note or "windows-1256" in n.note for n in brief.notes)
    assert os.path.exists(tmp_path / "out" / "brief.md")
