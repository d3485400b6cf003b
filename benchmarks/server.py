"""An OpenAI-compatible server for benchmarks: the tests' fake server with a model that answers like a model.

    python benchmarks/server.py --latency 0.5 --articles N [--rpm N] [--tpm N]
Prints its base URL on the first line of stdout, then serves until killed. `--articles` is the size of the
folder the benchmark wrote (benchmarks/bench_model.py derives each article's story from it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_model  # noqa: E402

from fake_openai import FakeOpenAI, RateLimits  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--rpm", type=float, default=0)
    ap.add_argument("--tpm", type=float, default=0)
    args = ap.parse_args()
    limits = RateLimits(rpm=args.rpm, tpm=args.tpm) if (args.rpm or args.tpm) else None
    with FakeOpenAI(bench_model.make_responder(args.articles), latency=args.latency, limits=limits) as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
