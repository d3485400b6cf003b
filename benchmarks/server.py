"""An OpenAI-compatible server for benchmarks: the tests' fake server with a model that answers like a model.

    python benchmarks/server.py --latency 0.5 --articles N [--rpm N] [--tpm N] [--log FILE]
Prints its base URL on the first line of stdout, then serves until killed. `--log` appends the arrival time
(Unix seconds) of every request to FILE, a line each. `--articles` is the size of the
folder the benchmark wrote (benchmarks/bench_model.py derives each article's story from it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

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
    ap.add_argument("--log", type=Path)
    args = ap.parse_args()
    limits = RateLimits(rpm=args.rpm, tpm=args.tpm) if (args.rpm or args.tpm) else None
    respond = bench_model.make_responder(args.articles)
    log = args.log.open("a", encoding="utf-8", buffering=1) if args.log else None

    def logged(body: dict[str, Any]) -> dict[str, Any]:
        if log is not None:
            log.write(f"{time.time():.6f}\n")
        return respond(body)

    with FakeOpenAI(logged, latency=args.latency, limits=limits) as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
