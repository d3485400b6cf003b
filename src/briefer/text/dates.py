"""Partial ISO dates ("2024", "2024-09", "2024-09-27"): ordering, ranges and display."""

from __future__ import annotations

import calendar
import datetime as dt


def parts(value: str) -> tuple[int, int, int]:
    """The date's year, month and day; 0 for a part the date does not give."""
    bits = [int(b) for b in value.split("-")]
    return (bits[0], bits[1] if len(bits) > 1 else 0, bits[2] if len(bits) > 2 else 0)


def precision(value: str) -> int:
    """1 for a year, 2 for a month, 3 for a day."""
    return value.count("-") + 1


def earliest(value: str) -> dt.date:
    y, m, d = parts(value)
    return dt.date(y, m or 1, d or 1)


def latest(value: str) -> dt.date:
    y, m, d = parts(value)
    m = m or 12
    return dt.date(y, m, d or calendar.monthrange(y, m)[1])


def timeline_key(value: str) -> tuple[dt.date, int]:
    """Order of a timeline: a partial date sorts at the end of its span, after the full dates it
    contains ("2021-06-30" < "2021-06" < "2021-12-31" < "2021-12" < "2021")."""
    return latest(value), -precision(value)


def contains(outer: str, inner: str) -> bool:
    """True when every day `inner` can be is within `outer` ("2024-09" contains "2024-09-27" and itself)."""
    return inner == outer or inner.startswith(outer + "-")


def cut(value: str, to: int) -> str:
    """The date cut back to `to` parts (1 year, 2 month, 3 day); never made more precise."""
    return "-".join(value.split("-")[:to])


def show(value: str) -> str:
    """A date as what it is, for people: "2024-09-16", "September 2024", "2021"."""
    y, m, d = parts(value)
    if d or not m:
        return value
    return f"{calendar.month_name[m]} {y}"
