"""Formats: HTML pages (main text and metadata), JSON and JSON Lines feeds, and three real samples."""

from __future__ import annotations

import hashlib
import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from briefer.ingest.folder import Folder, read_folder
from briefer.ingest.formats import html_fragment_text

REAL = Path(__file__).parent / "data" / "real-samples"
AR_HTML = "ar_cnnarabic_2013-08_syria-rebels-seize-rocket-depots.html"
FA_TXT = "fa_mashregh_2023-12_kanaani-condemns-us-uk-sanctions.txt"
ZH_TXT = "zh_bbcchinese_2012-12-10_hk-cy-leung-apology.txt"

BODY = [
    "وصل وزير الخارجية إلى العاصمة العراقية بغداد صباح الثلاثاء في زيارة رسمية تستمر يومين، "
    "يلتقي خلالها كبار المسؤولين لبحث العلاقات الثنائية.",
    "وقال المتحدث باسم الوزارة إن الزيارة تهدف إلى تعزيز التعاون الاقتصادي والأمني بين البلدين، "
    "ومناقشة ملفات المياه والطاقة والحدود.",
    "وأضاف أن الجانبين سيوقعان عدة مذكرات تفاهم في مجالات التجارة والنقل والتعليم قبل نهاية الزيارة.",
]
PAGE = """<!DOCTYPE html>
<html lang="ar">
<head>
<meta charset="{charset}">
<title>وزير الخارجية يزور بغداد | أخبار اليوم</title>
<meta property="og:title" content="وزير الخارجية يزور بغداد">
<meta property="og:site_name" content="أخبار اليوم">
<meta property="article:published_time" content="2024-03-05T10:30:00+03:00">
<link rel="canonical" href="https://news.example.com/2024/03/05/visit">
<script>var tracking = "SCRIPT_IN_HEAD"; window.dataLayer = [];</script>
<style>.menu {{ color: red; }} STYLE_TEXT</style>
</head>
<body>
<nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/sport">رياضة NAV_LINK</a></li></ul></nav>
<main><article>
<h1>وزير الخارجية يزور بغداد</h1>
{paragraphs}
</article></main>
<aside><h3>الأكثر قراءة</h3><ul><li><a href="/a">خبر آخر SIDEBAR_LINK</a></li></ul></aside>
<footer><p>جميع الحقوق محفوظة © 2024 أخبار اليوم FOOTER_TEXT</p></footer>
<script>document.write("SCRIPT_IN_BODY");</script>
</body>
</html>
"""
CHROME = ("SCRIPT_IN_HEAD", "STYLE_TEXT", "NAV_LINK", "SIDEBAR_LINK", "FOOTER_TEXT", "SCRIPT_IN_BODY", "dataLayer")


def _page(charset: str = "utf-8") -> str:
    return PAGE.format(charset=charset, paragraphs="\n".join(f"<p>{p}</p>" for p in BODY))


def _read(tmp_path: Path, files: dict[str, bytes | str]) -> Folder:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, content in files.items():
        path = folder / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return read_folder(folder)


# ---------------------------------------------------------------- HTML


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    folder = _read(tmp_path, {"visit.html": _page()})
    assert not folder.skipped
    (a,) = folder.articles
    assert a.id == "visit.html"
    assert a.title == "وزير الخارجية يزور بغداد"
    assert list(a.paragraphs) == BODY
    assert a.dateline == "2024-03-05"  # from the page's metadata, so the model sees it
    assert a.site == "أخبار اليوم"
    assert a.url == "https://news.example.com/2024/03/05/visit"
    assert not any(chrome in a.clean_text for chrome in CHROME)
    assert a.raw_text == _page()  # the page as read, for inspection
    assert a.content_sha256 == hashlib.sha256(_page().encode("utf-8")).hexdigest()
    assert a.cleaning.removed_chars > 500 and a.tokens.raw > a.tokens.clean


def test_html_in_a_legacy_code_page(tmp_path: Path) -> None:
    folder = _read(tmp_path, {"visit.htm": _page("windows-1256").encode("cp1256")})
    (a,) = folder.articles
    assert list(a.paragraphs) == BODY and a.encoding == "cp1256"


def test_html_without_metadata_takes_the_first_line_as_headline(tmp_path: Path) -> None:
    page = "<html><body><h1>Headline here</h1>" + "".join(f"<p>{p}</p>" for p in BODY) + "</body></html>"
    (a,) = _read(tmp_path, {"bare.html": page}).articles
    assert a.title == "Headline here" and list(a.paragraphs) == BODY and a.dateline is None


