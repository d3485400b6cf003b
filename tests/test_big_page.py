"""brief.html is written in pieces as Jinja renders it, never held whole (at 10,000 articles joining the pieces
was the run's peak memory): the file is still exactly the page, with every secret redacted as in a whole text."""

from __future__ import annotations

import random
import re
from pathlib import Path

from briefer.pipeline import RunConfig, summarize_folder
from briefer.redact import MASK, redact_pieces
from briefer.render.html import brief_html
from conftest import FIXTURES


def _whole(text: str, secrets: list[str]) -> str:
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    return pattern.sub(MASK, text)


def test_redacting_pieces_equals_redacting_the_whole_text() -> None:
    # Secrets that contain, overlap and repeat each other, cut anywhere: across pieces and across chunks.
    secrets = ["abcdefgh", "abcdefghij", "ghijklmnop", "aaaaaaaa", "xyzxyzxy"]
    alphabet = ["a", "b", "c", "g", "h", "x", "y", "z", " ", "م", *secrets, *(s[:5] for s in secrets),
                *(s[3:] for s in secrets)]
    rng = random.Random(13)
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
        pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        chunk = rng.randint(1, 30)
        assert "".join(redact_pieces(pieces, chunk, secrets=secrets)) == _whole(text, secrets), (pieces, chunk)


def test_without_secrets_the_pieces_are_the_text() -> None:
    pieces = ["one ", "two ", "three"] * 100
    assert "".join(redact_pieces(pieces, 7, secrets=[])) == "".join(pieces)


def test_the_page_written_is_the_page_rendered(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = summarize_folder(RunConfig(folder=FIXTURES / "articles", offline=True, out_dir=out, date="2026-11-30",
                                        cache_dir=None))
    page = (out / "brief.html").read_bytes()
    assert page == brief_html(result.brief, result.summaries).encode("utf-8")
    assert page.startswith(b"<!DOCTYPE html>") and page.rstrip().endswith(b"</html>")
