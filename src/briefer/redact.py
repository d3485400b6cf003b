"""Secrets never leave the process: one redaction step for everything briefer writes or prints.

The secrets are the API key and any credentials in the base URL (`user:pass@`, `?api-key=…`). They
are registered here when the configuration is read, and `redact` replaces them in:

- every file briefer writes (`atomic_write`: brief.md, brief.json, articles/, failed/, recordings,
  cache entries) — exact secret values only, so article text and translations are never touched;
- every error message (`BrieferError.__str__`) and every line on stderr (the CLI) — the exact values,
  and also anything shaped like a credential (`Bearer …`, `Authorization: …`, URL user info, key-like
  query parameters), since a server may echo what it was sent.

A registered secret is also matched as it appears inside JSON strings and percent-encoded in URLs.
Values shorter than `MIN_SECRET` characters are not registered: replacing every "abc" in a brief would
garble it; URLs are still printed without their credentials (`safe_url`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection, Iterable, Iterator
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"
MIN_SECRET = 8

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Query parameters that carry credentials (api-key, key, token, access_token, sig, password, …).
_SECRET_PARAM = re.compile(r"key|token|secret|sig|pass|auth|cred|session", re.IGNORECASE)
_SHAPES = [
    # As HTTP writes them ("Bearer", "Basic") and token-long: "the standard bearer of the party" stays.
    (re.compile(r"\b(Bearer|BEARER)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    (re.compile(r"\b(Basic)(\s+)[A-Za-z0-9+/]{8,}=*"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)\b((?:proxy-)?authorization|api[-_]?key|x-api-key)([\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[redacted\]|bearer\b|Basic\b)[^\s\"',;&)\]}]+"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@?#]+@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)([?&][a-z0-9_.-]*(?:key|token|secret|sig|pass|auth|cred|session)[a-z0-9_.-]*=)[^&#\s\"']+"),
     rf"\1{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), f"sk-{MASK}"),
]


def register(secret: str | None) -> None:
    """Treat this value as a secret from now on (in every form it may be written in)."""
    if not secret or len(secret.strip()) < MIN_SECRET:
        return
    forms = _forms(secret)
    global _pattern
    with _lock:
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET)
        _pattern = _compile(_secrets)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")  # as render/markdown.md escapes


def _forms(secret: str) -> set[str]:
    """The secret as every writer briefer has may write it: as is, percent-encoded, Markdown-escaped (`\\_`),
    HTML-escaped (markupsafe's `&#39;` and html.escape's `&#x27;`, `&quot;`), then inside a JSON string once or
    twice (a cache entry keeps the model's raw JSON as a string), with `\\uXXXX` escapes or without. Redaction
    runs after the escaping, on the bytes as written, so each of these forms is looked for."""
    import html

    plain = {secret, secret.strip(), unquote(secret)}
    escaped = set(plain)
    for f in plain:
        escaped |= {quote(f, safe=""), quote(f), quote_plus(f), _MD_SPECIAL.sub(r"\\\1", f), _markupsafe(f),
                    html.escape(f), html.escape(f, quote=False)}
    forms = set(escaped)
    layer = escaped
    for _ in range(2):  # JSON in JSON: a raw answer kept as a string in a cache entry
        layer = {_json_string(f, how) for f in layer for how in ("utf-8", "ascii", "all")}
        forms |= layer
    return forms


def _markupsafe(text: str) -> str:
    """As jinja2's autoescape (markupsafe) writes text in brief.html."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def _json_string(text: str, how: str) -> str:
    """`text` as a JSON string's inside: UTF-8 as written, non-ASCII as \\uXXXX, or every non-alphanumeric
    character as \\u00XX (as some encoders write `<`, `&`, `'`)."""
    if how != "all":
        return json.dumps(text, ensure_ascii=how == "ascii")[1:-1]
    return "".join(c if c.isalnum() and c.isascii() else f"\\u{ord(c):04x}" for c in text)


def _compile(secrets: set[str]) -> re.Pattern[str] | None:
    # Longest first, so a secret that contains another is replaced whole.
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))) if secrets else None


def register_url(url: str | None) -> None:
    """Register the credentials a URL carries: its user, password and key-like query values."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return
    register(user)
    register(password)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM.search(name):
            register(value)


def safe_url(url: str) -> str:
    """The URL as it may be shown: user info and key-like query values replaced by the mask, the rest kept
    (so that a printed command still names the endpoint and, e.g., an `api-version`)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return redact(url, shapes=True)
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{MASK}@" if "@" in parts.netloc else "") + host + (f":{port}" if port else "")
    query = urlencode([(n, MASK if _SECRET_PARAM.search(n) else v)
                       for n, v in parse_qsl(parts.query, keep_blank_values=True)], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str, *, shapes: bool = False) -> str:
    """`text` with every registered secret replaced by the mask; with `shapes`, also anything shaped like
    a credential (for messages and stderr, never for article text)."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if shapes:
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
    return text


def redact_pieces(pieces: Iterable[str], chunk: int = 1 << 16, *,
                  secrets: Collection[str] | None = None) -> Iterator[str]:
    """`redact` over a text given in pieces, in pieces of about `chunk` characters: joined, exactly
    `redact("".join(pieces))`, without ever holding the whole text (a 10,000-article brief.html).

    Why it is the same: the text is cut only where no match of the secrets' pattern can cross. A match is at
    most as long as the longest secret, so one that starts more than that many characters before the end of
    what has been read is wholly inside it and is seen; the cut goes there, or at the start of a match that
    would cross it. Matching the part before the cut finds the same matches as matching the whole text (the
    pattern is literal alternatives: none of them can match more of a prefix than of the whole).
    `secrets`: these instead of the registered ones (for tests)."""
    if secrets is not None:
        pattern, longest = _compile(set(secrets)), max(map(len, secrets), default=0)
    else:
        with _lock:
            pattern, longest = _pattern, max((len(s) for s in _secrets), default=0)
    carry = ""
    buf: list[str] = []
    size = 0
    for piece in pieces:
        buf.append(piece)
        size += len(piece)
        if size < chunk:
            continue
        text = carry + "".join(buf)
        buf.clear()
        size = 0
        if pattern is None:
            yield text
            continue
        cut = max(0, len(text) - longest + 1)
        for m in pattern.finditer(text):
            if m.start() >= cut:
                break
            if m.end() > cut:
                cut = m.start()
                break
        yield pattern.sub(MASK, text[:cut])
        carry = text[cut:]
    rest = carry + "".join(buf)
    yield rest if pattern is None else pattern.sub(MASK, rest)