@pytest.mark.parametrize(("page", "reason"), [
    ("<html><head><script>var x = 1;</script></head><body> </body></html>",
     "no article text in the HTML page (only markup, scripts and navigation)"),
    ("<html><body><nav><a href='/'>Home</a> | <a href='/news'>News</a></nav><footer>© 2024 Site</footer></body></html>",
     "no article body after cleaning: nothing but a headline"),
])
def test_html_with_nothing_but_chrome_is_skipped(tmp_path: Path, page: str, reason: str) -> None:
    folder = _read(tmp_path, {"empty.html": page})
    assert not folder.articles
    assert dict(folder.skipped)["empty.html"] == reason


def test_html_fragment_text() -> None:
    text = html_fragment_text("<p>One &amp; two</p><script>x()</script><p>Three<br>four</p>")
    assert [line for line in text.split("\n") if line] == ["One & two", "Three", "four"]


# ---------------------------------------------------------------- feeds


FEED = [
    {"title": "First headline", "text": "The first story has a body.\nAnd a second paragraph.",
     "url": "https://a.example/1", "date": "2024-03-05", "source": {"name": "Agency A"}},
    {"headline": "Second headline", "body": "The second story, under aliases.", "link": "https://a.example/2",
     "pubDate": "Tue, 05 Mar 2024 10:30:00 +0300"},
    {"title": {"rendered": "Third &amp; last"}, "content": {"rendered": "<p>Third body.</p><p>Its end.</p>"},
     "published_at": 1709625600},
    {"title": "No text here", "url": "https://a.example/4"},
    ["not", "an", "object"],
]


def test_json_feed_one_article_per_record(tmp_path: Path) -> None:
    folder = _read(tmp_path, {"wire.json": json.dumps(FEED, ensure_ascii=False)})
    assert [a.id for a in folder.articles] == ["wire.json-1", "wire.json-2", "wire.json-3"]
    first, second, third = folder.articles
    assert (first.title, first.paragraphs) == ("First headline", ("The first story has a body.",
                                                                  "And a second paragraph."))
    assert (first.url, first.dateline, first.site, first.record) == ("https://a.example/1", "2024-03-05",
                                                                     "Agency A", 1)
    assert (second.title, second.paragraphs, second.url) == ("Second headline", ("The second story, under aliases.",),
                                                             "https://a.example/2")
    assert second.dateline == "Tue, 05 Mar 2024 10:30:00 +0300"  # as found
    assert (third.title, third.paragraphs, third.dateline) == ("Third & last", ("Third body.", "Its end."),
                                                               "1709625600")
    assert third.raw_text == "Third &amp; last\n<p>Third body.</p><p>Its end.</p>"  # as the feed gives it
    assert all(a.source_path == "wire.json" for a in folder.articles)
    assert len({a.content_sha256 for a in folder.articles}) == 3
    assert folder.skipped == [("wire.json", "record 4: no text (looked for text, content, body, article, ... fields)"),
                              ("wire.json", "record 5: not an object but a list")]


def test_json_feed_object_with_items(tmp_path: Path) -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "A feed",
            "items": [{"id": "x1", "url": "https://b.example/x1", "title": "Item headline",
                       "content_text": "Item body sentence.", "date_published": "2024-03-06T08:00:00Z"}]}
    (a,) = _read(tmp_path, {"feed.json": json.dumps(feed)}).articles
    assert (a.id, a.title, a.paragraphs, a.dateline) == ("feed.json-1", "Item headline", ("Item body sentence.",),
                                                         "2024-03-06T08:00:00Z")


def test_jsonl_feed_streams_records_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"title": "One", "text": "Body one."}, ensure_ascii=False).encode(),
             b"",
             json.dumps({"title": "Two", "content": "Body two."}).encode(),
             b'{"title": "broken", "text": ',
             b'{"title": "Latin-1", "text": "caf\xe9."}',
             json.dumps({"title": "خبر", "text": "نص الخبر."}, ensure_ascii=False).encode()]
    data = b"\n".join(lines) + b"\n"
    folder = _read(tmp_path, {"stream.jsonl": data})
    assert [(a.id, a.title) for a in folder.articles] == [("stream.jsonl-1", "One"), ("stream.jsonl-2", "Two"),
                                                          ("stream.jsonl-5", "خبر")]
    assert folder.articles[0].content_sha256 == hashlib.sha256(lines[0]).hexdigest()
    bad_offset = data.index(b"\xe9")
    assert folder.skipped == [
        ("stream.jsonl", "record 3: invalid JSON (column 29: Expecting value)"),
        ("stream.jsonl", f"record 4: not valid UTF-8 (byte {bad_offset}: b'\\xe9')"),
    ]


