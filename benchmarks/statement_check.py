"""What the statement check (extract/support.py, brief/sentences.py) adds to the seed folder's offline run.

    python benchmarks/statement_check.py            # 5 runs each
    python benchmarks/statement_check.py --runs 9

Two figures, each from fresh processes (the check's caches and lexicons start cold, as in a real run):

- the seed run: `briefer summarize fixtures/articles --offline --no-cache`, wall and CPU (user + system of
  the briefer process, from wait4), fastest and median of the runs;
- the check alone, on the seed's own answers, each in a fresh interpreter: ground() of every article with the
  statement check minus ground() without it (every statement against its quote), plus every merge sentence
  against its atoms (check_draft, as build_brief does), with the lexicons loaded inside the timing.

The share is the check's CPU over the run's CPU. The issue's target: under 20%. Not a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COLD_CHECK = r"""
import json, sys, time
from pathlib import Path
from briefer.brief.merge import plan, with_timelines
from briefer.extract import article as art
from briefer.ingest.folder import read_folder
from briefer.models import ArticleExtraction, BriefDraft
root, mode = Path(sys.argv[1]), sys.argv[2]
folder = read_folder(root / "fixtures" / "articles")
answers = {p.stem: json.loads(p.read_text(encoding="utf-8"))["response"]
           for p in (root / "fixtures" / "recordings" / "extract").glob("*.json")}
merge = json.loads((root / "fixtures" / "recordings" / "merge" / "brief.json").read_text(encoding="utf-8"))
grounded = []
for a in folder.articles:
    e = ArticleExtraction.model_validate(answers[a.id], context={"paragraph_count": len(a.paragraphs)})
    grounded.append((a, e))
draft = BriefDraft.model_validate(merge["response"])
if mode == "without":  # ground() as it was before the statement check: the same work, _supported a no-op
    art._supported = lambda article, extraction, published, k, c, e: (k, c, e)
t0 = time.process_time()
from briefer.brief.checked import check_draft
summaries = [art.ground(a, e) for a, e in grounded]  # quotes located, dates checked (and statements, "with")
t1 = time.process_time()
p = plan(summaries)
stories = with_timelines(draft.stories, p.summaries)
t2 = time.process_time()
if mode == "with":
    check_draft(draft, stories, p.summaries, p.entities)
t3 = time.process_time()
print(json.dumps({"ground": t1 - t0, "merge_check": t3 - t2}))
"""


def _run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    runs, checks = [], []
    with tempfile.TemporaryDirectory(prefix="briefer-bench-") as tmp:
        for n in range(args.runs):
            out = Path(tmp) / f"out{n}"
            runs.append(_run([sys.executable, "-m", "briefer", "summarize", "fixtures/articles", "--offline",
                              "--no-cache", "--out", str(out)], ROOT))
            measured = {}
            for mode in ("without", "with"):  # each in a fresh interpreter: caches and lexicons cold
                child = subprocess.run([sys.executable, "-c", COLD_CHECK, str(ROOT), mode], cwd=ROOT,
                                       capture_output=True, text=True, check=True)
                measured[mode] = json.loads(child.stdout.strip().splitlines()[-1])
            checks.append({"article_check": measured["with"]["ground"] - measured["without"]["ground"],
                           "merge_check": measured["with"]["merge_check"]})
    wall = sorted(w for w, _c in runs)
    cpu = sorted(c for _w, c in runs)
    article = sorted(c["article_check"] for c in checks)
    merge = sorted(c["merge_check"] for c in checks)
    total = [a + m for a, m in zip(article, merge, strict=True)]
    print(f"seed offline run ({args.runs} cold runs): wall fastest {wall[0]:.3f} s, median "
          f"{statistics.median(wall):.3f} s; CPU fastest {cpu[0]:.3f} s, median {statistics.median(cpu):.3f} s")
    print(f"statement check, cold: article statements {statistics.median(article) * 1000:.0f} ms, merge sentences "
          f"{statistics.median(merge) * 1000:.0f} ms (median), total {statistics.median(total) * 1000:.0f} ms")
    check, run = statistics.median(total), statistics.median(cpu)
    print(f"the check's share of the run's CPU: {check / run:.1%}; it adds {check / (run - check):.1%} to the run "
          "without it (target: under 20%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
