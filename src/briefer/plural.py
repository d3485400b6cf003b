"""Counts in words: "1 answer", "2 answers"."""


def plural(n: int, one: str, many: str | None = None) -> str:
    """`n` and the word for that many (`many` defaults to `one` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
