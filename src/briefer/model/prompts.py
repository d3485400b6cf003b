"""Load and render the prompt templates in `prompts/`; version them by content hash.

A prompt NAME is `NAME.user.j2` and, usually, `NAME.system.j2`. The system part is static
(no variables from the article), so it goes first and provider-side prompt caching can apply.
A prompt with only a user part is a follow-up turn (e.g. a re-ask) appended to a conversation.
Templates render in a Jinja sandbox with StrictUndefined: a misspelt variable is an error.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from briefer.errors import UsageError

PARTS = ("system", "user")


def default_prompt_dir() -> Path:
    """The prompts shipped in the wheel, or the repo's top-level `prompts/` in a source checkout."""
    packaged = Path(str(resources.files("briefer"))) / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "prompts"


def boundary_for(text: str) -> str:
    """A delimiter the data cannot contain: it depends on the data's own hash."""
    return "DATA-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RenderedPrompt:
    name: str
    version: str
    messages: list[dict[str, str]]


class Prompts:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_prompt_dir()
        if not self.directory.is_dir():
            raise UsageError(f"prompt directory not found: {self.directory}")

    @cached_property
    def _env(self) -> SandboxedEnvironment:
        return SandboxedEnvironment(
            loader=FileSystemLoader(str(self.directory), encoding="utf-8"),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )

    def _parts(self, name: str) -> list[str]:
        parts = [part for part in PARTS if (self.directory / f"{name}.{part}.j2").is_file()]
        if "user" not in parts:
            raise UsageError(f"prompt template missing: {self.directory / f'{name}.user.j2'}")
        return parts

    @functools.cache  # noqa: B019 - one Prompts per run; the templates do not change during it
    def version(self, name: str) -> str:
        """Hash of the prompt's template files: changes whenever their text changes."""
        h = hashlib.sha256()
        for part in self._parts(name):
            h.update(part.encode())
            h.update((self.directory / f"{name}.{part}.j2").read_bytes())
        return h.hexdigest()[:16]

    def render(self, name: str, **variables: Any) -> RenderedPrompt:
        messages = []
        for part in self._parts(name):
            template = self._env.get_template(f"{name}.{part}.j2")
            messages.append({"role": part, "content": template.render(**variables).strip()})
        return RenderedPrompt(name=name, version=self.version(name), messages=messages)
