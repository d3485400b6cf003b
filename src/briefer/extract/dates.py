"""Partial ISO dates ("2024", "2024-09", "2024-09-27"): ordering and ranges."""

from __future__ import annotations

import calendar
import datetime as dt


def parts(value: str) -> tuple[int, int, int]:
    """Sort key: a year sorts before its months, a month before its days."""
    bits = [int(b) for b in value.split("-")]
    return (bits[0], bits[1] if len(bits) > 1 else 0, bits[2] if len(bits) > 2 else 0)


def earliest(value: str) -> dt.date:
    y, m, d = parts(value)
    return dt.date(y, m or 1, d or 1)


def latest(value: str) -> dt.date:
    y, m, d = parts(value)
    m = m or 12
    return dt.date(y, m, d or calendar.monthrange(y, m)[1])