def test_feed_ids_are_stable_across_runs(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "wire.json").write_text(json.dumps(FEED), encoding="utf-8")
    runs = [read_folder(tmp_path / "in") for _ in range(2)]
    assert [a.id for a in runs[0].articles] == [a.id for a in runs[1].articles]
    assert runs[0].articles == runs[1].articles


@pytest.mark.parametrize(("content", "reason"), [
    ('{"title": "x", ', "invalid JSON (line 1, column 16: Expecting property name enclosed in double quotes)"),
    ('{"meta": 1}', "no article records in the JSON"),
    ("[]", "no records in the feed"),
])
def test_json_that_holds_no_articles_is_skipped(tmp_path: Path, content: str, reason: str) -> None:
    folder = _read(tmp_path, {"x.json": content})
    assert dict(folder.skipped)["x.json"].startswith(reason)


# ---------------------------------------------------------------- real samples


@pytest.fixture
def real(tmp_path: Path) -> Folder:
    folder = tmp_path / "real"
    folder.mkdir()
    for name in (AR_HTML, FA_TXT, ZH_TXT):
        shutil.copyfile(REAL / name, folder / name)
    return read_folder(folder)


def test_real_samples_are_all_read(real: Folder) -> None:
    assert not real.skipped and not real.notes
    assert [a.source_path for a in real.articles] == [AR_HTML, FA_TXT, ZH_TXT]


def test_real_arabic_html_page_body_without_scripts_or_navigation(real: Folder) -> None:
    a = real.articles[0]
    assert a.title == "معارضون يسيطرون على مخازن للصواريخ بريف دمشق"
    assert a.site == "CNNArabic"
    assert a.url == "http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html"
    assert a.paragraphs[0].startswith("دمشق، سوريا (CNN) -- أكدت جهات سورية معارضة أن فصائل مسلحة")
    body = a.clean_text
    # A sentence whose words sit in three elements (two of them links) comes out whole.
    assert ("سيطروا على ثلاثة مستودعات للذخيرة بالقرب من بلدة قلدون في منطقة القلمون بريف دمشق.") in body
    assert "وشدد الائتلاف على \"ضرورة الابتعاد عن الأعمال الاستفزازية" in body
    for chrome in ("cnnDocDomain", "document.domain", "swfobject", "الأكثر تصفحاً", "القبض على شاب تحرش بطفلة",
                   "CNN en Español", "Cable News Network", "خدمة آخر خبر للرسائل النصية", "شروط الخدمة", "\ufeff"):
        assert chrome not in body, chrome
    assert a.cleaning.raw_chars > 10 * a.cleaning.clean_chars


def test_real_persian_text_keeps_zwnj_as_written(real: Folder) -> None:
    a = real.articles[1]
    source = (REAL / FA_TXT).read_text(encoding="utf-8")
    lines = [ln.strip() for ln in source.split("\n") if ln.strip()]
    assert [a.title, *a.paragraphs] == lines  # as written, nothing removed
    assert a.clean_text.count("\u200c") == source.count("\u200c") > 0
    assert "جنبش\u200cهای" in a.title and "کینه\u200cورزانه" in a.paragraphs[0]
    assert "ی" in a.clean_text and "۶" in a.clean_text  # Persian yeh and digits, not folded to Arabic


def test_real_chinese_text_every_paragraph_kept(real: Folder) -> None:
    a = real.articles[2]
    source = (REAL / ZH_TXT).read_text(encoding="utf-8")
    lines = [ln.strip() for ln in source.split("\n") if ln.strip()]
    assert [a.title, *a.paragraphs] == lines  # paragraphs ending in "。" are body, not chrome
    assert a.paragraphs[-1] == "民主党此前计划在星期三（11日）对梁振英提出不信任动议。"
    assert "（僭建）" in a.title  # full-width punctuation as written
    assert unicodedata.normalize("NFKC", a.clean_text) != a.clean_text  # so no NFKC was applied
    assert "\x93郑重道歉\x94" in a.paragraphs  # even the scraper's stray C1 quote characters stay as written
    assert a.tokens.clean >= len("".join(lines)) * 0.9  # about one token per Chinese character
