"""From a folder of files to cleaned `Article`s. Never calls a model.

Cleaning is deterministic and conservative: it removes lines that are scraping noise
(tracking tokens, repeated headlines, category/date chrome, navigation, site footers)
and keeps every line of the article body as written. The original bytes stay on disk;
`Article.raw_text` keeps the decoded original for grounding and inspection.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .models import CleaningStats

SUPPORTED_SUFFIXES = (".txt", ".md")

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
# A paragraph of body text ends with sentence punctuation (possibly followed by a closing quote).
_TERMINAL = re.compile(r"[.!?؟…]['\"”’»)\]]*$|['\"”’»]$")
# Trailing lines shorter than this, without terminal punctuation, are page chrome.
_CHROME_MAX_WORDS = 20


@dataclass(frozen=True)
class Article:
    """One cleaned article, ready for extraction."""

    id: str
    source_path: str
    content_sha256: str
    raw_text: str
    title: str
    paragraphs: tuple[str, ...]
    dateline: str | None = None
    removed: tuple[str, ...] = ()

    @property
    def clean_text(self) -> str:
        return "\n\n".join((self.title, *self.paragraphs))

    @property
    def cleaning(self) -> CleaningStats:
        # Line breaks are layout, not content: count characters without them on both sides.
        raw = len(self.raw_text) - self.raw_text.count("\n")
        kept = len(self.title) + sum(len(p) for p in self.paragraphs)
        return CleaningStats(raw_chars=raw, clean_chars=kept, removed_chars=raw - kept, removed_lines=len(self.removed))


@dataclass
class Folder:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)


@dataclass(frozen=True)
class Cleaned:
    title: str
    paragraphs: tuple[str, ...]
    dateline: str | None
    removed: tuple[str, ...]


def article_id(path: Path) -> str:
    """A stable, file-system-safe id from the file name."""
    stem = re.sub(r"[^\w.-]+", "-", path.stem, flags=re.UNICODE).strip("-.")
    return stem or "article"


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM); anything else is an input error for now."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _words(line: str) -> int:
    return len(line.split())


def _is_chrome_tail(line: str) -> bool:
    """Lines after the body: short labels, navigation, footers, lone punctuation."""
    if _FOOTER.search(line) or _IMAGE_NAV.match(line):
        return True
    if not any(ch.isalnum() for ch in line):
        return True
    return _words(line) <= _CHROME_MAX_WORDS and not _TERMINAL.search(line)


def clean(text: str) -> Cleaned:
    """Split into headline and body paragraphs, removing scraping noise."""
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InputError("empty after cleaning")
    title, rest = lines[0], lines[1:]
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
        raise InputError("no article body after cleaning")
    return Cleaned(title=title, paragraphs=tuple(kept), dateline=dateline, removed=tuple(removed))


def load_article(path: Path, root: Path) -> Article:
    data = path.read_bytes()
    rel = path.relative_to(root).as_posix()
    text = decode(data, rel)
    if not text.strip():
        raise InputError("empty file")
    c = clean(text)
    return Article(
        id=article_id(path),
        source_path=rel,
        content_sha256=hashlib.sha256(data).hexdigest(),
        raw_text=text,
        title=c.title,
        paragraphs=c.paragraphs,
        dateline=c.dateline,
        removed=c.removed,
    )


def _candidates(root: Path) -> Iterable[Path]:
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        yield path


def read_folder(root: Path) -> Folder:
    """Read every supported file in `root`; everything else is listed as skipped with a reason."""
    if not root.exists():
        raise InputError(f"{root}: no such folder")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    folder = Folder()
    ids: set[str] = set()
    for path in _candidates(root):
        rel = path.name
        if path.is_dir():
            folder.skipped.append((rel, "folder (nested folders are not read)"))
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            folder.skipped.append((rel, f"unsupported file type '{path.suffix or '(none)'}' (supported: .txt, .md)"))
            continue
        try:
            article = load_article(path, root)
        except InputError as exc:
            folder.skipped.append((rel, str(exc)))
            continue
        except OSError as exc:
            folder.skipped.append((rel, f"unreadable: {exc.strerror or exc}"))
            continue
        if article.id in ids:
            folder.skipped.append((rel, f"another file has the same id '{article.id}'"))
            continue
        ids.add(article.id)
        folder.articles.append(article)
    return folder
