"""The API key as briefer reads it: checked (a key an HTTP header cannot carry is refused without being shown)
and registered for redaction before it is used. Apart from redact.py, which errors.py imports: the check raises
a UsageError."""

from __future__ import annotations

from .errors import UsageError
from .redact import register


def clean_key(key: str, source: str = "OPENAI_API_KEY") -> str:
    """The API key without surrounding whitespace (a CRLF .env leaves a trailing \\r). A key that still holds
    whitespace or a character an HTTP header cannot carry is refused, without showing it."""
    key = key.strip()
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise UsageError(f"{source} holds whitespace or characters an API key cannot have (the value is not "
                         "shown); check how it was set")
    register(key)
    return key
