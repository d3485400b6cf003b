"""briefer's performance figures, measured end to end on this machine.

    python benchmarks/run.py                      # the targets of the performance issue
    python benchmarks/run.py --articles 50 --memory-articles 200 --latency 0.1   # a quick look

Starts a local OpenAI-compatible server (tests/fake_openai.py with the deterministic echo model,
in its own process) that answers after a fixed latency, writes N synthetic Arabic articles, and
runs the real `briefer` command against it:

- cold run: wall time against the ideal ceil(N / C) x latency (C = --concurrency);
- warm rerun: everything cached: wall time and model calls (must be 0);
- peak memory (max RSS of the briefer process) on a cold run of --memory-articles;
- model calls, HTTP requests and tokens per article, merge calls, fixed prompt tokens per call;
- `briefer --help` start-up time (median of several runs).

Nothing here is a unit test: the figures go to the README's Performance section.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIEFER = [sys.executable, "-m", "briefer"]

PARAGRAPHS = [
    "قال مسؤول في الحكومة إن الاجتماع رقم {i} بحث ملف الكهرباء والمياه في المحافظة {g}.",
    "وأضاف أن اللجنة ستقدم تقريرها خلال أسبوعين إلى مجلس الوزراء للمصادقة عليه.",
    "وأشار إلى أن الخطة تشمل إنشاء محطات جديدة وصيانة الشبكات القديمة في الأحياء السكنية.",
    "من جهته، قال نائب في البرلمان إن المواطنين ينتظرون نتائج ملموسة قبل حلول فصل الصيف.",
    "وتعاني المحافظة {g} من انقطاعات متكررة للتيار الكهربائي منذ سنوات بحسب السكان.",
    "وختم المسؤول بأن التمويل متوفر وأن العمل سيبدأ فور المصادقة على الخطة رقم {i}.",
]


def write_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        g = i % 25  # 25 provinces: articles about the same province share words
        body = "\n".join(p.format(i=i, g=g) for p in PARAGRAPHS)
        (folder / f"article-{i:05d}.txt").write_text(f"اجتماع رقم {i} حول الكهرباء في المحافظة {g}\n{body}\n",
                                                     encoding="utf-8")


class Server:
    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "server.py"), "--latency",
                                      str(latency)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)


def run_briefer(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB and stderr of one briefer run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen([*BRIEFER, *args], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"briefer failed ({proc.returncode}): {text}")
    return wall, usage.ru_maxrss // 1024, text


def closing(stderr: str) -> dict[str, int]:
    m = re.search(r"(\d+) articles.*?(\d+) cache hits, (\d+) model calls \((\d+) HTTP requests\), (\d+) tokens",
                  stderr)
    assert m, stderr
    keys = ("articles", "cache_hits", "model_calls", "http", "tokens")
    return dict(zip(keys, map(int, m.groups()), strict=True))


def summarize_args(folder: Path, out: Path, cache: Path, url: str, concurrency: int) -> list[str]:
    return ["summarize", str(folder), "--out", str(out), "--cache-dir", str(cache), "--base-url", url,
            "--recordings", str(folder.parent / "no-recordings"), "--concurrency", str(concurrency),
            "--date", "2026-11-22"]


def startup(runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "briefer", "--help"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fixed_prompt_tokens() -> int:
    """System prompt plus response schema of one article request: what every article call repeats."""
    sys.path.insert(0, str(ROOT / "src"))
    from briefer.model.prompts import Prompts
    from briefer.models import ArticleExtraction
    from briefer.tokens import estimate_tokens

    system = (Prompts().directory / "extract.system.j2").read_text(encoding="utf-8")
    schema = json.dumps(ArticleExtraction.model_json_schema(), ensure_ascii=False)
    return estimate_tokens(system) + estimate_tokens(schema)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--memory-articles", type=int, default=2000)
    ap.add_argument("--memory-latency", type=float, default=0.02)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="briefer-bench-"))
    rows: list[tuple[str, str, str]] = []
    try:
        folder = work / "articles"
        write_articles(folder, args.articles)
        server = Server(args.latency)
        try:
            cold_args = summarize_args(folder, work / "out-cold", work / "cache", server.url, args.concurrency)
            cold, cold_mem, cold_err = run_briefer(cold_args)
            warm, _, warm_err = run_briefer(summarize_args(folder, work / "out-warm", work / "cache", server.url,
                                                           args.concurrency))
        finally:
            server.close()
        c, w = closing(cold_err), closing(warm_err)
        ideal = math.ceil(args.articles / args.concurrency) * args.latency
        brief = json.loads((work / "out-cold" / "brief.json").read_text(encoding="utf-8"))
        merge_calls = c["model_calls"] - args.articles
        rows += [
            (f"cold run, {args.articles} articles, concurrency {args.concurrency}, latency {args.latency:g} s",
             f"{cold:.2f} s = {cold / ideal:.3f} x ideal {ideal:.2f} s", "<= 1.15 x ideal"),
            ("warm rerun (all cached)", f"{warm:.2f} s, {w['model_calls']} model calls", "< 1 s, 0 calls"),
            ("model calls per article (cold)", f"{c['model_calls'] / args.articles:.3f} "
             f"({args.articles} articles + {merge_calls} merge)", ""),
            ("HTTP requests per article (cold)", f"{c['http'] / args.articles:.3f}", ""),
            ("tokens per article (cold, echo model)", f"{c['tokens'] / args.articles:.0f}", ""),
            ("stories in the brief", str(len(brief["stories"])), ""),
            ("fixed prompt tokens per article call (system + schema, est.)", str(fixed_prompt_tokens()), ""),
            ("peak memory, cold run of the above", f"{cold_mem} MB", ""),
        ]

        mem_folder = work / "articles-mem"
        write_articles(mem_folder, args.memory_articles)
        server = Server(args.memory_latency)
        try:
            mem_wall, mem_peak, mem_err = run_briefer(summarize_args(mem_folder, work / "out-mem", work / "cache-mem",
                                                                     server.url, args.concurrency))
        finally:
            server.close()
        m = closing(mem_err)
        rows.append((f"peak memory, cold run of {args.memory_articles} articles", f"{mem_peak} MB "
                     f"({mem_wall:.1f} s, {m['model_calls'] - args.memory_articles} merge calls)", "< 300 MB"))
        rows.append(("briefer --help start-up (median of 7)", f"{startup():.3f} s", "< 0.3 s"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'figure':<48}  target")
    for name, figure, target in rows:
        print(f"{name:<{width}}  {figure:<48}  {target}")


if __name__ == "__main__":
    main()
