"""A warm rerun's shortcut: an article's summary stored beside the cache with everything it derives from,
and reused only when all of that is unchanged.

Why reusing is safe: `summarize_article` is a deterministic function of
  - the article as read (every field of `Article`: its text, title, paragraphs, dateline, path, id),
  - the prompt templates, the endpoint's model, mode, generation parameters and --max-reasks,
    --max-input-tokens,
  - briefer's own code (every file of the package: extraction, grounding, date checks, the models) and the
    libraries that shape a request or a validation (Python, pydantic, pydantic-core, Jinja),
  - and the answers the gateway gives it.
The key hashes the first four. The record lists, in order, every answer the article's requests were given,
each by its cache key and a hash of the cache entry's bytes. A summary is stored only when every request of
the article was answered by the cache (no recording, no model call, no failure, no batch deferral; never with
--record, whose cache hits also write recordings). On a rerun with the same key, the same code makes the same
first request; its entry, byte for byte unchanged, gives the same answer and so the same grounding, hence the
same next request (a re-ask), whose entry is checked the same way, and so on: the summary is the one stored,
with every quote, date and name grounded exactly as the first time. Any change anywhere is a miss, and the
article is summarised as usual. A damaged or unreadable record is a miss too.

The record, `<cache-dir>/results/<key[:2]>/<key>.json`, is one JSON document whose first line holds the key and
the answers, and whose "summary" is the text `articles/<id>.json` holds: an unchanged output file is compared,
not rewritten, and nothing is serialised again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from briefer.files import atomic_write, read_regular
from briefer.ingest.folder import Article
from briefer.model.cache import MAX_ENTRY, ResponseCache, canonical_json, sha256_text
from briefer.model.tape import Answered, Tape
from briefer.models import ArticleSummary

FORMAT = 1
FOLDER = "results"  # in the cache directory, beside the answers
_ARTICLE_FIELDS = dataclasses.fields(Article)


@functools.cache
def code_sha256() -> str:
    """Every file of the briefer package (code, templates, prompts shipped in it), and the versions of the
    libraries a summary's requests and validation go through: a changed line anywhere is a new key."""
    import jinja2
    import pydantic
    import pydantic_core

    h = hashlib.sha256()
    h.update(f"{sys.version}\0{pydantic.VERSION}\0{pydantic_core.__version__}\0{jinja2.__version__}\0".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        h.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _folder_sha256(folder: Path) -> str:
    """Every file under the prompt folder, subfolders included (a template may include another)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class StoredSummaries:
    """Summaries by the key of everything they derive from (see the module's docstring)."""

    def __init__(self, cache: ResponseCache, prompt_dir: Path, setup: dict[str, Any]) -> None:
        assert cache.directory is not None
        self.directory = cache.directory / FOLDER
        self.cache = cache
        self._common = canonical_json({"format": FORMAT, "code": code_sha256(),
                                       "prompts": _folder_sha256(prompt_dir), **setup})
        self.writable = True

    def key(self, article: Article) -> str:
        # Every field of the article, by name (its values are strings, numbers, None and tuples of strings).
        return sha256_text(self._common + canonical_json({f.name: getattr(article, f.name) for f in _ARTICLE_FIELDS}))

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def load(self, article: Article) -> tuple[ArticleSummary, str, list[Answered]] | None:
        """The stored summary (and its text) and the answers it came from, if it still derives from them."""
        key = self.key(article)
        try:
            head, _, rest = read_regular(self._path(key), MAX_ENTRY).decode("utf-8").partition("\n")
            record = json.loads(head + "null}")
            text = rest.removesuffix("}\n")
            if record.get("key") != key:
                return None
            answered = [Answered(a["key"], a["sha256"], a["prompt"], None if a["usage"] is None else tuple(a["usage"]))
                        for a in record["answered"]]
            for a in answered:
                if hashlib.sha256(read_regular(self.cache.path(a.key), MAX_ENTRY)).hexdigest() != a.sha256:
                    return None
            summary = ArticleSummary.model_validate_json(text)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):  # pydantic: ValueError
            return None
        return (summary, text, answered) if summary.id == article.id else None

    def save(self, article: Article, tape: Tape, text: str) -> None:
        """Store a summary every request of which the cache answered; a write that fails only loses the shortcut."""
        if not self.writable or not tape.all_from_cache:
            return
        key = self.key(article)
        head = json.dumps({"briefer_result": FORMAT, "key": key,
                           "answered": [dataclasses.asdict(a) for a in tape.answered]}, ensure_ascii=False)
        try:  # one JSON document: the record's first line, then the summary's text as articles/<id>.json holds it
            atomic_write(self._path(key), head.removesuffix("}") + ', "summary":\n' + text + "}\n")
        except OSError:
            self.writable = False
