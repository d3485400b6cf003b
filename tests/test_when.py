"""Dates written in article text, resolved by briefer: Arabic (all regional month names), Persian, English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from briefer.text.jalali import gregorian_to_jalali, jalali_to_gregorian
from briefer.text.when import Resolution, resolve, resolve_all, supports
from conftest import FIXTURES

ARTICLES = FIXTURES / "articles"
FA_SAMPLE = Path(__file__).parent / "data" / "real-samples" / "fa_mashregh_2023-12_kanaani-condemns-us-uk-sanctions.txt"


def _article(prefix: str) -> str:
    (path,) = ARTICLES.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _one(quote: str, reference: str | None, language: str) -> Resolution:
    found = resolve(quote, reference, language)
    assert found is not None, quote
    assert quote[found.start:found.end] == found.expression  # the span is in the text as written
    return found


# ---------------------------------------------------------------- Arabic


def test_arabic_article_000_weekdays_against_a_full_reference() -> None:
    text = _article("000")
    found = {r.expression: r for r in resolve_all(text, "2024-09-18", "ar")}
    assert found["مساء الإثنين"].date == "2024-09-16"  # the most recent Monday on or before
    assert found["الأربعاء الماضي"].date == "2024-09-11"
    assert found["الجمعة المقبل"].date == "2024-09-20"
    assert found["27 من سبتمبر/أيلول الجاري"].date == "2024-09-27"  # day and month written, year computed
    assert found["عام 2026"].date == "2026" and found["عام 2026"].basis == "stated"
    assert {r.basis for e, r in found.items() if e != "عام 2026"} == {"computed"}
    for r in found.values():
        assert text[r.start:r.end] == r.expression


def test_arabic_partial_or_unknown_reference_cuts_precision_back() -> None:
    # Article 000's publication date is only "2024-09": the most recent Monday may be 26 August.
    monday = _one("وزار قاآني، مساء الإثنين، العاصمة بغداد", "2024-09", "ar")
    assert (monday.date, monday.basis, monday.earliest, monday.latest) == ("2024", "computed", "2024-08-26",
                                                                            "2024-09-30")
    # «الجاري» ties the month to the reference month, so the day survives a month-only reference.
    assert _one("الذي سيتم الإعلان عنه 27 من سبتمبر/أيلول الجاري", "2024-09", "ar").date == "2024-09-27"
    # Known only to the year, "last Wednesday" is still somewhere in that year (or the last days of the one before).
    assert _one("الأربعاء الماضي", "2024", "ar").date is None
    assert _one("الأربعاء الماضي", "2024-06", "ar").date == "2024"
    unknown = _one("الجمعة المقبل", None, "ar")
    assert (unknown.date, unknown.basis, unknown.earliest) == (None, "computed", None)
    assert _one("سبتمبر 2025", None, "ar").date == "2025-09"  # stated dates need no reference


@pytest.mark.parametrize(
    ("quote", "expected", "expression"),
    [
        ("تقارير   12:13 - 18/02/2024   موازين نيوز", "2024-02-18", "18/02/2024"),  # article 004's dateline
        ("تقارير ١٢:١٣ - ١٨/٠٢/٢٠٢٤", "2024-02-18", "١٨/٠٢/٢٠٢٤"),  # Arabic-Indic digits
        ("بحلول سبتمبر 2025، وهو", "2025-09", "سبتمبر 2025"),  # article 001
        ("منذ منتصف تشرين الأول 2023.", "2023-10", "تشرين الأول 2023"),  # article 003
        ("القوات بحلول أيلول/سبتمبر 2025", "2025-09", "أيلول/سبتمبر 2025"),
        ("في 27 سبتمبر 2024", "2024-09-27", "27 سبتمبر 2024"),
        ("في ٢٧ سبتمبر ٢٠٢٤", "2024-09-27", "٢٧ سبتمبر ٢٠٢٤"),
        ("الرابع من شباط 2024", "2024-02-04", "الرابع من شباط 2024"),
        ("الحادي والعشرين من آذار 2024", "2024-03-21", "الحادي والعشرين من آذار 2024"),
        ("الذي تشكل عام 2014 لمحاربة", "2014", "عام 2014"),
        ("بحلول نهاية 2026.", "2026", "نهاية 2026"),
        ("منذ عام 2014", "2014", "عام 2014"),  # a year, not "a year ago"
    ],
)
def test_arabic_stated_dates(quote: str, expected: str, expression: str) -> None:
    found = _one(quote, None, "ar")
    assert (found.date, found.basis, found.expression) == (expected, "stated", expression)


@pytest.mark.parametrize(
    "names",
    [
        ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
        ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
         "تشرين الثاني", "كانون الأول"],
        ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"],
        ["يناير", "فبراير", "مارس", "إبريل", "ماي", "يونيه", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر"],
    ],
    ids=["egyptian-standard", "levantine-iraqi", "algerian-tunisian", "moroccan"],
)
def test_arabic_month_names_of_every_region(names: list[str]) -> None:
    for month, name in enumerate(names, start=1):
        assert _one(f"وفي 15 {name} 2024 أعلن", None, "ar").date == f"2024-{month:02d}-15", name
        assert _one(f"خلال {name} الماضي", "2024-12-31", "ar").date == (
            f"2024-{month:02d}" if month < 12 else "2023-12"), name


@pytest.mark.parametrize(
    ("quote", "reference", "expected"),
    [
        ("عبر بيان مشترك في يونيو الماضي، لكنه تأجل", "2024-09-07", "2024-06"),  # article 001
        ("أنه في سبتمبر المقبل سيتم الإعلان", "2024-09-07", "2025-09"),  # article 001: strictly after
        ("في 21 من آب الماضي، لا يعتبر", "2024-09-06", "2024-08-21"),  # article 003
        ("وفي 6 من أيلول الحالي، نقلت", "2024-09-06", "2024-09-06"),  # article 003
        ("ومنذ الرابع من شباط الجاري، لم تقع", "2024-02-18", "2024-02-04"),  # article 004: ordinal day
        ("استؤنفت المحادثات في السادس من شباط مع", "2024-02-18", "2024-02-06"),  # article 004: nearest
        ("في مطار بغداد يوم 29 كانون الثاني، أي", "2024-02-18", "2024-01-29"),  # article 004
        ("هجوم بقذائف الهاون في كانون الأول على السفارة", "2024-02-18", "2023-12"),  # nearest December
        ("خلال العام الحالي، حيث", "2021-07-27", "2021"),  # article 002
        ("كانت السابقة في الشهر الماضي، قبيل", "2021-07-27", "2021-06"),  # article 002
        ("سيجري الإعلان عنها هذا الشهر.", "2024-09-06", "2024-09"),  # article 003
        ("الشهر المقبل", "2024-12-10", "2025-01"),  # over the year boundary
        ("العام الماضي", "2024-01-01", "2023"),
        ("للعام المقبل", "2024-05", "2025"),  # ل merged into the article
        ("الأسبوع الماضي", "2024-09-18", "2024-09"),
        ("الأسبوع الماضي", "2024-09-05", "2024"),  # could be late August or early September
        ("الأسبوع الماضي", "2024-01-05", None),  # could be December 2023 or January 2024
    ],
)
def test_arabic_named_months_and_calendar_units(quote: str, reference: str, expected: str | None) -> None:
    found = _one(quote, reference, "ar")
    assert (found.date, found.basis) == (expected, "computed")


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("من المطار نفسه قبل أربع سنوات، أبلغ", "2020"),  # article 004
        ("منذ أربعة أعوام", "2020"),
        ("قبل ٤ سنوات", "2020"),
        ("منذ 10 أعوام", "2014"),
        ("قبل عامين", "2022"),
        ("قبل سنة", "2023"),
        ("قبل ثلاثة أشهر", "2023-11"),
        ("قبل يومين", "2024-02-16"),
        ("قبل أسبوع", "2024-02"),  # seven days, give or take three
    ],
)
def test_arabic_time_ago_in_words_and_digits(quote: str, expected: str) -> None:
    assert _one(quote, "2024-02-18", "ar").date == expected


@pytest.mark.parametrize(
    "quote",
    [
        "منذ سنوات طويلة",  # how many years is not said
        "قبل عام من الانتخابات",  # a year before something else, not before the article
        "وفي اليوم التالي، أعلنت الفصائل",  # article 004: the next day, not today
        "في ذلك اليوم",
        "مع اقتراب موعد إنهاء مهمة قوات التحالف في العراق",  # article 000: no date at all
    ],
)
def test_arabic_phrases_that_date_nothing(quote: str) -> None:
    assert resolve(quote, "2024-02-18", "ar") is None


@pytest.mark.parametrize(
    ("quote", "expression", "expected"),
    [
        ("أمس", "أمس", "2024-02-17"),
        ("وقال بالأمس إن", "الأمس", "2024-02-17"),  # ب attached; the reported expression leaves it out
        ("أول من أمس", "أول من أمس", "2024-02-16"),
        ("والليلة الماضية، أكد السوداني", "الليلة الماضية", "2024-02-17"),  # article 001
        ("ومساء الثلاثاء، أنهى رئيس", "مساء الثلاثاء", "2024-02-13"),  # article 001
        ("وصل اليوم إلى بغداد", "اليوم", "2024-02-18"),
        ("يصل غداً إلى بغداد", "غداً", "2024-02-19"),  # tanween kept in the expression as written
        ("يصل بعد غد", "بعد غد", "2024-02-20"),
        ("وزار بغداد مساء الإثـنين", "مساء الإثـنين", "2024-02-12"),  # tatweel
    ],
)
def test_arabic_day_words_and_attached_prefixes(quote: str, expression: str, expected: str) -> None:
    found = _one(quote, "2024-02-18", "ar")
    assert (found.expression, found.date) == (expression, expected)


def test_weekday_equal_to_the_reference_weekday() -> None:
    monday = "2024-09-16"
    assert _one("last Monday", monday, "en").date == "2024-09-09"  # seven days before, not the same day
    assert _one("next Monday", monday, "en").date == "2024-09-23"
    assert _one("on Monday", monday, "en").date == monday  # bare: on or before
    assert _one("الاثنين الماضي", monday, "ar").date == "2024-09-09"
    assert _one("الإثنين المقبل", monday, "ar").date == "2024-09-23"
    assert _one("عقد الاثنين", monday, "ar").date == monday
    assert _one("دوشنبه گذشته", monday, "fa").date == "2024-09-09"
    assert _one("دوشنبه آینده", monday, "fa").date == "2024-09-23"


@pytest.mark.parametrize(
    ("quote", "reference", "language", "expected"),
    [
        ("yesterday", "2024-01-01", "en", "2023-12-31"),
        ("tomorrow", "2024-02-28", "en", "2024-02-29"),  # leap year
        ("tomorrow", "2023-02-28", "en", "2023-03-01"),
        ("فردا", "2024-02-28", "fa", "2024-02-29"),
        ("last Friday", "2024-01-02", "en", "2023-12-29"),
        ("next month", "2024-12", "en", "2025-01"),
        ("last year", "2024-01-01", "en", "2023"),
        ("29 فبراير", "2024-03-01", "ar", "2024-02-29"),
        ("February 29", "2023-03-01", "en", "2024-02-29"),  # no 29 February in 2023: the nearest one that exists
    ],
)
def test_year_boundaries_and_leap_years(quote: str, reference: str, language: str, expected: str) -> None:
    assert _one(quote, reference, language).date == expected


@pytest.mark.parametrize(
    ("quote", "language", "expression", "expected"),
    [
        ("الاثنين 16 سبتمبر 2024", "ar", "الاثنين 16 سبتمبر 2024", "2024-09-16"),
        ("Monday, September 16, 2024", "en", "Monday, September 16, 2024", "2024-09-16"),
        ("جمعه ۲۴ آذر ۱۴۰۲", "fa", "جمعه ۲۴ آذر ۱۴۰۲", "2023-12-15"),
    ],
)
def test_a_weekday_before_a_full_date_is_part_of_it(quote: str, language: str, expression: str, expected: str) -> None:
    found = _one(quote, None, language)
    assert (found.expression, found.date, found.basis) == (expression, expected, "stated")


def test_a_weekday_that_contradicts_the_date_stays_separate() -> None:
    found = resolve_all("الثلاثاء 16 سبتمبر 2024", "2024-09-18", "ar")  # 16 September 2024 was a Monday
    assert [(r.expression, r.date) for r in found] == [("الثلاثاء", "2024-09-17"), ("16 سبتمبر 2024", "2024-09-16")]


def test_impossible_stated_dates_are_not_dates() -> None:
    assert resolve_all("في 29 فبراير 2023", None, "ar") == []
    assert resolve_all("31/04/2024", None, "ar") == []


# ---------------------------------------------------------------- Persian


def test_solar_hijri_conversion() -> None:
    assert jalali_to_gregorian(1403, 1, 1).isoformat() == "2024-03-20"  # Nowruz 1403
    assert jalali_to_gregorian(1402, 1, 1).isoformat() == "2023-03-21"
    assert jalali_to_gregorian(1399, 1, 1).isoformat() == "2020-03-20"
    assert jalali_to_gregorian(1402, 9, 24).isoformat() == "2023-12-15"
    assert jalali_to_gregorian(1403, 12, 30).isoformat() == "2025-03-20"  # 1403 is a leap year
    with pytest.raises(ValueError):
        jalali_to_gregorian(1402, 12, 30)  # 1402 is not
    assert jalali_to_gregorian(1357, 11, 22).isoformat() == "1979-02-11"
    day = dt.date(2000, 1, 1)  # every day of 2000-2039 survives the round trip
    while day.year < 2040:
        assert jalali_to_gregorian(*gregorian_to_jalali(day)) == day
        day += dt.timedelta(days=1)
    assert gregorian_to_jalali(dt.date(2024, 3, 19)) == (1402, 12, 29)  # the last day of 1402


@pytest.mark.parametrize(
    ("quote", "expected", "earliest", "latest"),
    [
        ("جمعه ۲۴ آذر ۱۴۰۲", "2023-12-15", "2023-12-15", "2023-12-15"),  # Persian digits
        ("۱۴۰۲/۰۹/۲۴", "2023-12-15", "2023-12-15", "2023-12-15"),
        ("۱۵ دسامبر ۲۰۲۳", "2023-12-15", "2023-12-15", "2023-12-15"),
        ("آذر ۱۴۰۲", "2023", "2023-11-22", "2023-12-21"),  # a Solar month spans two Gregorian months
        ("در سال ۱۴۰۲", None, "2023-03-21", "2024-03-19"),  # and a Solar year two Gregorian years
        ("اسفند ۱۴۰۳", "2025", "2025-02-19", "2025-03-20"),
    ],
)
def test_persian_stated_dates(quote: str, expected: str | None, earliest: str, latest: str) -> None:
    found = _one(quote, None, "fa")
    assert (found.date, found.basis, found.earliest, found.latest) == (expected, "stated", earliest, latest)


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("دیروز", "2023-12-15"),
        ("امروز", "2023-12-16"),
        ("فردا", "2023-12-17"),
        ("روز گذشته", "2023-12-15"),
        ("چهارشنبه گذشته", "2023-12-13"),
        ("سه‌شنبه گذشته", "2023-12-12"),  # ZWNJ inside the weekday name
        ("سه شنبه گذشته", "2023-12-12"),
        ("شنبه‌ی گذشته", "2023-12-09"),  # Saturday itself: seven days before
        ("جمعه آینده", "2023-12-22"),
        ("روز دوشنبه", "2023-12-11"),
        ("یکشنبه", "2023-12-10"),  # not «شنبه» inside «یکشنبه»
        ("هفته گذشته", "2023-12"),
        ("هفته‌ی آینده", "2023-12"),
        ("چهار سال پیش", "2019"),
        ("۲ روز قبل", "2023-12-14"),
        ("ماه آینده", None),  # Dey 1402: 22 December to 20 January
        ("سال گذشته", None),  # 1401: March 2022 to March 2023
        ("۲۴ آذر", "2023-12-15"),
    ],
)
def test_persian_relative_expressions(quote: str, expected: str | None) -> None:
    found = _one(quote, "2023-12-16", "fa")  # a Saturday, 25 Azar 1402
    assert (found.date, found.basis) == (expected, "computed")


def test_persian_bounds_of_solar_units() -> None:
    nxt = _one("ماه آینده", "2023-12-16", "fa")
    assert (nxt.earliest, nxt.latest) == ("2023-12-22", "2024-01-20")
    this_year = _one("امسال", "2024-01", "fa")
    assert (this_year.earliest, this_year.latest) == ("2023-03-21", "2024-03-19")


def test_persian_real_sample_has_durations_not_dates() -> None:
    text = FA_SAMPLE.read_text(encoding="utf-8")
    # «طی ۲ ماه» (over 2 months) and «از گذشته» (from the past) are not dates.
    assert "طی ۲ ماه" in text and "از گذشته" in text
    assert resolve_all(text, "2023-12", "fa") == []
    assert resolve("۲ روز قبل از حمله", "2023-12-16", "fa") is None  # two days before the attack


# ---------------------------------------------------------------- English


@pytest.mark.parametrize(
    ("quote", "expression", "expected", "basis"),
    [
        ("He said on Monday that", "on Monday", "2024-09-16", "computed"),
        ("Monday evening", "Monday evening", "2024-09-16", "computed"),
        ("last Wednesday", "last Wednesday", "2024-09-11", "computed"),
        ("next Friday", "next Friday", "2024-09-20", "computed"),
        ("yesterday", "yesterday", "2024-09-17", "computed"),
        ("Four years ago, a drone strike", "Four years ago", "2020", "computed"),
        ("two days ago", "two days ago", "2024-09-16", "computed"),
        ("3 months ago", "3 months ago", "2024-06", "computed"),
        ("last month", "last month", "2024-08", "computed"),
        ("next year", "next year", "2025", "computed"),
        ("earlier this month", "earlier this month", "2024-09", "computed"),
        ("last week", "last week", "2024-09", "computed"),
        ("last June", "last June", "2024-06", "computed"),
        ("by September 2025", "September 2025", "2025-09", "stated"),
        ("on Sept. 27, 2024", "Sept. 27, 2024", "2024-09-27", "stated"),
        ("the 27th of September 2024", "27th of September 2024", "2024-09-27", "stated"),
        ("in 2014", "in 2014", "2014", "stated"),
        ("13/04/2024", "13/04/2024", "2024-04-13", "stated"),
        ("04/13/2024", "04/13/2024", "2024-04-13", "stated"),
        ("03/04/2024", "03/04/2024", "2024", "stated"),  # day/month order unknown: only the year
    ],
)
def test_english(quote: str, expression: str, expected: str, basis: str) -> None:
    found = _one(quote, "2024-09-18", "en")
    assert (found.expression, found.date, found.basis) == (expression, expected, basis)


def test_english_may_alone_is_a_verb() -> None:
    assert resolve("Officials said they may leave in May", "2024-09-18", "en") is None


# ---------------------------------------------------------------- several expressions, supports()


def test_several_expressions_the_first_dates_the_event() -> None:
    quote = "وفي 1 من أيلول الحالي، قال رئيس الوزراء إن القوات ستغادر بحلول أيلول 2025"
    found = resolve_all(quote, "2024-09-06", "ar")
    assert [(r.expression, r.date) for r in found] == [("1 من أيلول الحالي", "2024-09-01"),
                                                       ("أيلول 2025", "2025-09")]
    assert resolve(quote, "2024-09-06", "ar") == found[0]
    # The first one counts even when it cannot be resolved: a later date may date something else.
    assert _one("قال الاثنين إن الانسحاب ينتهي عام 2026", None, "ar").date is None


def test_supports_cuts_a_claimed_date_back_to_the_text() -> None:
    monday = "وزار قاآني، مساء الإثنين، العاصمة بغداد"
    assert supports("2024-09-16", monday, "2024-09-18", "ar") == ("2024-09-16", "computed")
    assert supports("2024-09-16", monday, "2024-09", "ar") == ("2024", "computed")  # reference known to the month
    assert supports("2024-09-16", monday, None, "ar") == (None, "outside")
    assert supports("2024-09-17", monday, "2024-09-18", "ar") == (None, "outside")  # not a Monday
    assert supports("2024-09-27", "27 من سبتمبر/أيلول الجاري", "2024-09", "ar") == ("2024-09-27", "computed")
    # Article 002: the event days come from outside knowledge.
    assert supports("2021-07-27", "وعقد أول اجتماع له مع قادة الفصائل", "2021-07", "ar") == (None, "outside")
    # More precise than the text: cut back; a partial claim stays as precise as it is.
    assert supports("2025-09-15", "بحلول سبتمبر 2025", None, "ar") == ("2025-09", "stated")
    assert supports("2025", "بحلول سبتمبر 2025", None, "ar") == ("2025", "stated")
    # Of several expressions the one that agrees with the claim is used, not the first.
    two = "وفي 1 من أيلول الحالي، قال إن القوات ستغادر بحلول أيلول 2025"
    assert supports("2025-09", two, "2024-09-06", "ar") == ("2025-09", "stated")
    assert supports("2024-09-01", two, "2024-09-06", "ar") == ("2024-09-01", "computed")
    # At equal precision, a stated date beats a computed one.
    assert supports("2024", "في العام الحالي، أي في 2024", "2024-05", "ar") == ("2024", "stated")
    assert supports("2020", "four years ago", "2024-09-18", "en") == ("2020", "computed")


def test_bad_dates_are_refused() -> None:
    with pytest.raises(ValueError):
        resolve("أمس", "18/02/2024", "ar")
    with pytest.raises(ValueError):
        supports("2023-02-29", "أمس", "2023-03-01", "ar")


def test_language_tags_and_unknown_languages() -> None:
    assert _one("أمس", "2024-02-18", "ar-IQ").date == "2024-02-17"
    assert resolve("أمس", "2024-02-18", "zh") is None  # no vocabulary: only numeric dates
    assert _one("2024-02-18 报道", None, "zh").date == "2024-02-18"


def test_stored_text_is_never_changed() -> None:
    quote = "وزار بغداد مساءَ الإثنينِ الماضي، ثم غادر"
    before = quote
    found = _one(quote, "2024-09-18", "ar")
    assert quote == before
    assert found.expression == "مساءَ الإثنينِ الماضي"  # diacritics kept as written
    assert found.date == "2024-09-16"
