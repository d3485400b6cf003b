"""Syndicated copies: the same story republished by several outlets with small edits, found before any
model call so that the model is asked once per story, for its most complete copy.

Texts are compared by MinHash over shingles of three words (datasketch), with locality-sensitive hashing
to find candidates, so 10,000 articles are grouped in near-linear time. Shingles work across scripts:
words are folded as briefer folds spellings for matching (case, accents, Arabic letter forms), digits
of every script count as ASCII digits, and Chinese or Japanese text, written without spaces, counts each
character as a word. Stored text is never rewritten: the folding is for comparison only.

Where a copy differs from the chosen one in a number, a name or a date, inside a sentence the two
otherwise share, `differences` says so: an edited intro is not a difference, a changed figure is.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from briefer.ingest.folder import Folder
from briefer.text.textnorm import fold_char, match_key

DEFAULT_THRESHOLD = 0.5
NUM_PERM = 128
EXACT_UP_TO = 300  # items compared pair by pair, exactly; more go through MinHash/LSH
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")
_SENTENCE = re.compile(r"(?<=[.!?؟。！？])\s+|\n+")
_WORD = re.compile(r"\w+(?:[.,٫٬]\w+)*")
_DATE_WORDS = frozenset("""january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday yesterday today tomorrow""".split())


@dataclass(frozen=True)
class CopyGroup:
    """Near-duplicate articles: `chosen` is asked of the model, `copies` are cited with it."""

    chosen: str
    copies: tuple[str, ...]
    similarity: tuple[float, ...]  # estimated Jaccard similarity of each copy to the chosen one


@dataclass(frozen=True)
class Difference:
    kind: str  # "number", "name" or "date"
    chosen: str  # what the chosen copy says (the words that differ)
    copy: str  # what the other copy says in their place
    context: str  # the other copy's sentence, shortened around them


_MARKS = re.compile(r"[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u08d3-\u08ff]+")
_TOKEN = re.compile(r"\w+")


@functools.cache
def _fold_table() -> dict[int, str]:
    """Digits of every script as ASCII, and the Arabic-script letter forms folded as match_key folds them."""
    table = {c: str(unicodedata.digit(chr(c))) for c in range(0x80, 0x10000)
             if chr(c).isdigit() and unicodedata.digit(chr(c), None) is not None}
    for c in (*range(0x600, 0x700), 0x200C, 0x200D, 0x200E, 0x200F):
        if (folded := fold_char(chr(c))) != chr(c) and not chr(c).isdigit():
            table[c] = folded
    return table


def _digits(text: str) -> str:
    return text.translate(_fold_table()) if not text.isascii() else text


def words(text: str) -> list[str]:
    """The words of a text as compared: folded as briefer folds spellings for matching (case, accents and
    marks, Arabic letter forms), digits as ASCII, each CJK character one word. (A fast path of match_key for
    whole articles: the same folding, done by C-level passes.)"""
    folded = _MARKS.sub("", unicodedata.normalize("NFKD", text)) if not text.isascii() else text
    folded = _digits(folded).casefold()
    return _TOKEN.findall(_CJK.sub(r" \1 ", folded))


def shingles(text: str, size: int = 3) -> set[bytes]:
    w = words(text)
    if len(w) < size:
        return {" ".join(w).encode()} if w else set()
    return {f"{a} {b} {c}".encode() for a, b, c in zip(w, w[1:], w[2:], strict=False)} if size == 3 else \
        {" ".join(w[i:i + size]).encode() for i in range(len(w) - size + 1)}


def group_copies(items: Sequence[tuple[str, str]], threshold: float = DEFAULT_THRESHOLD,
                 num_perm: int = NUM_PERM) -> list[CopyGroup]:
    """Groups of two or more near-duplicates among (id, text) items, in the order of their first member.
    The chosen member of a group is its longest text (the most complete), ties to the first id.

    Up to EXACT_UP_TO items, every pair's Jaccard similarity is computed exactly (a day's folder: faster than
    loading datasketch, which brings numpy and scipy, 1.5 s); beyond, MinHash estimates it and LSH finds the
    candidate pairs, so 10,000 articles stay near-linear."""
    if not 0 < threshold <= 1:
        raise ValueError("the similarity threshold must be above 0 and at most 1")
    sets = [shingles(t) for _, t in items]
    similar = _exact(sets, threshold) if len(items) <= EXACT_UP_TO else _lsh(sets, threshold, num_perm)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in similar:
        parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(items)):
        members.setdefault(root(i), []).append(i)
    groups = []
    for group in sorted((g for g in members.values() if len(g) > 1), key=min):
        chosen = max(group, key=lambda i: (len(items[i][1]), -i))
        rest = [i for i in group if i != chosen]
        groups.append(CopyGroup(items[chosen][0], tuple(items[i][0] for i in rest),
                                tuple(round(similar.get((min(chosen, i), max(chosen, i)), _jaccard_sets(
                                    sets[chosen], sets[i])), 3) for i in rest)))
    return groups


def _jaccard_sets(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _exact(sets: list[set[bytes]], threshold: float) -> dict[tuple[int, int], float]:
    """Every pair's Jaccard similarity from an inverted index: only pairs that share a shingle are counted."""
    index: dict[bytes, list[int]] = {}
    for i, shingled in enumerate(sets):
        for sh in shingled:
            index.setdefault(sh, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in index.values():
        if len(docs) > 1:
            shared.update(itertools.combinations(docs, 2))
    out = {}
    for (i, j), n in shared.items():
        if (sim := n / (len(sets[i]) + len(sets[j]) - n)) >= threshold:
            out[(i, j)] = sim
    return out


def _lsh(sets: list[set[bytes]], threshold: float, num_perm: int) -> dict[tuple[int, int], float]:
    from datasketch import MinHash, MinHashLSH  # numpy and scipy: only for a large folder

    hashes = MinHash.bulk([sorted(s) for s in sets], num_perm=num_perm, seed=7)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for i, m in enumerate(hashes):
        if sets[i]:
            lsh.insert(i, m)
    out = {}
    for i, m in enumerate(hashes):
        if not sets[i]:
            continue
        for j in lsh.query(m):
            if j > i and (sim := m.jaccard(hashes[j])) >= threshold:
                out[(i, j)] = sim
    return out


def differences(chosen: str, copy: str, limit: int = 10) -> list[Difference]:
    """Numbers, names and dates that differ between two copies, within sentences they otherwise share."""
    theirs = [(s, _keyed(s)) for s in _SENTENCE.split(copy) if s.strip()]
    out: list[Difference] = []
    for sentence in _SENTENCE.split(chosen):
        mine = _keyed(sentence)
        if not mine:
            continue
        best = max(theirs, key=lambda t: _jaccard(mine, t[1]), default=None)
        if best is None or not 0.5 <= _jaccard(mine, best[1]) < 1:
            continue
        here = {k for _, k in mine}
        there = {k for _, k in best[1]}
        for kind in ("number", "date", "name"):
            a = [w for n, (w, k) in enumerate(mine) if k not in there and _kind(w, k, n) == kind]
            b = [w for n, (w, k) in enumerate(best[1]) if k not in here and _kind(w, k, n) == kind]
            if a and b:  # one said in place of the other; a word only dropped or added is an edit
                d = Difference(kind, " ".join(dict.fromkeys(a)), " ".join(dict.fromkeys(b)), _around(best[0], b))
                if d not in out:
                    out.append(d)
    return out[:limit]


def _keyed(sentence: str) -> list[tuple[str, str]]:
    return [(w, _digits(match_key(w))) for w in _WORD.findall(sentence)]


def _jaccard(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> float:
    x, y = {k for _, k in a}, {k for _, k in b}
    return len(x & y) / len(x | y) if x | y else 0.0


def _kind(word: str, key: str, position: int) -> str | None:
    if any(c.isdigit() for c in key):
        return "number"
    if key in _DATE_WORDS:
        return "date"
    if position and word[:1].isupper():  # a sentence's first word is capitalised anyway
        return "name"
    return None


def _around(sentence: str, found: list[str]) -> str:
    """The sentence, shortened around the words that differ (or all of it when it is short)."""
    text = " ".join(sentence.split())
    if len(text) <= 160 or not found:
        return text[:160] + ("…" if len(text) > 160 else "")
    at = text.find(found[0])
    start = max(0, at - 60)
    return ("…" if start else "") + text[start:start + 160] + ("…" if start + 160 < len(text) else "")


def set_copies_aside(folder: Folder, threshold: float) -> Folder:
    """The folder with each group's copies set aside (`folder.copies`): only the chosen member of a group
    stays among the articles asked of the model. A threshold of 0 turns the grouping off."""
    if threshold <= 0 or len(folder.articles) < 2:
        return folder
    by_id = {a.id: a for a in folder.articles}
    groups = group_copies([(a.id, a.clean_text) for a in folder.articles], threshold)
    aside = {c for g in groups for c in g.copies}
    copies = {g.chosen: tuple(by_id[c] for c in g.copies) for g in groups}
    similarity = {c: s for g in groups for c, s in zip(g.copies, g.similarity, strict=True)}
    return replace(folder, articles=[a for a in folder.articles if a.id not in aside], copies=copies,
                   similarity=similarity)
