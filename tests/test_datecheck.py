"""Dates checked against the words they rest on (issue 11 §1): briefer, not the model, decides how
precise a date is and what it rests on."""

from __future__ import annotations

from typing import Any

import pytest

from briefer.brief.timeline import build_timeline
from briefer.extract.article import ground
from briefer.extract.datecheck import check_event_date, check_published
from briefer.ingest.folder import Article
from briefer.models import ArticleExtraction, Brief
from briefer.render.evidence import evidence_markdown
from briefer.render.markdown import according, brief_markdown, timeline_line
from test_merge import summary


def checked(claimed: str | None, basis: str | None, quote: str, reference: str | None,
            language: str = "ar", found: bool = True) -> tuple[Any, ...]:
    c = check_event_date(claimed, basis, quote, found, reference, language)  # type: ignore[arg-type]
    return c.date, c.basis, c.as_given


def test_a_date_written_in_the_quote_is_stated() -> None:
    assert checked("2024-01-29", "stated", "يوم 29 كانون الثاني 2024", "2024-02-18") == ("2024-01-29", "stated", None)
    assert checked("2024-02-12", "stated", "في 12 فيفري 2024", None) == ("2024-02-12", "stated", None)  # Maghrebi
    assert checked("2026", "stated", "نهاية عام 2026", "2024-09") == ("2026", "stated", None)


def test_a_date_more_precise_than_its_quote_is_cut_back_and_the_models_kept() -> None:
    # Article 000: «مساء الإثنين» against a publication date known only as "2024-09".
    date, basis, given = checked("2024-09-16", "computed", "وصل مساء الإثنين إلى بغداد", "2024-09")
    assert (date, basis, given) == ("2024", "computed", "2024-09-16")
    c = check_event_date("2024-09-16", "computed", "مساء الإثنين", True, "2024-09", "ar")
    assert c.note == "cut back from 2024-09-16: the quote, with the publication date, 2024-09, supports only 2024"
    # A stated day where the quote writes only the month.
    assert checked("2025-09-01", "stated", "بحلول سبتمبر 2025", "2024-08") == ("2025-09", "stated", "2025-09-01")


def test_computed_dates_are_recomputed_by_briefer() -> None:
    # Against a full publication date «الأربعاء الماضي» is one day: the model's is kept when right...
    assert checked("2024-09-11", "computed", "الأربعاء الماضي", "2024-09-18") == ("2024-09-11", "computed", None)
    # ...and replaced when wrong, the model's kept beside it.
    date, basis, given = checked("2024-09-04", "computed", "الأربعاء الماضي", "2024-09-18")
    assert (date, basis, given) == ("2024-09-11", "computed", "2024-09-04")
    assert checked("2020", "computed", "four years ago", "2024-02-18", "en") == ("2020", "computed", None)
    assert checked("2024-09-15", "computed", "دوشنبه گذشته", "2024-09-18", "fa")[:2] == ("2024-09-16", "computed")


def test_the_model_calling_a_date_stated_does_not_make_it_so() -> None:
    date, basis, given = checked("2021-07-26", "stated", "عقب انتهاء الجولة الرابعة", "2021-07")
    assert (date, basis, given) == ("2021-07-26", "outside", None)
    c = check_event_date("2021-07-26", "stated", "عقب انتهاء الجولة الرابعة", True, "2021-07", "ar")
    assert c.note and "from outside the article" in c.note


def test_outside_dates_are_allowed_and_stay_outside() -> None:
    assert checked("2024-01-28", "outside", "الهجوم في الأردن", "2024-02-18") == ("2024-01-28", "outside", None)
    # Unless the quote does give the date as claimed.
    assert checked("2024-02-06", "outside", "في السادس من شباط", "2024-02-18") == ("2024-02-06", "computed", None)


def test_a_date_whose_quote_is_not_in_the_article_is_not_trusted() -> None:
    c = check_event_date("2024-09-27", "stated", "27 سبتمبر 2024", False, "2024-09", "ar")
    assert (c.date, c.basis) == ("2024-09-27", "outside") and c.note and "not found" in c.note
    assert checked(None, None, "q", "2024-09") == (None, None, None)


@pytest.mark.parametrize(("published", "basis", "evidence", "found", "dateline", "expected"), [
    ("2024-02-18", "explicit", "12:13 - 18/02/2024", True, None, ("2024-02-18", "explicit", None)),
    ("2024-02-18", "explicit", None, False, "12:13 - 18/02/2024", ("2024-02-18", "explicit", None)),
    ("2024-02-18", "explicit", "نشر في فبراير 2024", True, None, ("2024-02", "explicit", "2024-02-18")),
    ("2024-09-18", "explicit", "الأربعاء", True, None, ("2024-09-18", "inferred", None)),
    ("2024-09-18", "explicit", "18/09/2024", False, None, ("2024-09-18", "inferred", None)),
    ("2024-09", "inferred", "27 من سبتمبر الجاري", True, None, ("2024-09", "inferred", None)),
])
def test_the_publication_date_follows_the_same_rule(published: str, basis: str, evidence: str | None, found: bool,
                                                     dateline: str | None, expected: tuple[Any, ...]) -> None:
    c = check_published(published, basis, evidence, found, dateline, "ar")
    assert (c.date, c.basis, c.as_given) == expected
    assert (c.note is None) == (expected[1:] == (basis, None))


def ev(date: str | None, text: str, quote: str, basis: str | None = "stated", by: str | None = None,
       anonymous: bool = False) -> dict[str, Any]:
    return {"date": date, "description_en": text, "evidence_quote": quote, "date_basis": basis,
            "attributed_to": by, "single_anonymous_source": anonymous}


