"""The Solar Hijri (Persian) calendar: conversion to and from Gregorian dates.

Uses the break-year table of the jalaali algorithm (Borkowski; as in jalaali-js / jalaali-python),
exact for years 1-3177 AP: the 33-year leap cycle is corrected at each listed break year, and the
Gregorian day of Nowruz follows from the leap counts of both calendars.
"""

from __future__ import annotations

import datetime as dt

_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394,
           2456, 3178)


def farvardin_first(jy: int) -> dt.date:
    """Gregorian date of 1 Farvardin (Nowruz) of Solar Hijri year ``jy``."""
    if not 1 <= jy < _BREAKS[-1]:
        raise ValueError(f"Solar Hijri year out of range: {jy}")
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += jump // 33 * 8 + jump % 33 // 4
        jp = jm
    n = jy - jp
    leap_j += n // 33 * 8 + (n % 33 + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gy // 4 - (gy // 100 + 1) * 3 // 4 - 150
    return dt.date(gy, 3, 20 + leap_j - leap_g)


def jalali_to_gregorian(jy: int, jm: int, jd: int) -> dt.date:
    """Convert a Solar Hijri date (e.g. 1402-09-24) to the Gregorian date (2023-12-15)."""
    start, end = jalali_month(jy, jm)
    day = start + dt.timedelta(days=jd - 1)
    if not 1 <= jd or day > end:
        raise ValueError(f"no day {jd} in Solar Hijri month {jy}-{jm}")
    return day


def jalali_month(jy: int, jm: int) -> tuple[dt.date, dt.date]:
    """First and last Gregorian day of a Solar Hijri month; months past 12 roll into the next year."""
    jy, jm = jy + (jm - 1) // 12, (jm - 1) % 12 + 1
    first = farvardin_first(jy) + dt.timedelta(days=(jm - 1) * 31 - (jm // 7) * (jm - 7))
    last = farvardin_first(jy + 1) - dt.timedelta(days=1) if jm == 12 else first + dt.timedelta(
        days=(31 if jm <= 6 else 30) - 1)
    return first, last


def gregorian_to_jalali(day: dt.date) -> tuple[int, int, int]:
    """The Solar Hijri (year, month, day) of a Gregorian date."""
    jy = day.year - 621
    if day < farvardin_first(jy):
        jy -= 1
    off = (day - farvardin_first(jy)).days
    if off < 186:
        return jy, off // 31 + 1, off % 31 + 1
    return jy, (off - 186) // 30 + 7, (off - 186) % 30 + 1
