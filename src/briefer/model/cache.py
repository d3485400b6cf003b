"""The content-addressed response cache and the recordings store. Both write atomically.

Cache: `<cache-dir>/<key[:2]>/<key>.json`, one answer per request key. A corrupt or unreadable
entry is a miss, never a crash (nor a hang: a named pipe is not read); a folder in place of one entry
is a miss for that entry; a cache directory that cannot be written degrades to no cache.

Recordings: `<recordings>/<stage>/<subject>.json`, one per stage and subject (an article id, or
"brief"), holding the request's fingerprint so that a stale recording can be told apart from a
missing one and reported with what changed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The one writer and reader (files.py), also reachable here for the modules that used them from here.
from briefer.files import atomic_write as atomic_write
from briefer.files import atomic_write_pieces as atomic_write_pieces
from briefer.files import pretty_json as pretty_json
from briefer.files import read_regular as read_regular
from briefer.files import write_if_changed as write_if_changed

FORMAT = 1


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAX_ENTRY = 64 * 1024 * 1024  # a cache entry or a recording over this is a miss, found by its size, never read


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, read from the server's prompt cache (written only when reported)


class Fingerprint(BaseModel):
    """What a recorded answer was an answer to. Any difference makes the recording stale."""

    model_config = ConfigDict(extra="forbid")
    prompt: str
    prompt_version: str
    schema_name: str
    schema_sha256: str
    model: str
    mode: str
    params_sha256: str
    input_sha256: str

    def differences(self, other: Fingerprint) -> list[str]:
        labels = {
            "prompt_version": "prompt template changed",
            "schema_sha256": "response schema changed",
            "model": "model differs",
            "mode": "mode differs",
            "params_sha256": "generation parameters differ",
            "input_sha256": "input changed",
        }
        out = []
        for name, label in labels.items():
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                if name.endswith("sha256") or name == "prompt_version":  # hashes: a prefix tells them apart
                    mine, theirs = mine[:16], theirs[:16]
                out.append(f"{label} (recorded {theirs}, now {mine})")
        return out


class RecordingMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: bool = Field(description="True for answers written by hand as a best model would answer.")
    recorded_by: str
    recorded_at: str
    note: str | None = None


class KeptAnswer(BaseModel):
    """An answer still invalid after the re-asks (or cut off at the token limit), stored as the model gave it.

    The model's own words are `raw_output`; what briefer keeps of them (the entry's `response`, for people to
    read) is derived again from them on every replay, by the response model's `keep_valid`. When nothing can be
    kept (the entry's `response` is empty), a replay is the failure `reason` again (--retry-failed asks again)."""

    model_config = ConfigDict(extra="forbid")
    raw_output: str
    problem: str = Field(description="invalid (after the re-asks) or cut_off (at the token limit).")
    raw_output_tokens: int = Field(description="Completion tokens of that answer.")
    reason: str = Field(description="Why the answer was not valid as a whole: the failure it would have been.")


def _dump(entry: BaseModel) -> str:
    """Pretty JSON of a recording or cache entry; `kept` only when there is one (earlier files stay as they are)."""
    data = entry.model_dump(mode="json")
    if data.get("kept") is None:
        data.pop("kept", None)
    if isinstance(data.get("usage"), dict) and not data["usage"].get("cached_tokens"):
        data["usage"].pop("cached_tokens", None)
    return pretty_json(data)


class Recording(BaseModel):
    model_config = ConfigDict(extra="forbid")
    briefer_recording: int = FORMAT
    stage: str
    subject: str
    fingerprint: Fingerprint
    cache_key: str
    response: dict[str, Any]
    usage: Usage | None
    metadata: RecordingMeta
    kept: KeptAnswer | None = None


class CacheEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    briefer_cache: int = FORMAT
    key: str
    fingerprint: Fingerprint
    response: dict[str, Any]
    usage: Usage | None
    recorded_at: str
    endpoint: str
    kept: KeptAnswer | None = None


class ResponseCache:
    """Answers by request key. `warn` is told once when the directory turns out to be unusable."""

    def __init__(self, directory: Path | None, warn: Any = None) -> None:
        self.directory = directory
        self._warn = warn
        self.writable = directory is not None

    def path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CacheEntry | None:
        found = self.get_with_sha256(key)
        return found[0] if found else None

    def get_with_sha256(self, key: str) -> tuple[CacheEntry, str] | None:
        """The entry and the SHA-256 of its bytes (extract/reuse.py checks a stored summary's answers by it)."""
        if self.directory is None:
            return None
        try:
            data = read_regular(self.path(key), MAX_ENTRY)
            entry = CacheEntry.model_validate_json(data)
        except (OSError, ValueError, ValidationError):
            return None
        return (entry, hashlib.sha256(data).hexdigest()) if entry.key == key else None

    def put(self, entry: CacheEntry) -> str | None:
        """Store an answer; returns the text written, or None when it could not be."""
        if self.directory is None or not self.writable:
            return None
        path = self.path(entry.key)
        try:
            return atomic_write(path, _dump(entry))
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOTEMPTY) and os.access(
                    self.directory, os.W_OK):
                return None  # something else (a folder) sits where this one entry goes: a miss for it, not for all
            self.writable = False
            if self._warn:
                self._warn(f"cache directory {self.directory} is not writable ({exc.strerror}); running uncached")
            return None


FOLDER_MARK = ".briefer-folder"  # in a shared recordings folder: the name of the one folder it holds recordings for


def recordings_for(folder: Path, *, record: bool) -> Path:
    """Where a folder's recordings are by default: `recordings/<folder name>/` beside the folder, so that
    sibling folders (`today/`, `yesterday/`) never share, and never overwrite, each other's recordings.

    The flat layout `recordings/<stage>/` beside the folder is used instead when it is marked as this
    folder's (a `.briefer-folder` file naming it, as `fixtures/recordings` is for `fixtures/articles`),
    and, for replaying only, when it is unmarked and there is no per-folder one (recordings made before).
    """
    folder = folder.resolve()
    shared = folder.parent / "recordings"
    own = shared / folder.name
    if own.is_dir():
        return own
    if (shared / "extract").is_dir() or (shared / "merge").is_dir():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if (shared / FOLDER_MARK).read_text(encoding="utf-8").strip() == folder.name:
                return shared
            return own  # marked as another folder's: never ours
        if not record:
            return shared
    return own


class RecordingStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, stage: str, subject: str) -> Path:
        return self.directory / stage / f"{subject}.json"

    def load(self, stage: str, subject: str) -> Recording | None:
        """The recording for this stage and subject, or None. A corrupt file is reported as missing."""
        try:
            return Recording.model_validate_json(read_regular(self.path(stage, subject), MAX_ENTRY))
        except (OSError, ValueError, ValidationError):
            return None

    def save(self, recording: Recording) -> Path:
        path = self.path(recording.stage, recording.subject)
        atomic_write(path, _dump(recording))
        return path
