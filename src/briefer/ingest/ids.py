"""Article ids: a pure function of the file's path relative to FOLDER, never of the other files.

An id names `articles/<id>.json`, `failed/<id>.txt` and the recordings `<stage>/<id>.json`, so it
must stay the same when files are added or removed (a renamed id misses its cached answer and
overwrites another article's output), be safe as a file name, and be short enough that
`<id>.json` and the temporary name beside it fit in any file system's name limit.

Two forms, and no path yields the other form's ids:

- **plain**, for simple names: the relative path with '/' written as '__' and a final `.txt`
  dropped, so `000_6f0ae3a4b7243325.txt` is `000_6f0ae3a4b7243325`, `visit.html` is `visit.html` and
  `sub/a.txt` is `sub__a`. Only when every part is a plain word (letters in any script, digits,
  '_', '-' and '.' inside), no part holds '__', the id is at most `PLAIN_BYTES` long in UTF-8, and
  nothing about it looks like another form (a `.txt` stem ending in a supported suffix or in a
  record number after `.json`, or any id ending in the hash form below);
- **hashed**, for everything else: a slug of the path (at most `SLUG_BYTES`), '-', and the first
  `HASH_CHARS` hex digits of the SHA-256 of the path (`a b.md` → `a-b.md-3f0c…`). A file name that is
  not valid UTF-8 is hashed as ingest shows it, with `\\x` escapes.

A feed's records are `<feed id>-<record number>`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath

PLAIN_BYTES = 100
SLUG_BYTES = 80
HASH_CHARS = 10

_PLAIN_PART = re.compile(r"[^\W_](?:[\w.-]*[^\W_])?")
_HASHED_TAIL = re.compile(rf"-[0-9a-f]{{{HASH_CHARS}}}(?:-\d+)?$")
_LOOKS_SUFFIXED = re.compile(r"\.(?:txt|md|html?|jsonl?)$|\.jsonl?-\d+$", re.IGNORECASE)


def article_id(rel: str | PurePath) -> str:
    """The id of the file at `rel`, its path relative to FOLDER (a string in POSIX form, or a path)."""
    text = rel.as_posix() if isinstance(rel, PurePath) else rel
    return _plain(text) or _hashed(text)


def record_id(feed_id: str, number: int) -> str:
    return f"{feed_id}-{number}"


def _plain(rel: str) -> str | None:
    parts = rel.split("/")
    name = parts[-1]
    stem = name[:-4] if name.endswith(".txt") else name
    if not all(_is_word(p) for p in (*parts[:-1], stem)):
        return None
    if name.endswith(".txt") and _LOOKS_SUFFIXED.search(stem):
        return None  # `a.md.txt` would read as `a.md`, `a.json-1.txt` as record 1 of `a.json`
    candidate = "__".join((*parts[:-1], stem))
    if _HASHED_TAIL.search(candidate) or len(candidate.encode("utf-8")) > PLAIN_BYTES:
        return None
    return candidate


def _is_word(part: str) -> bool:
    # Letters or digits at both ends; '_', '-', '.' allowed inside, but never '__' (the folder separator).
    return bool(_PLAIN_PART.fullmatch(part)) and "__" not in part and part.isprintable()


def _hashed(rel: str) -> str:
    digest = hashlib.sha256(rel.encode("utf-8", "surrogateescape")).hexdigest()[:HASH_CHARS]
    slug = re.sub(r"[^\w.-]+", "-", rel.replace("/", "__")).strip("-._")
    slug = _cut_utf8(slug, SLUG_BYTES).rstrip("-._") or "article"
    return f"{slug}-{digest}"


def _cut_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")
