"""Dates written in article text, resolved deterministically (Arabic, Persian, English).

Public API (everything else is private):

``resolve_all(quote, reference, language) -> list[Resolution]``
    Every date expression found in ``quote``, in reading order, overlapping matches settled by the
    longest. ``reference`` is the article's publication date as a partial ISO date ("2024",
    "2024-09", "2024-09-18") or None; ``language`` is "ar", "fa" or "en" (a region suffix such as
    "ar-IQ" is ignored; any other language gets only numeric dates such as 18/02/2024).

``resolve(quote, reference, language) -> Resolution | None``
    The expression that dates the event: the *first* one in reading order (a news sentence puts the
    time of its main clause first: «وقال ... الاثنين إن ...», "X said on Monday that ... last year").
    None when the quote holds no date expression at all.

``supports(claimed, quote, reference, language) -> tuple[str | None, str]``
    Checks a claimed partial ISO date against the quote: the most precise date that every expression
    in the quote can vouch for *and* that agrees with ``claimed`` (``claimed`` cut back to what the
    text supports), with its basis "stated" or "computed"; ``(None, "outside")`` when no expression
    agrees, i.e. the claim rests on knowledge from outside the text. Ties prefer "stated".

``Resolution`` fields:
    ``date`` partial ISO, as precise as the text and the reference allow, or None when a relative
    expression cannot be pinned down even to a year (reference unknown, or the possible days straddle
    a new year); ``basis`` "stated" (every part is written: «27 سبتمبر 2024», "September 2025",
    «۲۴ آذر ۱۴۰۲») or "computed" (some part comes from the reference: «الأربعاء الماضي», "four years
    ago", «27 من سبتمبر الجاري»); ``expression`` as written and ``start``/``end`` its span in
    ``quote``; ``earliest``/``latest`` the full ISO bounds of the days it can mean (None if unknown).

How precision is kept honest: a computed expression is evaluated against *every* day the reference
may be ("2024-09" is any of 30 days) and the answer is the most precise partial date covering all of
the results. So «مساء الإثنين» against "2024-09" is "2024" (the most recent Monday may be 26 August),
against "2024-09-18" it is "2024-09-16". A Solar Hijri month (Azar 1402) spans two Gregorian months,
so its date is only the year; a Solar year gives no Gregorian year at all (date None, bounds kept).

Rules (documented choices, tested):
- weekdays: "last Monday"/«الاثنين الماضي»/«دوشنبه گذشته» is the most recent Monday strictly before
  the reference (7 days before on a Monday); "next"/«المقبل»/«آینده» the first one strictly after; a
  bare weekday («مساء الإثنين», "on Monday", «روز دوشنبه») the most recent on or before the reference.
- named months: «يونيو الماضي» the most recent June strictly before the reference month, «سبتمبر
  المقبل» the next one after it, «الجاري»/«الحالي»/"this" the reference year's; a day and month with no
  year or qualifier («السادس من شباط», "Feb. 6") the occurrence nearest the reference.
- "last week" is any day from 13 to 1 days before (the week may start Saturday, Sunday or Monday);
  "N weeks ago" is 7N days before, give or take 3; "N years ago" is the reference year minus N.
- elapsed durations ("چهار سال پیش") count in Gregorian units; named Persian calendar units
  («ماه گذشته», «سال گذشته», «امسال») are Solar Hijri months and years.
- a weekday right before a full date that agrees with it («الأربعاء، 28 آب/اغسطس 2013") is one
  expression; a written day that cannot exist (29 February 2023) is no date, not even its month.
- «اليوم التالي» (the next day) and «ذلك اليوم» (that day) are not "today"; «منذ سنوات» (years ago, how
  many unsaid) and «قبل عام من ...» (a year before something else) resolve to nothing.
- numeric dates are day/month/year (18/02/2024) or year/month/day; in English a day/month order that
  is ambiguous (03/04/2024) gives only the year. Persian years 1300–1499 are Solar Hijri.

Matching folds the text (hamza, ta marbuta, diacritics, tatweel, Persian letter forms, any Unicode
digits) on a copy with a map back to the original; stored text is never changed. Arabic words may
carry the attached prefixes و ف ب ل («وفي», «بالأمس», «للعام»).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

from . import dates
from . import when_words as words
from .jalali import farvardin_first, gregorian_to_jalali, jalali_month, jalali_to_gregorian
from .textnorm import fold_char

Basis = Literal["stated", "computed"]
_Interval = tuple[dt.date, dt.date]
_T = TypeVar("_T")
_YEAR, _MONTH, _DAY = 1, 2, 3


@dataclass(frozen=True)
class Resolution:
    """One date expression found in a quote and what it resolves to (see the module docstring)."""

    date: str | None
    basis: Basis
    expression: str
    start: int
    end: int
    earliest: str | None
    latest: str | None


# ---------------------------------------------------------------- folding with a map back


@dataclass(frozen=True)
class _Folded:
    text: str
    origin: tuple[int, ...]
    origin_end: tuple[int, ...]


def _fold(text: str) -> _Folded:
    out: list[str] = []
    origin: list[int] = []
    origin_end: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
                origin_end.append(i + 1)
            continue
        if ch.isdigit():
            try:
                folded = str(unicodedata.digit(ch))
            except ValueError:
                folded = ch
        else:
            folded = fold_char(ch)
        for c in folded:
            out.append(c)
            origin.append(i)
            origin_end.append(i + 1)
    return _Folded("".join(out), tuple(origin), tuple(origin_end))


def _key(text: str) -> str:
    """Lookup key of a matched word: folded, spaces dropped (ZWNJ/space variants compare equal)."""
    return _fold(text).text.replace(" ", "")


def _lit(word: str, article: bool = False) -> str:
    """Regex for a literal word in folded form; an Arabic "ال" may have merged into a preceding ل."""
    folded = _fold(word).text
    if article and folded.startswith("ال"):
        return "(?:ال|(?<=ل)ل)" + re.escape(folded[2:]).replace(r"\ ", " ?")
    return re.escape(folded).replace(r"\ ", " ?")


def _alt(words: Iterable[str], article: bool = False) -> str:
    lits = sorted({_lit(w, article) for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(lits) + ")"


def _table(mapping: dict[str, _T]) -> dict[str, _T]:
    return {_key(k): v for k, v in mapping.items()}


def _lookup(table: dict[str, _T], text: str) -> _T:
    """Look a matched word up, whether its "ال" is written, merged into a ل prefix («للعام») or absent."""
    key = _key(text)
    for k in (key, "ا" + key, key.removeprefix("ال"), key.removeprefix("ل")):
        if k in table:
            return table[k]
    raise KeyError(text)


_MODE_WORDS = {_key(w): mode for mode, said in words.MODE_WORDS.items() for w in said}

# ---------------------------------------------------------------- computations


def _shift_month(year: int, month: int, k: int) -> tuple[int, int]:
    n = year * 12 + month - 1 + k
    return n // 12, n % 12 + 1


def _month_span(year: int, month: int) -> _Interval:
    return dates.earliest(f"{year:04d}-{month:02d}"), dates.latest(f"{year:04d}-{month:02d}")


def _year_span(year: int) -> _Interval:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _pick_month(ref_ym: tuple[int, int], month: int, mode: str) -> tuple[int, int]:
    """Which year a named month falls in, seen from the reference month."""
    ry, rm = ref_ym
    if mode == "past":
        return (ry if month < rm else ry - 1), month
    if mode == "next":
        return (ry if month > rm else ry + 1), month
    if mode == "this":
        return ry, month
    # nearest; a tie (six months either way) goes to the past, where news mostly looks
    return min(((y, month) for y in (ry - 1, ry, ry + 1)), key=lambda ym: (abs((ym[0] - ry) * 12 + ym[1] - rm), ym))


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _weekday(ref: dt.date, wd: int, mode: str) -> dt.date:
    if mode == "past":
        return ref - dt.timedelta(days=(ref.weekday() - wd - 1) % 7 + 1)
    if mode == "next":
        return ref + dt.timedelta(days=(wd - ref.weekday() - 1) % 7 + 1)
    return ref - dt.timedelta(days=(ref.weekday() - wd) % 7)


# An expression: what it means given one possible reference day (None for stated ones), and the
# finest precision it can ever have.
_Rule = Callable[[dt.date | None], _Interval | None]


@dataclass(frozen=True)
class _Expr:
    rule: _Rule
    precision: int
    computed: bool
    weekday: bool = False  # a bare weekday name, which a following full date absorbs


def _weekday_expr(wd: int, mode: str) -> _Expr:
    return _Expr(lambda r: None if r is None else _point(_weekday(r, wd, mode)), _DAY, True, weekday=mode == "bare")


def _stated(span: _Interval | None, precision: int) -> _Expr | None:
    if span is None:
        # A written day that cannot exist (29 February 2023, 31/04/2024) still holds its place in the
        # text, so that no part of it («فبراير 2023») is read as a date instead; it resolves to nothing.
        return _Expr(lambda _r: None, precision, False) if precision == _DAY else None
    return _Expr(lambda _r: span, precision, False)


def _computed(rule: Callable[[dt.date], _Interval | None], precision: int) -> _Expr:
    return _Expr(lambda r: None if r is None else rule(r), precision, True)


def _point(d: dt.date | None) -> _Interval | None:
    return None if d is None else (d, d)


def _offset(days: int) -> _Expr:
    return _computed(lambda r: _point(r + dt.timedelta(days=days)), _DAY)


def _ago(n: int, unit: str) -> _Expr:
    if unit == "d":
        return _offset(-n)
    if unit == "w":
        return _computed(lambda r: (r - dt.timedelta(days=7 * n + 3), r - dt.timedelta(days=7 * n - 3)), _DAY)
    if unit == "m":
        return _computed(lambda r: _month_span(*_shift_month(r.year, r.month, -n)), _MONTH)
    return _computed(lambda r: _year_span(r.year - n), _YEAR)


def _unit(unit: str, mode: str, solar: bool = False) -> _Expr:
    k = {"past": -1, "next": 1}.get(mode, 0)
    if unit == "d":
        return _offset(k)  # «روز گذشته»: the day before, i.e. yesterday
    if unit == "w":
        spans = {-1: (-13, -1), 1: (1, 13), 0: (-6, 6)}[k]
        return _computed(lambda r: (r + dt.timedelta(days=spans[0]), r + dt.timedelta(days=spans[1])), _DAY)
    if solar and unit == "m":
        return _computed(lambda r: jalali_month(*_shift_month(*gregorian_to_jalali(r)[:2], k)), _MONTH)
    if solar:
        return _computed(lambda r: (farvardin_first(gregorian_to_jalali(r)[0] + k),
                                    farvardin_first(gregorian_to_jalali(r)[0] + k + 1) - dt.timedelta(days=1)),
                         _YEAR)
    if unit == "m":
        return _computed(lambda r: _month_span(*_shift_month(r.year, r.month, k)), _MONTH)
    return _computed(lambda r: _year_span(r.year + k), _YEAR)


def _named(month: int, day: int | None, mode: str, solar: bool = False) -> _Expr:
    """A named month (and day) without a year: the year comes from the reference."""

    def rule(r: dt.date) -> _Interval | None:
        ref_ym = gregorian_to_jalali(r)[:2] if solar else (r.year, r.month)
        if day is not None and mode == "near":
            years = [ref_ym[0] - 1, ref_ym[0], ref_ym[0] + 1]
            found = [d for y in years if (d := _any_day(y, month, day, solar)) is not None]
            return _point(min(found, key=lambda d: (abs((d - r).days), d))) if found else None
        y, m = _pick_month(ref_ym, month, mode)
        if day is not None:
            return _point(_any_day(y, m, day, solar))
        return jalali_month(y, m) if solar else _month_span(y, m)

    return _computed(rule, _DAY if day is not None else _MONTH)


def _any_day(y: int, m: int, d: int, solar: bool) -> dt.date | None:
    if not solar:
        return _day(y, m, d)
    try:
        return jalali_to_gregorian(y, m, d)
    except ValueError:
        return None


def _stated_date(y: int, m: int | None, d: int | None, solar: bool = False) -> _Expr | None:
    """A date whose parts are all written; a Solar Hijri one becomes its Gregorian span."""
    if not solar:
        if m is None:
            return _stated(_year_span(y), _YEAR)
        if d is None:
            return _stated(_month_span(y, m) if 1 <= m <= 12 else None, _MONTH)
        return _stated(_point(_day(y, m, d)) if 1 <= m <= 12 else None, _DAY)
    if m is None:
        return _stated((farvardin_first(y), farvardin_first(y + 1) - dt.timedelta(days=1)), _YEAR)
    if not 1 <= m <= 12:
        return None
    if d is None:
        return _stated(jalali_month(y, m), _MONTH)
    return _stated(_point(_any_day(y, m, d, True)), _DAY)


# ---------------------------------------------------------------- patterns

_Handler = Callable[[re.Match[str]], _Expr | None]
_B = r"(?<!\w)"  # a word starts here
_E = r"(?!\w)"  # a word ends here
_AR_PRE = r"(?<!\w)[وف]?[بل]?"  # attached conjunction / preposition, outside the reported expression
_DD = r"(?<![0-9])(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
_YG = r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])"
_YS = r"(?<![0-9])1[34][0-9]{2}(?![0-9])"


def _g(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _month_of(m: re.Match[str], table: dict[str, int]) -> int | None:
    """The month named in group "m"; a pair like «سبتمبر/أيلول» must name the same month twice."""
    first = table.get(_key(m["m"]))
    second = _g(m, "m2")
    if second is not None and table.get(_key(second)) != first:
        return None
    return first


def _mode(m: re.Match[str], default: str) -> str:
    q = _g(m, "q")
    return default if q is None else _MODE_WORDS.get(_key(q), default)


def _numeric(language: str) -> list[tuple[str, _Handler]]:
    def dmy(m: re.Match[str]) -> _Expr | None:
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        if language == "en" and a <= 12 and b <= 12 and a != b:
            return _stated_date(y, None, None)  # 03/04/2024: US or British order, only the year is sure
        d, mo = (b, a) if language == "en" and b > 12 else (a, b)
        return _stated_date(y, mo, d)

    def ymd(m: re.Match[str]) -> _Expr | None:
        y = int(m["y"])
        solar = language == "fa" and 1300 <= y < 1500
        if not solar and not 1900 <= y < 2100:
            return None
        return _stated_date(y, int(m["b"]), int(m["a"]), solar)

    sep = r"[/.\-]"
    return [
        (rf"(?<![0-9]{sep})(?<![0-9])(?P<a>[0-9]{{1,2}}){sep}(?P<b>[0-9]{{1,2}}){sep}(?P<y>(?:19|20)[0-9]{{2}})"
         rf"(?![0-9])(?!{sep}[0-9])", dmy),
        (rf"(?<![0-9]{sep})(?<![0-9])(?P<y>[0-9]{{4}}){sep}(?P<b>[0-9]{{1,2}}){sep}(?P<a>[0-9]{{1,2}})"
         rf"(?![0-9])(?!{sep}[0-9])", ymd),
    ]


def _day_of(m: re.Match[str], ordinals: dict[str, int]) -> int:
    d = _g(m, "d")
    return int(d) if d is not None else ordinals[_key(m["o"])]


def _arabic_named() -> list[tuple[str, _Handler]]:
    months = _table(words.AR_MONTHS)
    ords = _table(words.AR_ORDINALS)
    mon = _alt(words.AR_MONTHS)
    pair = rf"(?P<m>{mon})(?: ?[/(] ?(?P<m2>{mon}) ?\)?)?"
    day = rf"(?:(?P<d>{_DD})|(?P<o>{_alt(words.AR_ORDINALS)}))"
    of = rf"(?: {_lit('من')})?(?: {_lit('شهر')})?"
    year = rf",? ?(?:{_lit('من')} )?(?:{_alt(['عام', 'العام', 'سنة'])} )?(?P<y>{_YG})"
    qual = rf"(?P<q>{_alt(words.AR_PAST + words.AR_NEXT + words.AR_THIS)})"
    cue = _alt(["في", "خلال", "منذ", "حتى", "شهر", "مطلع", "أوائل", "أواخر", "منتصف", "نهاية", "بداية", "بحلول"])
    ycue = _alt(["عام", "العام", "سنة", "في", "منذ", "حتى", "بحلول", "خلال", "نهاية", "بداية", "مطلع", "منتصف",
                 "أواخر", "أوائل"])
    def dmy(m: re.Match[str]) -> _Expr | None:
        mo = _month_of(m, months)
        return None if mo is None else _stated_date(int(m["y"]), mo, _day_of(m, ords))

    def dm(m: re.Match[str]) -> _Expr | None:
        mo = _month_of(m, months)
        return None if mo is None else _named(mo, _day_of(m, ords), _mode(m, "near"))

    def my(m: re.Match[str]) -> _Expr | None:
        mo = _month_of(m, months)
        return None if mo is None else _stated_date(int(m["y"]), mo, None)

    def mq(m: re.Match[str]) -> _Expr | None:
        mo = _month_of(m, months)
        return None if mo is None else _named(mo, None, _mode(m, "near"))

    return [
        (rf"{_AR_PRE}(?P<x>{day}{of} {pair}{year})", dmy),
        (rf"{_AR_PRE}(?P<x>{day}{of} {pair}(?: {qual})?){_E}", dm),
        (rf"{_AR_PRE}(?P<x>(?:{_lit('شهر')} )?{pair}{year})", my),
        (rf"{_AR_PRE}(?P<x>(?:{_lit('شهر')} )?{pair} {qual}){_E}", mq),
        (rf"{_AR_PRE}(?P<x>{cue} {pair}){_E}(?!{year})", mq),
        (rf"{_AR_PRE}(?P<x>{ycue} (?P<y>{_YG}))", lambda m: _stated_date(int(m["y"]), None, None)),
    ]


def _arabic_relative() -> list[tuple[str, _Handler]]:
    qual = rf"(?P<q>{_alt(words.AR_PAST + words.AR_NEXT + words.AR_THIS)})"
    units = _table(words.AR_UNITS)
    plural = {_key(w) for w in ("أيام", "أسابيع", "أشهر", "شهور", "أعوام", "سنوات", "سنين")}
    numbers = _table(words.AR_NUMBERS)

    def weekday(m: re.Match[str]) -> _Expr:
        wd, mode = _lookup(_table(words.AR_WEEKDAYS), m["w"]), _mode(m, "bare")
        return _weekday_expr(wd, mode)

    def unit(m: re.Match[str]) -> _Expr:
        return _unit(_lookup(units, m["u"]), _mode(m, "this"))

    def ago(m: re.Match[str]) -> _Expr | None:
        u = units[_key(m["u"])]
        n = _g(m, "n")
        if u.startswith("2"):
            return None if n is not None else _ago(2, u[1])
        if n is None and _key(m["u"]) in plural:
            return None  # «منذ سنوات»: years ago, how many is not said
        count = 1 if n is None else int(n) if n.isdigit() else numbers[_key(n)]
        return _ago(count, u)

    # «اليوم التالي» is the next day, «ذلك اليوم» that day: neither is the day of writing
    not_today = _alt(["التالي", "السابق", "نفسه", "ذاته", "الذي", "الأول", "الثاني", "الأخير", "ذلك"])
    unit_words = _alt(["الأسبوع", "الشهر", "العام", "السنة"], article=True)
    yesterday = _alt(["أمس", "الأمس", "البارحة", "الليلة الماضية", "ليلة أمس", "مساء أمس", "صباح أمس", "يوم أمس"],
                     article=True)
    return [
        (rf"{_AR_PRE}(?P<x>(?:{_alt(['يوم', 'مساء', 'صباح', 'ليلة', 'ليل', 'ظهر', 'فجر', 'عصر', 'ظهيرة'])} )?"
         rf"(?P<w>{_alt(words.AR_WEEKDAYS, article=True)})"
         rf"(?: (?P<q>{_alt(words.AR_PAST + words.AR_NEXT)}))?){_E}", weekday),
        (rf"{_AR_PRE}(?P<x>{_alt(['أول أمس', 'أول من أمس'])}){_E}", lambda m: _offset(-2)),
        (rf"{_AR_PRE}(?P<x>{yesterday}){_E}", lambda m: _offset(-1)),
        (rf"(?<!{_lit('ذلك')} ){_AR_PRE}(?P<x>{_alt(['اليوم'], article=True)}){_E}(?! {not_today}{_E})",
         lambda m: _offset(0)),
        (rf"{_AR_PRE}(?P<x>{_alt(['غدا', 'غدًا'])}){_E}", lambda m: _offset(1)),
        (rf"{_AR_PRE}(?P<x>{_alt(['بعد غد'])}){_E}", lambda m: _offset(2)),
        (rf"{_AR_PRE}(?P<x>(?P<u>{unit_words}) {qual}){_E}", unit),
        (rf"{_AR_PRE}(?P<x>(?P<q>{_alt(['هذا', 'هذه'])}) (?P<u>{unit_words})){_E}", unit),
        (rf"{_AR_PRE}(?P<x>{_alt(['قبل', 'منذ'])} (?:(?P<n>{_alt(words.AR_NUMBERS)}|[0-9]{{1,3}}) )?"
         rf"(?P<u>{_alt(words.AR_UNITS)})){_E}(?! ?[0-9])(?! {_alt(['من', 'على'])}{_E})", ago),
    ]


def _persian_named() -> list[tuple[str, _Handler]]:
    solar, greg = _table(words.FA_SOLAR), _table(words.FA_GREG)
    anymonth = _alt({**words.FA_SOLAR, **words.FA_GREG})
    year = rf"(?: {_lit('ماه')})?,? (?:{_lit('سال')} )?(?P<y>{_YS}|{_YG})"

    def month_year(m: re.Match[str], day: int | None) -> _Expr | None:
        y, key = int(m["y"]), _key(m["m"])
        if 1300 <= y < 1500 and key in solar:
            return _stated_date(y, solar[key], day, True)
        if 1900 <= y < 2100 and key in greg:
            return _stated_date(y, greg[key], day)
        return None

    def dm(m: re.Match[str]) -> _Expr | None:
        key = _key(m["m"])
        if key in solar:
            return _named(solar[key], int(m["d"]), _mode(m, "near"), True)
        return _named(greg[key], int(m["d"]), "near")

    def mq(m: re.Match[str]) -> _Expr:
        return _named(solar[_key(m["m"])], None, _mode(m, "near"), True)

    return [
        (rf"{_B}(?P<x>(?P<d>{_DD}) (?P<m>{anymonth}){year})", lambda m: month_year(m, int(m["d"]))),
        (rf"{_B}(?P<x>(?P<d>{_DD}) (?P<m>{anymonth})(?: {_lit('ماه')})?){_E}", dm),
        (rf"{_B}(?P<x>(?:{_lit('ماه')} )?(?P<m>{anymonth}){year})", lambda m: month_year(m, None)),
        (rf"{_B}(?P<x>(?P<m>{_alt(words.FA_SOLAR)})(?: {_lit('ماه')})? (?P<q>{_alt(['گذشته', 'آینده', 'امسال'])})){_E}",
         mq),
        (rf"{_B}(?P<x>{_lit('ماه')} (?P<m>{_alt(words.FA_SOLAR)})"
         rf"|(?P<m2>{_alt(words.FA_SOLAR_SAFE)}) {_lit('ماه')}){_E}",
         lambda m: _named(solar[_key(m["m"] or m["m2"])], None, "near", True)),
        (rf"{_B}(?P<x>{_alt(['سال', 'در', 'تا', 'از'])} (?P<y>{_YS}|{_YG}))(?! ?{_lit('ق')})",
         lambda m: _stated_date(int(m["y"]), None, None, 1300 <= int(m["y"]) < 1500)),
    ]


def _persian_relative() -> list[tuple[str, _Handler]]:
    numbers, units = _table(words.FA_NUMBERS), _table(words.FA_UNITS)

    def weekday(m: re.Match[str]) -> _Expr:
        wd, mode = _table(words.FA_WEEKDAYS)[_key(m["w"])], _mode(m, "bare")
        return _weekday_expr(wd, mode)

    def unit(m: re.Match[str]) -> _Expr:
        return _unit(units[_key(m["u"])], _mode(m, "this"), solar=True)

    def ago(m: re.Match[str]) -> _Expr:
        n = m["n"]
        return _ago(int(n) if n.isdigit() else numbers[_key(n)], units[_key(m["u"])])

    ezafe = "(?:ي)?"  # «هفته‌ی گذشته»: the ezafe ی joins the noun to its qualifier
    past_next = rf"(?P<q>{_alt(words.FA_PAST + words.FA_NEXT)})(?! {_lit('از')}{_E})"
    return [
        (rf"{_B}(?P<x>(?:{_lit('روز')} )?(?P<w>{_alt(words.FA_WEEKDAYS)}){ezafe}(?: {past_next})?){_E}", weekday),
        (rf"{_B}(?P<x>{_lit('پریروز')}){_E}", lambda m: _offset(-2)),
        (rf"{_B}(?P<x>{_alt(['دیروز', 'دیشب'])}){_E}", lambda m: _offset(-1)),
        (rf"{_B}(?P<x>{_alt(['امروز', 'امشب'])}){_E}", lambda m: _offset(0)),
        (rf"{_B}(?P<x>{_lit('فردا')}){_E}", lambda m: _offset(1)),
        (rf"{_B}(?P<x>{_lit('پس فردا')}){_E}", lambda m: _offset(2)),
        (rf"{_B}(?P<x>(?P<u>{_alt(words.FA_UNITS)}){ezafe} (?:{past_next}|(?P<t>{_alt(words.FA_THIS)}))){_E}",
         lambda m: _unit(units[_key(m["u"])], "this" if m["t"] else _mode(m, "this"), solar=True)),
        (rf"{_B}(?P<x>(?P<q>{_lit('این')}) (?P<u>{_alt(words.FA_UNITS)})){_E}", unit),
        (rf"{_B}(?P<x>{_lit('امسال')}){_E}", lambda m: _unit("y", "this", solar=True)),
        (rf"{_B}(?P<x>{_lit('پارسال')}){_E}", lambda m: _unit("y", "past", solar=True)),
        (rf"{_B}(?P<x>(?P<n>{_alt(words.FA_NUMBERS)}|[0-9]{{1,3}}) (?P<u>{_alt(words.FA_UNITS)}) "
         rf"{_alt(['پیش', 'قبل'])})"
         rf"{_E}(?! {_lit('از')}{_E})", ago),
    ]


def _english() -> list[tuple[str, _Handler]]:
    months = {**words.EN_MONTHS, **words.EN_ABBR}
    mon = rf"(?P<m>{_alt(months)})\.?"
    full = rf"(?P<m>{_alt([k for k in words.EN_MONTHS if k != 'may'])})"  # "may" alone is the verb
    day = rf"(?P<d>{_DD})(?:st|nd|rd|th)?"
    year = rf"(?P<y>{_YG})"
    units = words.EN_UNITS

    def month(m: re.Match[str]) -> int:
        return months[m["m"]]

    def weekday(m: re.Match[str]) -> _Expr:
        wd, mode = words.EN_WEEKDAYS[m["w"]], _mode(m, "bare")
        return _weekday_expr(wd, mode)

    def ago(m: re.Match[str]) -> _Expr:
        n = m["n"]
        return _ago(int(n) if n.isdigit() else words.EN_NUMBERS[n], units[m["u"]])

    return [
        (rf"{_B}(?P<x>{mon} {day},? {year})", lambda m: _stated_date(int(m["y"]), month(m), int(m["d"]))),
        (rf"{_B}(?P<x>{day} (?:of )?{mon},? {year})", lambda m: _stated_date(int(m["y"]), month(m), int(m["d"]))),
        (rf"{_B}(?P<x>{mon} {day}){_E}", lambda m: _named(month(m), int(m["d"]), "near")),
        (rf"{_B}(?P<x>{day} (?:of )?{mon}){_E}", lambda m: _named(month(m), int(m["d"]), "near")),
        (rf"{_B}(?P<x>{mon},? (?:of )?{year})", lambda m: _stated_date(int(m["y"]), month(m), None)),
        (rf"{_B}(?P<x>(?P<q>last|next|this) {full}){_E}", lambda m: _named(month(m), None, _mode(m, "near"))),
        (rf"{_B}(?P<x>(?:in|since|until|by|during|early|late|mid-?|end of) {full}){_E}(?!,? (?:of )?[0-9])",
         lambda m: _named(month(m), None, "near")),
        (rf"{_B}(?P<x>(?:in|since|by|until|during|early|late|mid-?|end of|year|from|through|before the end of) "
         rf"{year})", lambda m: _stated_date(int(m["y"]), None, None)),
        (rf"{_B}(?P<x>(?:(?:(?P<q>last|next|this past|this coming)|on) )?(?P<w>{_alt(words.EN_WEEKDAYS)})"
         rf"(?: (?:morning|afternoon|evening|night))?){_E}", weekday),
        (rf"{_B}(?P<x>the day before yesterday){_E}", lambda m: _offset(-2)),
        (rf"{_B}(?P<x>yesterday|last night){_E}", lambda m: _offset(-1)),
        (rf"{_B}(?P<x>today|tonight|this (?:morning|afternoon|evening)){_E}", lambda m: _offset(0)),
        (rf"{_B}(?P<x>the day after tomorrow){_E}", lambda m: _offset(2)),
        (rf"{_B}(?P<x>tomorrow){_E}", lambda m: _offset(1)),
        (rf"{_B}(?P<x>(?P<q>last|next|this|earlier this|later this) (?P<u>week|month|year)){_E}",
         lambda m: _unit(units[m["u"]], _mode(m, "this"))),
        (rf"{_B}(?P<x>(?P<n>{_alt(words.EN_NUMBERS)}|[0-9]{{1,3}}) (?P<u>{_alt(units)}) ago){_E}", ago),
    ]


@functools.cache
def _patterns(language: str) -> tuple[tuple[re.Pattern[str], _Handler], ...]:
    builders = {"ar": (_arabic_named, _arabic_relative), "fa": (_persian_named, _persian_relative),
                "en": (_english,)}.get(language, ())
    found = _numeric(language) + [pattern for build in builders for pattern in build()]
    return tuple((re.compile(p), h) for p, h in found)


# ---------------------------------------------------------------- resolving


def _cover(lo: dt.date, hi: dt.date, precision: int) -> str | None:
    """The most precise partial ISO date that contains every day from lo to hi."""
    if lo.year != hi.year:
        return None
    if precision < _MONTH or lo.month != hi.month:
        return f"{lo.year:04d}"
    if precision < _DAY or lo != hi:
        return f"{lo.year:04d}-{lo.month:02d}"
    return lo.isoformat()


_PARTIAL = re.compile(r"[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?")


def _check_partial(value: str, what: str) -> None:
    if not _PARTIAL.fullmatch(value):
        raise ValueError(f"{what} is not a partial ISO date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")
    dates.earliest(value)  # a real day (no 2023-02-29)


def _evaluate(expr: _Expr, reference: str | None) -> tuple[str | None, _Interval | None]:
    if not expr.computed:
        span = expr.rule(None)
        return (None, None) if span is None else (_cover(*span, expr.precision), span)
    if reference is None:
        return None, None
    day, last = dates.earliest(reference), dates.latest(reference)
    lo: dt.date | None = None
    hi: dt.date | None = None
    while day <= last:  # every day the reference may be: at most 366 cheap evaluations
        span = expr.rule(day)
        if span is not None:
            lo = span[0] if lo is None else min(lo, span[0])
            hi = span[1] if hi is None else max(hi, span[1])
        day += dt.timedelta(days=1)
    if lo is None or hi is None:
        return None, None
    return _cover(lo, hi, expr.precision), (lo, hi)


def _same_day(weekday: _Expr, date: _Expr) -> bool:
    """Whether a weekday agrees with the written date after it (unknown for a computed date: assume so)."""
    span = None if date.computed else date.rule(None)
    return span is None or weekday.rule(span[0]) == span


def resolve_all(quote: str, reference: str | None, language: str) -> list[Resolution]:
    """Every date expression in ``quote``, in reading order (see the module docstring); read once per text."""
    return list(_resolved(quote, reference, language))


@functools.lru_cache(maxsize=4096)  # the date check and the statement check read the same quotes
def _resolved(quote: str, reference: str | None, language: str) -> tuple[Resolution, ...]:
    if reference is not None:
        _check_partial(reference, "reference")
    folded = _fold(quote)
    lang = language.split("-")[0].split("_")[0].lower()
    candidates: list[tuple[int, int, _Expr]] = []
    for pattern, handler in _patterns(lang):
        for m in pattern.finditer(folded.text):
            expr = handler(m)
            if expr is not None:
                a, b = m.span("x") if "x" in pattern.groupindex else m.span()
                candidates.append((a, b, expr))
    # Longest match wins an overlap: «الأربعاء الماضي» over «الأربعاء», «عام 2014» over «2014».
    candidates.sort(key=lambda c: (c[0] - c[1], c[0]))
    kept: list[tuple[int, int, _Expr]] = []
    for a, b, expr in candidates:
        if all(b <= ka or a >= kb for ka, kb, _ in kept):
            kept.append((a, b, expr))
    kept.sort(key=lambda c: c[0])
    merged: list[tuple[int, int, _Expr]] = []
    for a, b, expr in kept:
        prev = merged[-1] if merged else None
        # "Friday 24 Azar 1402", «الاثنين 18 سبتمبر»: the weekday only names the day the date gives.
        if prev and prev[2].weekday and expr.precision == _DAY and not expr.weekday \
                and not folded.text[prev[1]:a].strip(" ,،-") and _same_day(prev[2], expr):
            merged[-1] = (prev[0], b, expr)
        else:
            merged.append((a, b, expr))
    out: list[Resolution] = []
    for a, b, expr in merged:
        start, end = folded.origin[a], folded.origin_end[b - 1]
        while end < len(quote) and unicodedata.combining(quote[end]):
            end += 1  # a trailing diacritic («غداً») belongs to the word as written
        date, span = _evaluate(expr, reference)
        if not expr.computed and span is None:
            continue  # an impossible written date
        out.append(Resolution(
            date=date,
            basis="computed" if expr.computed else "stated",
            expression=quote[start:end],
            start=start,
            end=end,
            earliest=span[0].isoformat() if span else None,
            latest=span[1].isoformat() if span else None,
        ))
    return tuple(out)


def resolve(quote: str, reference: str | None, language: str) -> Resolution | None:
    """The expression that dates the event: the first in reading order; None if there is none."""
    found = resolve_all(quote, reference, language)
    return found[0] if found else None


def supports(claimed: str, quote: str, reference: str | None, language: str) -> tuple[str | None, str]:
    """``claimed`` cut back to the precision the quote supports, and the basis (see the module docstring)."""
    _check_partial(claimed, "claimed date")
    c_lo, c_hi = dates.earliest(claimed), dates.latest(claimed)
    best: tuple[int, int, str, str] | None = None
    for res in resolve_all(quote, reference, language):
        if res.date is None or res.earliest is None or res.latest is None:
            continue
        if c_hi < dt.date.fromisoformat(res.earliest) or c_lo > dt.date.fromisoformat(res.latest):
            continue  # the text says something else
        precision = min(claimed.count("-"), res.date.count("-")) + 1
        cut = "-".join(claimed.split("-")[:precision])
        rank = (precision, 1 if res.basis == "stated" else 0)
        if best is None or rank > best[:2]:
            best = (*rank, cut, res.basis)
    return (None, "outside") if best is None else (best[2], best[3])