def test_ground_checks_every_events_quote_and_date() -> None:
    text = "q وصل قاآني مساء الإثنين إلى بغداد. وسيعلن الاتفاق يوم 27 سبتمبر 2024."
    s = summary("a", published="2024-09", text=text, events=[
        ev("2024-09-16", "Qaani arrived in Baghdad.", "وصل قاآني مساء الإثنين إلى بغداد", "computed",
           by="an informed source", anonymous=True),
        ev("2024-09-27", "The agreement will be announced.", "يوم 27 سبتمبر 2024"),
        ev("2024-09-01", "Something the article does not say.", "جملة غير موجودة"),
    ])
    arrived, announced, invented = s.events
    assert (arrived.verified, arrived.date, arrived.date_basis, arrived.date_as_given) == (
        True, "2024", "computed", "2024-09-16")
    assert arrived.span is not None and arrived.span.paragraph == 0
    assert (announced.verified, announced.date, announced.date_basis, announced.date_as_given) == (
        True, "2024-09-27", "stated", None)
    assert (invented.verified, invented.span, invented.date_basis) == (False, None, "outside")
    # The grounding rate covers event quotes: 1 key point + 3 events, one not found.
    assert (s.grounding.quotes, s.grounding.verified) == (4, 3)
    assert s.grounding.unverified == ["جملة غير موجودة"]
    # Only verified events reach the timeline, with the date briefer checked.
    assert [(t.date, t.date_basis, t.attributed_to, t.single_anonymous_source) for t in build_timeline([s])] == [
        ("2024-09-27", "stated", None, False), ("2024", "computed", "an informed source", True)]


def test_the_publication_date_is_cut_back_in_the_summary() -> None:
    s = summary("a", published="2024-02-18", text="q")
    extraction = ArticleExtraction.model_validate({
        **{k: v for k, v in s.model_dump().items() if k in ArticleExtraction.model_fields},
        "date_basis": "explicit", "date_evidence": "نشر في فبراير 2024",
        "key_points": [k.model_dump(exclude={"verified", "span", "support"}) for k in s.key_points],
        "claims": [], "events": []})
    article = Article(id="a", source_path="a.txt", content_sha256="0", raw_text="عنوان\nنشر في فبراير 2024",
                      title="عنوان", paragraphs=("نشر في فبراير 2024",))
    grounded = ground(article, extraction)
    assert (grounded.published, grounded.date_basis, grounded.published_as_given) == (
        "2024-02", "explicit", "2024-02-18")
    assert grounded.published_note == "cut back from 2024-02-18: the text writes only 2024-02"


def test_brief_md_marks_computed_and_outside_dates_and_says_who_says_so() -> None:
    text = "وصل قاآني مساء الإثنين إلى بغداد. قتل ثلاثة جنود في الأردن. وسيعلن الاتفاق يوم 27 سبتمبر 2024."
    s = summary("a", published="2024-09", text=text, events=[
        ev("2024-09-16", "Qaani arrived in Baghdad.", "وصل قاآني مساء الإثنين إلى بغداد", "computed",
           by="an informed source", anonymous=True),
        ev("2024-01-28", "Three soldiers were killed in Jordan.", "قتل ثلاثة جنود في الأردن", "outside",
           by="Reuters, citing Iranian and Iraqi sources"),
        ev("2024-09-27", "The agreement will be announced.", "يوم 27 سبتمبر 2024"),
    ])
    cite = lambda ids: "[1]"  # noqa: E731
    lines = [timeline_line(t, cite) for t in build_timeline([s])]
    assert lines == [
        "- 2024-01-28 *(date from outside the article)* — Three soldiers were killed in Jordan. — according to "
        "Reuters, citing Iranian and Iraqi sources [1]",
        "- 2024-09-27 — The agreement will be announced. [1]",
        "- 2024 *(date computed by briefer)* — Qaani arrived in Baghdad. — according to an informed source "
        "(a single anonymous source) [1]",
    ]
    assert according(None, True) == " — according to a single anonymous source"
    assert according("two sources", True, reports=2) == " — according to two sources (each report a single " \
        "anonymous source)"
    brief = Brief.model_validate({
        "date": "2026-11-22", "title": "T", "partial": False, "executive_summary": [], "stories": [],
        "entities": [], "timeline": [t.model_dump() for t in build_timeline([s])], "disagreements": [],
        "stale_articles": [], "failures": [], "skipped": [], "notes": [],
        "articles": [{"id": "a", "headline_en": "H", "headline_original": "ع", "outlet": None,
                      "published": "2024-09", "language": "ar", "date_basis": "inferred"}],
        "stats": {"articles": 1, "quotes": 0, "quotes_verified": 0, "grounding_rate": None, "chars_raw": 0,
                  "chars_removed": 0, "tokens_raw_est": 0, "tokens_saved_est": 0}})
    out = brief_markdown(brief, [s])
    assert "- 2024 *(computed)* — Qaani arrived in Baghdad." in out and "*computed*: a date briefer worked out" in out
    assert "(September 2024, inferred · ar)" in out.replace("outlet unknown · ", "")
    out = evidence_markdown(brief, [s])
    # The evidence gives each event's date, how briefer checked it, and its quote's paragraph in English.
    assert "- 2024 *(cut back from 2024-09-16: the quote, with the publication date, 2024-09, supports only 2024)* " \
        "— Qaani arrived in Baghdad." in out
