"""From a folder of files to cleaned `Article`s. Never calls a model.

What is read (`read_folder`):

- `.txt` and `.md`: text in UTF-8 (with or without BOM), UTF-16/32 with BOM, or a legacy code page
  that `decode.py` can tell with confidence (windows-1256, windows-1251, ISO-8859-x, ...).
- `.html` / `.htm`: the page's main text and its title, date, site and URL (`formats.py`, trafilatura).
- `.json` / `.jsonl`: feeds, one article per record, ids `<file id>-<record number>`.

Everything else is listed in `Folder.skipped` with a one-line reason: other file types, empty and
whitespace-only files, binary files, text in an encoding that cannot be told, files with nothing but
boilerplate, unreadable files, broken symbolic links, special files, nested folders (unless
`recursive`), and a second copy of content already read ("same content as <path>"). Hidden files
and folders (a leading '.') are ignored. Memory stays bounded: a text file is read only as far as
`max_chars` characters can reach (its hash is computed in chunks); longer text is cut at a paragraph
break and the cut is recorded (`Article.truncated`, `Folder.notes`). HTML pages and .json feeds are
refused above `MAX_HTML_BYTES` / `MAX_JSON_BYTES`; JSON Lines feeds are streamed line by line.

Cleaning (`cleaning.py`) keeps every line of the article body as written. The original bytes stay
on disk; `Article.raw_text` keeps the decoded original for grounding and inspection (for an HTML
page, the page; for a feed record, its title and text as the feed gives them).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefer.errors import InputError
from briefer.models import CleaningStats
from briefer.terminal import shown
from briefer.text.tokens import estimate_tokens

from .cleaning import Cleaned, TokenEstimate, clean, truncate
from .decode import Decoded, decode_bytes
from .formats import Doc, Record, front_matter, front_matter_doc, html_document, json_records, jsonl_records, page_date
from .ids import article_id, record_id

__all__ = ["Article", "Cleaned", "Folder", "TokenEstimate", "article_id", "clean", "read_folder", "truncate"]

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
FEED_SUFFIXES = (".json", ".jsonl")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + FEED_SUFFIXES
DEFAULT_MAX_CHARS = 200_000  # characters of article text kept per article
MAX_TITLE_CHARS = 2_000  # a headline longer than this is cut (and noted)
OPENING_TITLE_CHARS = 200  # the headline of a text without one: its opening words
MAX_DATELINE_CHARS = 200  # a "date" longer than this is no date: ignored (and noted)
MAX_HTML_BYTES = 10 * 2**20  # an HTML page is parsed whole
MAX_JSON_BYTES = 16 * 2**20  # a .json feed is parsed whole (.jsonl is streamed)
_CHUNK = 2**20


@dataclass(frozen=True)
class Article:
    """One cleaned article, ready for extraction."""

    id: str
    source_path: str
    content_sha256: str  # of the file's bytes; for a feed record, of the record's JSON text
    raw_text: str
    title: str
    paragraphs: tuple[str, ...]
    dateline: str | None = None  # from the text, or the page's / record's own date as found
    removed: tuple[str, ...] = ()
    encoding: str = "utf-8"  # how the file was decoded (Python codec name)
    url: str | None = None  # HTML metadata, feed record or front matter
    site: str | None = None  # site name (HTML metadata) or source (feed record)
    canonical_url: str | None = None  # a page's <link rel=canonical>, a record's or front matter's canonical_url
    site_name: str | None = None  # the outlet's name as the file gives it (og:site_name, a feed's, front matter's)
    page_title: str | None = None  # the file's own title (a page's <title>), beside the model's headline
    page_date: str | None = None  # the file's own publication date (ISO where it reads as one)
    author: str | None = None  # the record's (a fetched feed item's author)
    truncated: bool = False  # the text was cut at a paragraph break to max_chars
    record: int | None = None  # 1-based record number in a JSON / JSON Lines feed

    @property
    def clean_text(self) -> str:
        return "\n\n".join((self.title, *self.paragraphs))

    @property
    def cleaning(self) -> CleaningStats:
        # Line breaks are layout, not content: count characters without them on both sides.
        raw = len(self.raw_text) - self.raw_text.count("\n")
        kept = len(self.title) + sum(len(p) for p in self.paragraphs)
        tokens = self.tokens
        return CleaningStats(raw_chars=raw, clean_chars=kept, removed_chars=raw - kept, removed_lines=len(self.removed),
                             removed_text=list(self.removed), raw_tokens_est=tokens.raw, clean_tokens_est=tokens.clean)

    @property
    def tokens(self) -> TokenEstimate:
        """Estimated tokens before and after cleaning (see `estimate_tokens`); like `cleaning`, without line breaks."""
        return TokenEstimate(raw=estimate_tokens(self.raw_text.replace("\n", "")),
                             clean=estimate_tokens("".join((self.title, *self.paragraphs))))


@dataclass
class Folder:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    # Syndicated copies set aside before any model call (fetch/copies.py): chosen article id -> its copies,
    # and each copy's id -> its similarity to the chosen one. Empty as ingest reads a folder.
    copies: dict[str, tuple[Article, ...]] = field(default_factory=dict)
    similarity: dict[str, float] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (relative path, what was done): truncation, guesses


def read_folder(root: Path, *, recursive: bool = False, max_chars: int = DEFAULT_MAX_CHARS,
                follow_links: bool = False) -> Folder:
    """Read every supported file in `root` (and its subfolders if `recursive`).

    Everything that is not read is listed in `skipped` with a one-line reason; truncations and
    guessed encodings are listed in `notes`. Symbolic links that lead out of `root` are read only
    with `follow_links`.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if not root.exists():
        raise InputError(f"{root}: no such folder")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    reader = _Reader(root, recursive, max_chars, follow_links, Path(os.path.realpath(root)))
    reader.walk(root)
    return reader.folder


