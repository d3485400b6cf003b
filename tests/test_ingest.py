"""Cleaning on every seed article: the noise goes, every body line stays, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from briefer.errors import InputError
from briefer.ingest.folder import article_id, clean, read_folder
from conftest import FIXTURES, SEED_IDS

ARTICLES = FIXTURES / "articles"

# The scraping noise in each seed, line by line, as a person reading the files identifies it.
NOISE = {
    "000_6f0ae3a4b7243325": [
        "aXA6IDJhMDI6NDc4MDphOjE0NTE6MDoxN2IzOjljNmY6MiA=",  # base64 tracking line
        "جزيرة ام اند امز",  # site footer
    ],
    "001_60e5ac162c7950a1": [],
    "002_114e8c00c4a8dde7": [
        "عقب الإتفاق الأمريكي العراقي قائد “فيلق القدس”الإيراني يزور العراق والرسائل متعددة",  # headline repeated...
        "عقب الإتفاق الأمريكي العراقي قائد “فيلق القدس”الإيراني يزور العراق والرسائل متعددة",
        "عقب الإتفاق الأمريكي العراقي قائد “فيلق القدس”الإيراني يزور العراق والرسائل متعددة",  # ...four times in all
        "أخبار عسكرية",  # category label at the end
    ],
    "003_765204c47648eeb1": [
        "اقرأ أيضًا: أمريكا “لم تعد مهتمة” بالوجود في سوريا والعراق",  # related-article link
        "اذا كنت تعتقد/تعتقدين أن المقال يحوي معلومات خاطئة أو لديك تفاصيل إضافية أرسل/أرسلي تصحيحًا",
        "إذا كنت تعتقد/تعتقدين أن المقال ينتهك أيًا من المبادئ الأخلاقية أو المعايير المهنية قدم/قدمي شكوى",
        "-",
        "تابعنا على :",
    ],
    "004_6e0e75a60da96bca": [
        "تقارير | \xa0 12:13 - 18/02/2024",  # category label glued to the date line
        "اخبار ذات الصلة",  # the next page's chrome from here on
        "image image image",
        "image",
        "الرئيسية من نحن الخدمات ارشیف الموسوعة",
        "تنزيل التطبيق",
        "image image",
        "تابعونا على",
        "الأشتراك في القائمة البريدية",
        "Copyright © 2018 Mawazin News Developed by Avesta Group",
        "image",
        "اللائحة",
        "الأقسام",
    ],
}


def _lines(article: str) -> list[str]:
    text = (ARTICLES / f"{article}.txt").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


@pytest.mark.parametrize("seed", SEED_IDS)
def test_cleaning_removes_exactly_the_noise(seed: str) -> None:
    cleaned = clean((ARTICLES / f"{seed}.txt").read_text(encoding="utf-8"))
    assert sorted(cleaned.removed) == sorted(line.strip() for line in NOISE[seed])


@pytest.mark.parametrize("seed", SEED_IDS)
def test_every_body_line_survives_as_written(seed: str) -> None:
    lines = _lines(seed)
    cleaned = clean((ARTICLES / f"{seed}.txt").read_text(encoding="utf-8"))
    noise = [n.strip() for n in NOISE[seed]]
    body = [ln for ln in lines[1:] if ln not in noise]
    assert cleaned.title == lines[0]
    assert list(cleaned.paragraphs) == body  # every sentence, in order, byte for byte


def test_dateline_is_kept_as_metadata() -> None:
    cleaned = clean((ARTICLES / "004_6e0e75a60da96bca.txt").read_text(encoding="utf-8"))
    assert cleaned.dateline == "12:13 - 18/02/2024"


def test_cleaning_figures_are_recorded() -> None:
    folder = read_folder(ARTICLES)
    by_id = {a.id: a for a in folder.articles}
    stats = by_id["004_6e0e75a60da96bca"].cleaning
    assert stats.removed_lines == len(NOISE["004_6e0e75a60da96bca"])
    assert stats.removed_chars == stats.raw_chars - stats.clean_chars > 200
    assert by_id["001_60e5ac162c7950a1"].cleaning.removed_chars == 0


def test_stored_text_is_not_normalised() -> None:
    folder = read_folder(ARTICLES)
    a = next(a for a in folder.articles if a.id.startswith("002"))
    assert "قآاني" in a.clean_text and "قاآني" in a.clean_text  # both spellings kept as written


def test_folder_lists_skipped_files_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Headline\nBody sentence one.\n", encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    folder = read_folder(tmp_path)
    assert [a.id for a in folder.articles] == ["a"]
    reasons = dict(folder.skipped)
    assert set(reasons) == {"b.pdf", "empty.md", "latin1.txt", "sub"}
    assert "unsupported file type '.pdf'" in reasons["b.pdf"]
    assert reasons["empty.md"] == "empty file"
    assert "not valid UTF-8 (byte 3" in reasons["latin1.txt"]


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        read_folder(tmp_path / "nope")


def test_article_ids_are_stable_and_safe() -> None:
    assert article_id(Path("000_6f0ae3a4b7243325.txt")) == "000_6f0ae3a4b7243325"  # the fixtures' ids stay
    assert article_id("خبر.txt") == "خبر"
    assert article_id("sub/a.txt") == "sub__a"
    assert article_id("visit.html") == "visit.html"
    hashed = article_id("خبر عاجل.txt")
    assert re.fullmatch(r"خبر-عاجل\.txt-[0-9a-f]{10}", hashed)
    assert article_id("a b/c?.md").startswith("a-b__c-.md-")
