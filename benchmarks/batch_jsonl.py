"""Building and parsing the batch JSONL for many articles: time and memory.

    python benchmarks/batch_jsonl.py                   # 10,000 synthetic Arabic articles
    python benchmarks/batch_jsonl.py --articles 500    # a quick look

Phase 1 (export): read the folder, plan each article's request, build its body exactly as the live
path would (instructor's request handler for the mode), register it as pending in the cache directory,
and write requests.jsonl: `briefer batch export`. Phase 2 (import): answer every line as an engine
would (tests/vllm_role.py, not timed), then read results.jsonl, validate each answer like a live one
and store it in the cache: `briefer batch import`. Peak memory is the process's maximum resident set
after each phase (it only grows), so phase 2's figure includes phase 1's.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_model  # noqa: E402

import vllm_role  # noqa: E402
from briefer.batch_run import export, import_file  # noqa: E402
from briefer.model.endpoint import EndpointConfig  # noqa: E402
from briefer.pipeline import RunConfig  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--mode", default="tools")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folder, cache = base / "articles", base / "cache"
        bench_model.write_articles(folder, args.articles)
        cfg = RunConfig(folder=folder, endpoint=EndpointConfig(model="gpt-4o-mini", mode=args.mode), cache_dir=cache,
                        recordings_dir=base / "none", copy_threshold=0)  # one template: not copies here
        start_mb = peak_mb()

        t0 = time.perf_counter()
        done = export(cfg, base / "requests.jsonl")
        build = time.perf_counter() - t0
        build_mb = peak_mb()
        size = (base / "requests.jsonl").stat().st_size

        responder = bench_model.make_responder(args.articles)
        with (base / "requests.jsonl").open(encoding="utf-8") as src, \
                (base / "results.jsonl").open("w", encoding="utf-8") as dst:
            for n, raw in enumerate(src, start=1):
                line = vllm_role.answer_line(n, json.loads(raw), responder=responder)
                dst.write(json.dumps(line, ensure_ascii=False) + "\n")
        results_size = (base / "results.jsonl").stat().st_size

        t0 = time.perf_counter()
        report, _followup = import_file(base / "results.jsonl", cache)
        parse = time.perf_counter() - t0
        parse_mb = peak_mb()

    n = done.requests
    print(f"articles: {args.articles:,}; requests: {n:,}; mode {args.mode}")
    print(f"export (plan, build bodies, pending records, write JSONL): {build:.1f} s, "
          f"{build / n * 1000:.2f} ms/request, requests.jsonl {size / 1e6:.1f} MB; "
          f"peak RSS {build_mb:.0f} MB (before: {start_mb:.0f} MB)")
    print(f"import (read, validate like live, write cache): {parse:.1f} s, {parse / n * 1000:.2f} ms/answer, "
          f"results.jsonl {results_size / 1e6:.1f} MB; {report.imported:,} imported, {len(report.rejected)} rejected; "
          f"peak RSS {parse_mb:.0f} MB")


if __name__ == "__main__":
    main()
