"""Finding and reading the earlier brief: what a year of day folders costs, and oversized earlier briefs.

    python benchmarks/history.py               # 365 sibling days, each brief.json padded to 1 MB
    python benchmarks/history.py --days 30     # a quick look

Phase 1 (lookup): the two days of fixtures/daily are run offline into briefs/, then `--days` sibling day
folders of *another* input folder are added, each with its brief.json (padded to `--brief-mb`, as a brief of
many articles is) and its brief-index.json. The automatic `--since` of day 2 is timed with none of them and
with all of them (median of 5), beside what the lookup cost before indexes: parsing every sibling's
brief.json whole to learn its date.

Phase 2 (oversized inputs, each in a fresh process, peak resident memory): `--since` at an earlier brief with a
100 MB title, and one whose article ids are `../../../../dev/zero` and `/etc/passwd` with no hashes (so its
article files would be read).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAILY = ROOT / "fixtures" / "daily"
DAY1, DAY2 = "2024-09-17", "2024-09-18"


def _run_day(day: str, briefs: Path, since: Path | None = None) -> None:
    from briefer.pipeline import RunConfig, summarize_folder

    summarize_folder(RunConfig(folder=DAILY / day, out_dir=briefs / day, date=day, offline=True, since=since))


def _siblings(briefs: Path, days: int, brief_mb: float) -> None:
    template = json.loads((briefs / DAY1 / "brief.json").read_text(encoding="utf-8"))
    index = json.loads((briefs / DAY1 / "brief-index.json").read_text(encoding="utf-8"))
    other = str((ROOT / "fixtures" / "articles").resolve())
    pad = "x" * max(0, int(brief_mb * 2**20) - len(json.dumps(template)))
    n = 0
    day = 0
    while n < days:
        name = f"{2022 + day // 336}-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
        day += 1
        folder = briefs / name
        if folder.exists():
            continue
        folder.mkdir()
        brief = dict(template, date=name, notes=[{"source_path": "padding", "note": pad}])
        (folder / "brief.json").write_text(json.dumps(brief, ensure_ascii=False), encoding="utf-8")
        (folder / "brief-index.json").write_text(json.dumps(index | {"date": name, "folder": other,
                                                                      "series": other}), encoding="utf-8")
        n += 1


def _time(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _parse_all(briefs: Path) -> None:
    """The lookup before indexes: every sibling's brief.json parsed whole for its date."""
    for folder in briefs.iterdir():
        if (folder / "brief.json").is_file():
            json.loads((folder / "brief.json").read_bytes()).get("date")


def lookup(days: int, brief_mb: float) -> None:
    from briefer.brief.history import find_earlier

    with tempfile.TemporaryDirectory() as tmp:
        briefs = Path(tmp) / "briefs"
        _run_day(DAY1, briefs)
        alone = _time(lambda: find_earlier(briefs / DAY2, DAY2, DAILY / DAY2))
        run_alone = _time(lambda: _run_day(DAY2, briefs), repeat=3)
        _siblings(briefs, days, brief_mb)
        crowded = _time(lambda: find_earlier(briefs / DAY2, DAY2, DAILY / DAY2))
        run_crowded = _time(lambda: _run_day(DAY2, briefs), repeat=3)
        assert find_earlier(briefs / DAY2, DAY2, DAILY / DAY2) == briefs / DAY1
        whole = _time(lambda: _parse_all(briefs), repeat=3)
        size = sum(p.stat().st_size for p in briefs.rglob("brief.json")) / 2**20
    print(f"lookup, no sibling days:        {alone * 1000:8.2f} ms")
    print(f"lookup, {days} sibling days:     {crowded * 1000:8.2f} ms  (indexes only)")
    print(f"parsing their brief.json whole: {whole * 1000:8.2f} ms  ({size:.0f} MB: the lookup before indexes)")
    print(f"day 2's whole offline run:      {run_alone * 1000:8.0f} ms with no sibling days, "
          f"{run_crowded * 1000:.0f} ms with {days}")


_CASE = """
import json, sys
from pathlib import Path
from briefer.pipeline import RunConfig, SilentReporter, summarize_folder
rep = SilentReporter()
r = summarize_folder(RunConfig(folder=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), date="2024-09-18",
                               offline=True, since=Path(sys.argv[3])), rep)
size = max((Path(sys.argv[2]) / n).stat().st_size for n in ("brief.json", "brief.md", "brief.html"))
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report its parent's peak.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"rss_mb": hwm / 1024,
                  "compared": r.brief.continuity is not None, "largest_output_kb": size / 1024,
                  "warning": rep.warnings[0] if rep.warnings else ""}))
"""


def oversized() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "briefs"
        _run_day(DAY1, base)
        earlier = base / DAY1
        data = json.loads((earlier / "brief.json").read_text(encoding="utf-8"))
        cases = {}
        title = base / "title"
        shutil.copytree(earlier, title)
        (title / "brief.json").write_text(json.dumps(data | {"title": "T" * (100 * 2**20)}), encoding="utf-8")
        cases["100 MB title"] = title
        ids = base / "ids"
        shutil.copytree(earlier, ids)
        text = json.dumps(data)
        for a in data["articles"]:
            text = text.replace(f'"content_sha256": "{a["content_sha256"]}"', '"content_sha256": null')
        for old, new in zip([a["id"] for a in data["articles"]], ["../../../../dev/zero", "/etc/passwd"],
                            strict=False):
            text = text.replace(old, new)
        (ids / "brief.json").write_text(text, encoding="utf-8")
        cases["ids ../../../../dev/zero, /etc/passwd"] = ids
        for label, folder in cases.items():
            out = subprocess.run([sys.executable, "-c", _CASE, str(DAILY / DAY2), str(Path(tmp) / label[:5]),
                                  str(folder)], capture_output=True, text=True, check=True, cwd=tmp)
            r = json.loads(out.stdout)
            print(f"{label}: peak {r['rss_mb']:.0f} MB, compared: {r['compared']}, largest output "
                  f"{r['largest_output_kb']:.0f} KB; {r['warning'][-110:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--brief-mb", type=float, default=1.0)
    args = ap.parse_args()
    lookup(args.days, args.brief_mb)
    oversized()
    print(f"this process (it writes the oversized files): peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
