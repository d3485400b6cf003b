"""The validation context of the answer being validated, for validators that check an answer
against its request (how many paragraphs the article had, which article ids it may cite).

pydantic passes `context=` to validators when briefer validates an answer itself. Answers the model
gives are validated by instructor, and instructor's own `context=` argument would also render every
message as a Jinja template, rewriting article text (`{{ 7*7 }}` sent as `49`) or failing on a
lone `{{`. So the model client never passes it: it sets this variable around the request instead,
and the validators read `info.context` first, then this.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("briefer_validation_context",
                                                                                 default=None)


@contextlib.contextmanager
def validation_context(context: dict[str, Any] | None) -> Iterator[None]:
    """Validate answers inside this block against `context` (async-safe: one value per task)."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def current(explicit: Any = None) -> dict[str, Any]:
    """The context a validator should use: the one given to `model_validate`, else the request's."""
    if isinstance(explicit, dict):
        return explicit
    return _current.get() or {}
