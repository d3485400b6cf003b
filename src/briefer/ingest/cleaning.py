"""Cleaning an article's text: scraping noise out, every body line kept as written.

Deterministic and conservative: it removes lines that are scraping noise (tracking tokens,
repeated headlines, category/date chrome, "read also" links, image navigation, site footers,
the next page's chrome) and keeps every other line as written, with no Unicode normalisation.
Also: cutting long text at a paragraph break, and estimating tokens before and after cleaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from briefer.errors import InputError

# A lone token of base64/hex-like characters: tracking ids pasted in by scrapers.
_TRACKING = re.compile(r"^[A-Za-z0-9+/_-]{24,}={0,2}$")
# "Category |  12:13 - 18/02/2024": a category label glued to a time/date stamp.
_DATELINE = re.compile(
    r"^(?P<label>[^|\d]{0,40})\|\s*(?P<stamp>(?:\d{1,2}:\d{2}\s*[-–]\s*)?(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}))\s*$"
)
# Navigation made of image placeholders ("image image image", "صورة صورة").
_IMAGE_NAV = re.compile(r"^(?:(?:image|img|photo|صورة)\s*)+$", re.IGNORECASE)
# "Read also: <link title>" lines inside the body.
_READ_ALSO = re.compile(
    r"^(?:اقرأ|إقرأ|اقرا)\s+(?:أيضًا|أيضا|ايضا|أيضاً)\s*[:：]|^(?:read|see)\s+(?:also|more)\s*:", re.IGNORECASE
)
# Footer lines that are chrome wherever they stand at the end.
_FOOTER = re.compile(r"©|copyright|all rights reserved|جميع الحقوق محفوظة", re.IGNORECASE)
# A paragraph of body text ends with sentence punctuation (possibly followed by a closing quote),
# Latin, Arabic, Urdu or CJK (full-width) alike.
_TERMINAL = re.compile(r"[.!?؟…。！？۔]['\"”’»)\]」』）]*$|['\"”’»」』]$")
# Trailing lines shorter than this, without terminal punctuation, are page chrome.
_CHROME_MAX_WORDS = 20

# Token estimate, per character: Latin script (ASCII and accented Latin) ~4 characters a token; other
# alphabets (Arabic, Persian, Hebrew, Cyrillic, Greek, Indic, ...) ~3; Chinese, Japanese and Korean ~1.
@dataclass(frozen=True)
class TokenEstimate:
    raw: int  # estimated tokens of the text as read
    clean: int  # estimated tokens after cleaning (headline and paragraphs)

    @property
    def removed(self) -> int:
        return self.raw - self.clean


@dataclass(frozen=True)
class Cleaned:
    title: str
    paragraphs: tuple[str, ...]
    dateline: str | None
    removed: tuple[str, ...]


def _words(line: str) -> int:
    return len(line.split())


def _is_chrome_tail(line: str) -> bool:
    """Lines after the body: short labels, navigation, footers, lone punctuation."""
    if _FOOTER.search(line) or _IMAGE_NAV.match(line):
        return True
    if not any(ch.isalnum() for ch in line):
        return True
    return _words(line) <= _CHROME_MAX_WORDS and not _TERMINAL.search(line)


def clean(text: str, title: str | None = None) -> Cleaned:
    """Split into headline and body paragraphs, removing scraping noise.

    The headline is the first line, unless `title` (from a page's or record's metadata) is given.
    """
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    if title is None:
        if not lines:
            raise InputError("empty after cleaning")
        title, rest = lines[0], lines[1:]
    else:
        rest = lines
    removed: list[str] = []
    dateline: str | None = None
    kept: list[str] = []
    seen = {title}
    for line in rest:
        m = _DATELINE.match(line)
        if m and dateline is None:
            dateline = m.group("stamp")
            removed.append(line)
        elif line in seen or _TRACKING.match(line) or _IMAGE_NAV.match(line) or _READ_ALSO.match(line):
            removed.append(line)
        else:
            seen.add(line)
            kept.append(line)
    tail: list[str] = []
    while kept and _is_chrome_tail(kept[-1]):
        tail.append(kept.pop())
    removed.extend(reversed(tail))
    if not kept:
        if not removed:
            raise InputError("no article body after cleaning: nothing but a headline")
        raise InputError(f"nothing but boilerplate: no article body after cleaning ({len(removed)} line"
                         f"{'s' if len(removed) != 1 else ''} of page chrome removed)")
    return Cleaned(title=title, paragraphs=tuple(kept), dateline=dateline, removed=tuple(removed))


def truncate(text: str, max_chars: int, headline: bool = False) -> str:
    """At most `max_chars` characters of `text`, cut after the last whole paragraph (line) that fits. With
    `headline` (the first line is the headline), a cut that would keep the headline alone cuts inside the
    overlong paragraph after it instead: an article is never cut down to its headline."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars + 1)
    if cut <= 0 or (headline and "\n" not in text[:cut].strip()):
        # One paragraph longer than what is left: cut inside it, after a sentence, else between words.
        head = text[:max_chars + 1]
        start = max(cut, 0)
        ends = [m.end() for m in re.finditer(r"[.!?؟…。！？۔]['\"”’»)\]」』）]*(?=\s)", head) if m.end() > start]
        cut = ends[-1] if ends else max(head.rfind(" "), start) or max_chars
        if cut <= start:
            cut = max_chars
    return text[:cut].rstrip()
