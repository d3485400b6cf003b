"""Peak memory of what briefer reads back when it is oversized (issue 31): each case in a fresh process.

    python benchmarks/read_back.py            # every case; the files are made sparse or streamed, then removed

Cases:
  import-lines   `briefer batch import` of a 1.2 GB results file: 1,200 lines of 1 MB each (streamed)
  import-line    `briefer batch import` of a 1.2 GB results file that is one line (sparse NUL bytes)
  collect        `batch collect` of a finished batch whose output file is 1.2 GB (its answers, then a sparse
                 tail; downloaded to a temporary file as it streams in, read line by line)
  recording      an offline run where one recording and one cache entry are 2 GB (sparse): misses by size
Each figure is the child process's maximum resident set (ru_maxrss), against the issue's limit of 300 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 300
SIZE = 1_200_000_000

COLLECT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import echo_model
from fake_batches import FakeBatches
from test_read_back_batch import HugeOutput, _config
from briefer.batch_run import collect, status, submit
tmp = Path(sys.argv[1])
with FakeBatches(echo_model.respond) as server:
    cfg = _config(tmp, server.base_url)
    submit(cfg)
    provider = HugeOutput(server)
    for _ in range(3):
        status(cfg.output, provider, base_url=server.base_url)
    done = collect(cfg.output, provider=provider, base_url=server.base_url, folder=cfg.folder)
    assert done.imported == 5 and done.result is not None, done
"""


def child_peak_mb(args: list[str]) -> tuple[float, int]:
    """Run `args` in a child process: its peak resident set in MB, and its exit code."""
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc.returncode  # KiB on Linux


def measured(args: list[str]) -> tuple[float, int]:
    """`child_peak_mb` from a fresh wrapper process, so one case's peak never hides another's."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from read_back import child_peak_mb; "
            "print(json.dumps(child_peak_mb(sys.argv[2:])))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks"), *args], capture_output=True,
                         text=True, check=True, timeout=1900).stdout
    peak, rc = json.loads(out)
    return float(peak), int(rc)


def main() -> None:
    briefer = [sys.executable, "-m", "briefer"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        lines = tmp / "lines.jsonl"
        with lines.open("w", encoding="utf-8") as fh:
            filler = "x" * (1_000_000 - 80)
            for n in range(SIZE // 1_000_000):
                fh.write(json.dumps({"custom_id": f"id-{n}", "response": {"status_code": 200, "body": filler}})
                         + "\n")
        rows.append(("import-lines", *measured([*briefer, "batch", "import", str(lines), "--cache-dir",
                                                str(tmp / "cache")])))
        lines.unlink()
        line = tmp / "line.jsonl"
        with line.open("wb") as fh:
            fh.truncate(SIZE)
        rows.append(("import-line", *measured([*briefer, "batch", "import", str(line), "--cache-dir",
                                               str(tmp / "cache")])))
        line.unlink()
        rows.append(("collect", *measured([sys.executable, "-c", COLLECT, str(tmp / "collect"),
                                           str(ROOT / "tests")])))
        fixtures = tmp / "fixtures"
        import shutil

        shutil.copytree(ROOT / "fixtures" / "articles", fixtures / "articles")
        shutil.copytree(ROOT / "fixtures" / "recordings", fixtures / "recordings")
        recording = sorted((fixtures / "recordings" / "extract").glob("*.json"))[0]
        with recording.open("r+b") as fh:
            fh.truncate(2_000_000_000)
        rows.append(("recording", *measured([*briefer, "summarize", str(fixtures / "articles"), "--offline",
                                             "--no-cache", "--out", str(tmp / "out"), "--date", "2026-11-22"])))
    print(f"{'case':<14} {'peak MB':>8}  exit  (limit {LIMIT_MB} MB)")
    for name, peak, rc in rows:
        print(f"{name:<14} {peak:>8.0f}  {rc:>4}  {'ok' if peak < LIMIT_MB else 'OVER'}")


if __name__ == "__main__":
    main()
