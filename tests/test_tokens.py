"""The token estimate's rule of thumb: Latin characters 1/4, CJK 1, everything else 1/3, rounded up."""

from __future__ import annotations

import math
import random

from briefer.text.tokens import estimate_tokens


def _by_character(text: str) -> int:
    def latin(c: str) -> bool:
        o = ord(c)
        return o <= 0x7F or 0xC0 <= o <= 0x24F or 0x1E00 <= o <= 0x1EFF

    def cjk(c: str) -> bool:
        o = ord(c)
        return any(lo <= o <= hi for lo, hi in ((0x1100, 0x11FF), (0x2E80, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
                                                (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF)))

    n_latin = sum(map(latin, text))
    n_cjk = sum(map(cjk, text))
    return math.ceil(n_latin / 4 + n_cjk + (len(text) - n_latin - n_cjk) / 3)


def test_known_counts() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("中文") == 2
    assert estimate_tokens("مرحبا") == 2  # 5/3 rounded up


def test_runs_of_any_script_count_each_character_once() -> None:
    # Every range's edges, mixed in runs of all lengths, as in a merge payload (JSON of Arabic with English keys).
    alphabet = ["a", " ", "\n", "\x7f", "\x80", "\xbf", "\xc0", "\u024f", "\u0250", "\u1dff", "\u1e00", "\u1eff",
                "\u1f00", "\u1100", "\u11ff", "\u2e80", "\u9fff", "\ua960", "\uac00", "\ud7ff", "\uf900", "\uffef",
                "\U00020000", "\U0003ffff", "\U00040000", "م", "ж"]
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) * rng.randint(1, 4) for _ in range(rng.randint(0, 12)))
        assert estimate_tokens(text) == _by_character(text), repr(text)


def test_json_estimate_is_the_estimate_of_the_indented_json() -> None:
    # estimate_json_tokens counts the indented layout from the value's shape instead of writing it: the same number
    # as estimating json.dumps(indent=...) itself, for any nesting, empty containers, scripts, escapes and atoms.
    import json

    from briefer.text.tokens import estimate_json_tokens

    atoms: list[object] = ["", "a b", "مرحبا بكم", "中文", "Café", 'q"\\\n\t', "\u202e", "\U00020000", 0, -7, 2.5,
                           1e100, None, True, False]
    rng = random.Random(7)

    def value(depth: int) -> object:
        r = rng.random()
        if depth > 3 or r < 0.4:
            return rng.choice(atoms)
        if r < 0.7:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {rng.choice(["id", "مفتاح", "键", "k\"ey"]) + str(i): value(depth + 1) for i in range(rng.randint(0, 4))}

    for _ in range(3000):
        v = value(0)
        for indent in (1, 2):
            assert estimate_json_tokens(v, indent) == estimate_tokens(json.dumps(v, ensure_ascii=False, indent=indent))
    assert estimate_json_tokens({"t": (1, "x")}) == estimate_tokens(json.dumps({"t": [1, "x"]}, indent=1))
