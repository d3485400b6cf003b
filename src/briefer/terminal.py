"""Lines for a person to read on stderr: secrets redacted, and always one line of valid text.

A path can hold bytes that are not UTF-8 (a cp1256 or Latin-1 archive unzipped): Python carries them as
lone surrogates, which a terminal cannot show (`\\udce9`). They are shown as the bytes they are (`\\xe9`), the
same way everywhere, and control characters are escaped so one message stays one line.
"""

from __future__ import annotations

import unicodedata

from .redact import redact


def shown(text: str) -> str:
    """`text` as valid UTF-8 on one line: undecodable bytes and control characters as escapes."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                   for c in text)


def for_terminal(line: str) -> str:
    """A message line as printed: secrets and credential shapes masked, made showable, and masked again in the
    form it is printed in (redaction is the last step of every byte briefer writes)."""
    return redact(shown(redact(line, shapes=True)))


def say(line: str) -> None:
    """One line on stderr. Every stderr line goes through here."""
    import typer  # here: ingest/ uses `shown` and should not pull in the CLI toolkit

    typer.echo(for_terminal(line), err=True)