@dataclass
class _Reader:
    root: Path
    recursive: bool
    max_chars: int
    follow_links: bool
    real_root: Path
    folder: Folder = field(default_factory=Folder)
    ids: set[str] = field(default_factory=set)
    by_bytes: dict[str, str] = field(default_factory=dict)  # sha256 of a file's bytes -> its path
    by_text: dict[str, str] = field(default_factory=dict)  # sha256 of an article's clean text -> where

    def walk(self, root: Path) -> None:
        # Iterative, depth first in sorted order: a tree thousands of folders deep is no recursion limit.
        stack = [self.entries(root)]
        while stack:
            path = next(stack[-1], None)
            if path is None:
                stack.pop()
                continue
            if path.name.startswith("."):
                continue
            rel = self.rel(path)
            try:
                if (sub := self.entry(path, rel)) is not None:
                    stack.append(self.entries(sub))
            except Exception as exc:  # one bad entry is that entry's skip reason, never the run's end
                self.skip(rel, _failed(exc))

    def entries(self, directory: Path) -> Iterator[Path]:
        try:
            return iter(sorted(directory.iterdir()))
        except OSError as exc:
            self.skip(self.rel(directory), f"unreadable folder: {exc.strerror or exc}")
            return iter(())

    def entry(self, path: Path, rel: str) -> Path | None:
        """Read or skip one entry; a folder to walk into is returned."""
        if path.is_symlink():
            target = os.readlink(path)
            if not path.exists():
                self.skip(rel, f"broken symbolic link (its target '{shown(target)}' does not exist)")
                return None
            if not self.follow_links and not _inside(Path(os.path.realpath(path)), self.real_root):
                self.skip(rel, f"symbolic link leading out of the folder (to '{shown(target)}'): not followed "
                               "(--follow-links reads it)")
                return None
        if path.is_dir():
            if not self.recursive:
                self.skip(rel, "folder (nested folders are read only with --recursive)")
            elif path.is_symlink():
                self.skip(rel, "symbolic link to a folder (not followed)")
            else:
                return path
            return None
        self.file(path, rel)
        return None

    def rel(self, path: Path) -> str:
        """The path relative to FOLDER, as shown: bytes that are not UTF-8 as \\x escapes (see `_shown`)."""
        return shown(path.relative_to(self.root).as_posix())

    def skip(self, rel: str, reason: str) -> None:
        self.folder.skipped.append((rel, reason))

    def file(self, path: Path, rel: str) -> None:
        suffix = path.suffix.lower()
        if path.name.lower() == "aliases.toml":  # a common slip: the alias file is read from beside the folder
            self.skip(rel, "an alias file is not an article, and is read from beside the folder, not inside it: "
                           "move it next to the folder, or give --aliases")
            return
        if suffix not in SUPPORTED_SUFFIXES:
            self.skip(rel, f"unsupported file type '{path.suffix or '(none)'}' "
                           f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
            return
        mark = len(self.folder.notes)
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"not a regular file ({_kind(info.st_mode)})")
            if info.st_size == 0:
                raise InputError("empty file (0 bytes)")
            if suffix in TEXT_SUFFIXES:
                self.text_file(path, rel)
            elif suffix in HTML_SUFFIXES:
                self.html_file(path, rel, info.st_size)
            else:
                self.feed_file(path, rel, info.st_size)
        except InputError as exc:
            self.skip(rel, str(exc))
            del self.folder.notes[mark:]  # notes are about articles read
        except OSError as exc:
            self.skip(rel, f"unreadable: {exc.strerror or exc}")
            del self.folder.notes[mark:]
        except Exception as exc:  # whatever else one file does, it is that file's skip reason
            self.skip(rel, _failed(exc))
            del self.folder.notes[mark:]

    def text_file(self, path: Path, rel: str) -> None:
        head, sha, size = self.read(path, rel, self.max_chars * 4 + 4)  # no character takes more than 4 bytes
        decoded = decode_bytes(head, final=len(head) == size)
        self.note_encoding(rel, decoded)
        if not decoded.text.strip():
            raise InputError("empty file")
        text, truncated = self.cut(decoded.text, rel, f"a {_size(size)} file" if len(head) < size else None)
        fm = front_matter(text) if path.suffix.lower() == ".md" else None
        if fm is not None:  # the front matter is the file's metadata, not the article: the text after it is
            doc = front_matter_doc(*fm)
            if not doc.text.strip():
                raise InputError("no article text after the front matter")
            article = self.from_doc(doc, rel, sha, text, decoded.encoding, article_id(rel), cut=False)
            self.add(replace(article, truncated=truncated), rel)
            return
        first = text.lstrip().split("\n", 1)[0].strip()
        if len(first) > MAX_TITLE_CHARS or (truncated and "\n" not in text.strip()):
            # One long line (cut, or longer than any headline) is the article's text, not a headline without
            # a body: it stays the body, and the headline is its beginning.
            c = clean(text, title=truncate(first, OPENING_TITLE_CHARS))
        else:
            c = clean(text)
        title, dateline = self.bounded(c.title, c.dateline, rel)
        self.add(Article(id=article_id(rel), source_path=rel, content_sha256=sha, raw_text=text, title=title,
                         paragraphs=c.paragraphs, dateline=dateline, removed=c.removed,
                         encoding=decoded.encoding, truncated=truncated), rel)

    def html_file(self, path: Path, rel: str, size: int) -> None:
        if size > MAX_HTML_BYTES:
            raise InputError(f"too large for an HTML page: {_size(size)} (limit {_size(MAX_HTML_BYTES)})")
        data, sha, _ = self.read(path, rel, MAX_HTML_BYTES)
        decoded = decode_bytes(data)
        self.note_encoding(rel, decoded)
        if not decoded.text.strip():
            raise InputError("empty file")
        doc = html_document(decoded.text)
        self.add(self.from_doc(doc, rel, sha, decoded.text, decoded.encoding, article_id(rel)), rel)

    def feed_file(self, path: Path, rel: str, size: int) -> None:
        base = article_id(rel)
        if path.suffix.lower() == ".jsonl":
            _, sha, _ = self.read(path, rel, 0)  # hash only: the records are streamed below
            with path.open("rb") as stream:
                self.records(jsonl_records(stream, max(8 * self.max_chars, _CHUNK)), rel, base, "utf-8")
            return
        if size > MAX_JSON_BYTES:
            raise InputError(f"too large for a .json feed: {_size(size)} (limit {_size(MAX_JSON_BYTES)}); "
                             "split it, or write it as JSON Lines (.jsonl), which is read one record at a time")
        data, sha, _ = self.read(path, rel, MAX_JSON_BYTES)
        decoded = decode_bytes(data)
        self.note_encoding(rel, decoded)
        if not decoded.text.strip():
            raise InputError("empty file")
        self.records(json_records(decoded.text), rel, base, decoded.encoding)

    def records(self, records: Iterable[Record], rel: str, base: str, encoding: str) -> None:
        count = 0
        for record in records:
            count += 1
            where = f"{rel} (record {record.number})"
            mark = len(self.folder.notes)
            try:
                if record.doc is None:
                    raise InputError(record.problem or "no article")
                sha = hashlib.sha256(record.source.encode("utf-8")).hexdigest()
                self.add(self.from_doc(record.doc, rel, sha, record.raw, encoding, record_id(base, record.number),
                                       record=record.number, where=where), where)
            except InputError as exc:
                self.skip(rel, f"record {record.number}: {exc}")
                del self.folder.notes[mark:]
            except Exception as exc:
                self.skip(rel, f"record {record.number}: {_failed(exc)}")
                del self.folder.notes[mark:]
        if count == 0:
            raise InputError("no records in the feed")

    def from_doc(self, doc: Doc, rel: str, sha: str, raw: str, encoding: str, wanted_id: str,
                 record: int | None = None, where: str | None = None, cut: bool = True) -> Article:
        text, truncated = self.cut(doc.text, where or rel, headline=doc.title is None) if cut else (doc.text, False)
        c = clean(text, title=doc.title)
        title, dateline = self.bounded(c.title, doc.date or c.dateline, where or rel)
        return Article(id=wanted_id, source_path=rel, content_sha256=sha, raw_text=raw, title=title,
                       paragraphs=c.paragraphs, dateline=dateline, removed=c.removed, encoding=encoding,
                       url=_bounded_meta(doc.url), site=doc.site, canonical_url=_bounded_meta(doc.canonical_url),
                       site_name=_bounded_meta(doc.site_name), page_title=_bounded_meta(doc.page_title),
                       page_date=_bounded_meta(page_date(doc.date)), author=_bounded_meta(doc.author),
                       truncated=truncated, record=record)

    def read(self, path: Path, rel: str, limit: int) -> tuple[bytes, str, int]:
        """The first `limit` bytes, the SHA-256 of the whole file (read in chunks) and its size.

        A file whose bytes were already read under another name is refused here, before decoding.
        """
        digest = hashlib.sha256()
        with path.open("rb") as f:
            head = f.read(limit)
            digest.update(head)
            size = len(head)
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        if sha in self.by_bytes:
            raise InputError(f"same content as {self.by_bytes[sha]}")
        self.by_bytes[sha] = rel
        return head, sha, size

    def cut(self, text: str, where: str, whole_file: str | None = None, headline: bool = True
            ) -> tuple[str, bool]:
        """`text` cut to max_chars at a paragraph break, and whether it was cut (then noted).

        `whole_file` describes the file when only its beginning was read: then the text is cut anyway,
        since its last line may be a paragraph cut short.
        """
        kept = truncate(text, self.max_chars if whole_file is None else min(self.max_chars, len(text) - 1),
                        headline=headline)
        if len(kept) == len(text) and whole_file is None:
            return text, False
        of = whole_file or f"{len(text):,} characters"
        at = "up to a paragraph break" if text[len(kept):len(kept) + 1] in ("\n", "") or text[
            len(kept):].lstrip(" \t").startswith("\n") else "an overlong paragraph cut inside"
        self.folder.notes.append((where, f"truncated: kept the first {len(kept):,} characters ({at}) of {of}; "
                                         f"--max-chars is {self.max_chars:,}"))
        return kept, True

    def bounded(self, title: str, dateline: str | None, where: str) -> tuple[str, str | None]:
        """The headline and date line, bounded: they go into every request for the article, even one read in
        parts, so a headline of megabytes (a feed's title field, a file without line breaks) would make a
        request that cannot be split. A cut is noted, like the body's."""
        limit = min(MAX_TITLE_CHARS, self.max_chars)
        if len(title) > limit:
            kept = truncate(title, limit)
            self.folder.notes.append((where, f"headline cut to its first {len(kept):,} characters of "
                                             f"{len(title):,} (a headline is at most {limit:,})"))
            title = kept
        if dateline is not None and len(dateline) > MAX_DATELINE_CHARS:
            self.folder.notes.append((where, f"date field ignored: {len(dateline):,} characters is not a date"))
            dateline = None
        return title, dateline

    def note_encoding(self, rel: str, decoded: Decoded) -> None:
        if decoded.detected:
            also = f"; {', '.join(decoded.alternatives)} would read some letters differently" \
                if decoded.alternatives else ""
            self.folder.notes.append((rel, f"not UTF-8: decoded as {decoded.encoding} (detected){also}"))

    def add(self, article: Article, where: str) -> None:
        if article.id in self.ids:  # only if two paths' hashes collide: never silently overwrite
            raise InputError(f"its id '{article.id}' is taken by another file; rename one of them")
        key = hashlib.sha256(article.clean_text.encode("utf-8")).hexdigest()
        if key in self.by_text:
            raise InputError(f"same content as {self.by_text[key]}")
        self.by_text[key] = where
        self.ids.add(article.id)
        self.folder.articles.append(article)



MAX_META_CHARS = 2_000  # a URL, site name or title from a file's metadata longer than this is left out


def _bounded_meta(value: str | None) -> str | None:
    return value if value is not None and len(value) <= MAX_META_CHARS else None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _failed(exc: BaseException) -> str:
    """One line for an unexpected failure while reading one file."""
    if isinstance(exc, RecursionError):
        return "could not be read: nested too deeply"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"could not be read: {text[:200]}"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"
