"""Estimated token counts: a rule of thumb shared by ingest (cleaning figures) and the model door (budgets)."""

from __future__ import annotations

import math
import re

_LATIN = re.compile(r"[\x00-\x7f\u00c0-\u024f\u1e00-\u1eff]")
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
                  r"\U00020000-\U0003ffff]")
_LATIN_RUNS = re.compile(_LATIN.pattern + "+")
_CJK_RUNS = re.compile(_CJK.pattern + "+")


def estimate_tokens(text: str) -> int:
    """Roughly how many tokens a BPE tokenizer of current LLMs (GPT-4o's o200k and the like) needs for `text`.

    Latin characters (with spaces, digits and ASCII punctuation) count 1/4 each, Chinese, Japanese
    and Korean characters 1 each, everything else (Arabic, Persian, Cyrillic, ...) 1/3. The usual
    rules of thumb, not a tokenizer: for comparing before and after cleaning, not for billing.
    """
    # Runs removed at once and the characters counted by length: the same counts as matching one character at a
    # time, a third of the time (merge budgets estimate every article's digest).
    latin = len(text) - len(_LATIN_RUNS.sub("", text))
    cjk = len(text) - len(_CJK_RUNS.sub("", text))
    return math.ceil(latin / 4 + cjk + (len(text) - latin - cjk) / 3)
