"""Grouping syndicated copies: CPU time for 10,000 articles (the issue's target: under 30 s).

    python benchmarks/copies.py                     # 10,000 articles: 7,000 stories told once, 1,000 told 3 times
    python benchmarks/copies.py --articles 1000     # a quick look

The articles are synthetic, of news length (about 450 words each, Arabic and English words mixed, the
vocabulary of a real page: a few thousand words, so unrelated texts share words but not three-word runs).
A copy has its intro rewritten and one figure changed, as an outlet republishing a wire story does. The
figure printed is the process CPU time of `group_copies` (shingling, MinHash, LSH, grouping), with how
many of the planted groups were found whole and how many groups were found that were not planted.
"""

from __future__ import annotations

import argparse
import random
import time

from briefer.fetch.copies import group_copies

ARABIC = ("قال مسؤول الحكومة وزير الخارجية بغداد طهران بيروت دمشق الرئيس البرلمان الجيش الشرطة مقتل إصابة هجوم "
          "انفجار سيارة سوق مفاوضات اتفاق عقوبات النفط الاقتصاد المعارضة الانتخابات المحكمة").split()


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    made = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(size)}
    return sorted(made) + ARABIC * 20


def article(rng: random.Random, words: list[str], n: int = 450) -> str:
    out = []
    for i in range(n):
        out.append(str(rng.randint(2, 900)) if i % 37 == 5 else rng.choice(words))
        if i % 18 == 17:
            out.append(".\n")
    return " ".join(out)


def copy_of(rng: random.Random, text: str, words: list[str]) -> str:
    sentences = text.split(".\n")
    intro = " ".join(rng.choice(words) for _ in range(25))
    body = sentences[1:]
    for i, s in enumerate(body):  # one figure changed
        parts = s.split()
        nums = [j for j, w in enumerate(parts) if w.isdigit()]
        if nums:
            parts[nums[0]] = str(int(parts[nums[0]]) + 3)
            body[i] = " ".join(parts)
            break
    return ".\n".join([intro, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(30)
    words = vocabulary(rng)
    stories = args.articles // 10
    items: list[tuple[str, str]] = []
    planted: list[set[str]] = []
    for s in range(stories):
        text = article(rng, words)
        ids = [f"s{s}-{k}" for k in range(3)]
        items += [(ids[0], text), (ids[1], copy_of(rng, text, words)), (ids[2], copy_of(rng, text, words))]
        planted.append(set(ids))
    while len(items) < args.articles:
        items.append((f"u{len(items)}", article(rng, words)))
    rng.shuffle(items)
    chars = sum(len(t) for _, t in items)
    cpu, wall = time.process_time(), time.perf_counter()
    groups = group_copies(items, args.threshold)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    found = [{g.chosen, *g.copies} for g in groups]
    whole = sum(1 for p in planted if p in found)
    extra = sum(1 for f in found if f not in planted)
    print(f"{len(items):,} articles ({chars / 1e6:.1f} M characters), {stories:,} stories planted 3 times each")
    print(f"grouped in {cpu:.1f} s CPU ({wall:.1f} s wall), threshold {args.threshold}")
    print(f"groups found: {len(groups):,}; planted groups found whole: {whole:,} of {stories:,}; "
          f"groups not planted: {extra:,}")


if __name__ == "__main__":
    main()
