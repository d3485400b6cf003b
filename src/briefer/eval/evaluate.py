"""`briefer eval`: a test runner for prompts. Run the pipeline over a fixtures folder, check each
article's summary and the brief against declared expectations, and report.

    FIXTURES/articles/       the articles, as for `briefer summarize`
    FIXTURES/recordings/     the answers replayed offline (`--offline`)
    FIXTURES/expectations/   <article-id>.toml per article, brief.toml, optional checks.py

Day after day: a fixtures folder with no articles/ but one folder per day (FIXTURES/2024-09-17/,
FIXTURES/2024-09-18/, …; recordings in FIXTURES/recordings/<day>/) is run day by day, oldest first, each
day with `--date <day>` and compared with the day before, as `briefer summarize` does for a folder per day.
Expectations: brief-<day>.toml for that day's brief, brief.toml for the last day's, <article-id>.toml for
the article on the first day it appears.

The expectation format is described in `checks.py`. Offline, answers are replayed from the
recordings; live, every answer is asked of the model (no cache, and no recordings unless given).
Each check ends PASS, FAIL, STALE (the recording was made for another prompt, schema or input, or
is missing: re-record) or ERROR (the model failed, or a custom check raised).
Exit codes: 0 all pass · 4 some check FAIL or STALE · 1 errors · 2 usage (bad options or files).
With a second prompt folder (`compare_prompt_dir`) both are run and every changed check is listed;
the exit code is then that of the second run.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from briefer.defaults import DEFAULT_MODEL
from briefer.errors import NothingProduced, UsageError
from briefer.files import ReadBackError, loads_toml
from briefer.ingest.folder import article_id as id_of
from briefer.ingest.folder import read_folder
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, RunResult, SilentReporter, run
from briefer.worker import run_sync

from .checks import Check, ExpectationError, article_checks, brief_checks, show

Status = Literal["PASS", "FAIL", "STALE", "ERROR"]
STATUSES: tuple[Status, ...] = ("PASS", "FAIL", "STALE", "ERROR")
BRIEF = "brief"
_RERECORD = re.compile(r"(?:Re-record with|record it with): (.+?)(?: \(last raw output: .*\))?$", re.S)


# What to await instead, when a host calls this inside its running event loop (worker.run_sync).
IN_A_LOOP = "asyncio.to_thread(evaluate, cfg)"


@dataclass(frozen=True)
class EvalConfig:
    fixtures: Path = Path("fixtures")
    endpoint: EndpointConfig = field(default_factory=lambda: EndpointConfig(model=DEFAULT_MODEL))
    offline: bool = False
    prompt_dir: Path | None = None  # None: the shipped prompts
    recordings: Path | None = None  # None: FIXTURES/recordings offline, none live
    compare_prompt_dir: Path | None = None
    concurrency: int = 8
    out: Path | None = None  # keep each run's output (summaries, brief, failed answers) here; None: discarded
    retry_failed: bool = False  # ask again what the recordings hold as failed answers (live only)


@dataclass(frozen=True)
class Case:
    name: str  # an article id, "brief", or "brief-<day>"
    file: Path
    checks: list[Check]
    day: str | None = None  # the day whose run it checks, for a fixtures folder of days

    @property
    def is_brief(self) -> bool:
        return self.name == BRIEF or (self.day is not None and self.name == f"{BRIEF}-{self.day}")


@dataclass(frozen=True)
class CheckResult:
    check: str
    kind: str
    status: Status
    found: str


@dataclass(frozen=True)
class CaseResult:
    case: str
    results: list[CheckResult]
    problem: str | None = None  # why the checks could not run: the failure's reason
    rerecord: str | None = None  # the command that re-records, when the problem is a recording


@dataclass(frozen=True)
class RunOutcome:
    label: str
    prompt_dir: str
    cases: list[CaseResult]
    warnings: list[str] = field(default_factory=list)
    # Statements briefer checked against their evidence, per prompt that wrote them: (supported, checked).
    support: dict[str, tuple[int, int]] = field(default_factory=dict)

    def support_rate(self, prompt: str) -> float | None:
        supported, total = self.support.get(prompt, (0, 0))
        return supported / total if total else None

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for c in self.cases:
            for r in c.results:
                counts[r.status] += 1
        return counts

    @property
    def exit_code(self) -> int:
        t = self.totals()
        return 1 if t["ERROR"] else 4 if t["FAIL"] or t["STALE"] else 0


@dataclass(frozen=True)
class Change:
    case: str
    check: str
    before: CheckResult
    after: CheckResult

    @property
    def what(self) -> str:
        a, b = self.before.status, self.after.status
        return f"{a} → {b}" if a != b else "found changed"


@dataclass(frozen=True)
class EvalReport:
    settings: dict[str, Any]
    runs: list[RunOutcome]
    changes: list[Change] | None = None

    @property
    def exit_code(self) -> int:
        return self.runs[-1].exit_code


# ---------------------------------------------------------------- loading expectations


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def days_of(fixtures: Path) -> list[str]:
    """The day folders of a fixtures folder of days, oldest first; [] for a fixtures folder with articles/."""
    if (fixtures / "articles").exists() or not fixtures.is_dir():
        return []
    return sorted(p.name for p in fixtures.iterdir() if p.is_dir() and _DAY.fullmatch(p.name))


def load_cases(fixtures: Path) -> list[Case]:
    """Every expectation file of FIXTURES/expectations, read and checked; articles first, then the brief(s)."""
    days = days_of(fixtures)
    folder = fixtures / "expectations"
    for d in [*([] if days else [fixtures / "articles"]), folder]:
        if not d.is_dir():
            raise UsageError(f"no folder {d} (--fixtures must hold articles/ (or one folder per day), recordings/ "
                             "and expectations/)")
    first_day: dict[str, str | None] = {}
    runs: list[str | None] = [*days] or [None]
    for run_day in runs:
        for a in read_folder(fixtures / (run_day or "articles")).articles:
            first_day.setdefault(a.id, run_day)
    known = sorted(first_day)
    briefs: dict[str, str | None] = {BRIEF: days[-1] if days else None} | {f"{BRIEF}-{d}": d for d in days}
    files = sorted(folder.glob("*.toml"), key=lambda p: (p.stem in briefs, p.stem))
    if not files:
        raise UsageError(f"no expectation files (*.toml) in {folder}")
    resolve = python_resolver(folder)
    cases = []
    for path in files:
        try:
            data = loads_toml(path.read_text(encoding="utf-8"), str(path))
        except ReadBackError as exc:
            raise ExpectationError(str(exc)) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ExpectationError(f"{path}: not valid TOML: {exc}") from None
        if path.stem in briefs:
            checks, day = brief_checks(data, str(path), known, resolve), briefs[path.stem]
        elif path.stem in known:
            checks, day = article_checks(data, str(path), known, resolve), first_day[path.stem]
        else:
            where = ", ".join(days) if days else str(fixtures / "articles")
            names = "brief.toml or brief-<day>.toml" if days else "brief.toml"
            raise ExpectationError(f"{path}: no article '{path.stem}' in {where} "
                                   f"(name the file <article-id>.toml, or {names})")
        cases.append(Case(path.stem, path, _unique_labels(checks), day))
    return cases


def _unique_labels(checks: list[Check]) -> list[Check]:
    seen: dict[str, int] = {}
    out = []
    for c in checks:
        seen[c.label] = seen.get(c.label, 0) + 1
        out.append(c if seen[c.label] == 1 else dataclasses.replace(c, label=f"{c.label} #{seen[c.label]}"))
    return out


def python_resolver(folder: Path) -> Callable[[str], Callable[[Any], Any]]:
    """Resolve 'module:function' to a function of FOLDER/module.py (each module loaded once)."""
    modules: dict[str, Any] = {}

    def resolve(ref: str) -> Callable[[Any], Any]:
        name, _, fn_name = ref.partition(":")
        if not name.isidentifier() or not fn_name.isidentifier():
            raise ValueError(f"{ref!r} is not 'module:function'")
        path = folder / f"{name}.py"
        if name not in modules:
            if not path.is_file():
                raise ValueError(f"no file {path}")
            spec = importlib.util.spec_from_file_location(f"briefer_eval_checks.{name}", path)
            if spec is None or spec.loader is None:
                raise ValueError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                raise ValueError(f"{path} failed to load: {type(exc).__name__}: {exc}") from None
            modules[name] = module
        fn = getattr(modules[name], fn_name, None)
        if not callable(fn):
            raise ValueError(f"no function '{fn_name}' in {path}")
        return fn  # type: ignore[no-any-return]

    return resolve


# ---------------------------------------------------------------- running


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Load the expectations, run the pipeline (twice when comparing prompts) and check everything."""
    cases = load_cases(cfg.fixtures)
    for option, d in (("--prompt-dir", cfg.prompt_dir), ("--compare-prompt-dir", cfg.compare_prompt_dir)):
        if d is not None and not d.is_dir():
            raise UsageError(f"{option}: no folder {d}")
    settings = {"fixtures": str(cfg.fixtures), "offline": cfg.offline, "model": cfg.endpoint.model,
                "mode": cfg.endpoint.mode, "base_url": cfg.endpoint.base_url,
                "recordings": str(cfg.recordings) if cfg.recordings else None}
    if cfg.compare_prompt_dir is None:
        return EvalReport(settings, [run_sync(run_cases(cfg, cases, cfg.prompt_dir, ""), IN_A_LOOP)])
    a = run_sync(run_cases(cfg, cases, cfg.prompt_dir, "A"), IN_A_LOOP)
    b = run_sync(run_cases(cfg, cases, cfg.compare_prompt_dir, "B"), IN_A_LOOP)
    return EvalReport(settings, [a, b], compare(a, b))


async def run_cases(cfg: EvalConfig, cases: list[Case], prompt_dir: Path | None, label: str) -> RunOutcome:
    """One pipeline run over the fixtures (no cache), or one per day, then every check. The run's output goes
    to `cfg.out` (OUT/A and OUT/B when comparing; OUT/<day> per day) or to a temporary folder that is deleted
    afterwards."""
    collect = SilentReporter()
    days = days_of(cfg.fixtures)
    with tempfile.TemporaryDirectory(prefix="briefer-eval-") as tmp:
        out = (cfg.out / label if label else cfg.out) if cfg.out else Path(tmp) / "out"
        outcomes: dict[str, CaseResult] = {}
        support: dict[str, tuple[int, int]] = {}
        runs: list[str | None] = [*days] or [None]
        for day in runs:
            if cfg.offline:
                recordings = (cfg.recordings or cfg.fixtures / "recordings") / (day or "")
            else:
                recordings = cfg.recordings / (day or "") if cfg.recordings else Path(tmp) / "no-recordings"
            todays = [c for c in cases if c.day == day]
            run_cfg = RunConfig(folder=cfg.fixtures / (day or "articles"), endpoint=cfg.endpoint,
                                out_dir=out / day if day else out, concurrency=cfg.concurrency, cache_dir=None,
                                recordings_dir=recordings, offline=cfg.offline, prompt_dir=prompt_dir, date=day,
                                retry_failed=cfg.retry_failed)
            try:
                result = await run(run_cfg, collect)
            except NothingProduced as exc:
                outcomes |= {c.name: r for c, r in zip(todays, _nothing_produced(todays, exc), strict=True)}
            else:
                outcomes |= {c.name: _case_result(c, result) for c in todays}
                for prompt, (ok, n) in statement_support(result).items():
                    was = support.get(prompt, (0, 0))
                    support[prompt] = (was[0] + ok, was[1] + n)
        results = [outcomes[c.name] for c in cases]
    if cfg.out is None:  # the folder is gone: say how to keep it rather than point into it
        results = [_unpoint(c, tmp) for c in results]
    return RunOutcome(label, str(prompt_dir) if prompt_dir else "shipped prompts", results, collect.warnings, support)


def statement_support(result: RunResult) -> dict[str, tuple[int, int]]:
    """(supported, checked) statements per prompt: the extract prompt's (key points, claims, events) and the
    merge prompt's (summary lines, story sentences, perspectives, positions). A prompt change wins or loses here."""
    def tally(supports: list[Any]) -> tuple[int, int]:
        return sum(1 for x in supports if x is not None and x.verdict == "supported"), len(supports)

    brief = result.brief
    extract = [x.support for s in result.summaries for x in s.key_points]
    extract += [x.support for s in result.summaries for x in s.claims]
    extract += [x.support for s in result.summaries for x in s.events]
    merge = [line.support for line in brief.executive_summary]
    merge += [x.support for st in brief.stories for x in st.sentences]
    merge += [v.support for st in brief.stories for v in st.perspectives]
    merge += [p.support for d in brief.disagreements for p in d.positions]
    return {"extract": tally(extract), "merge": tally(merge)}


def support_line(run: RunOutcome) -> str:
    """The statement-support rate of each prompt, as `briefer eval` reports it."""
    parts = []
    for prompt, (ok, n) in sorted(run.support.items()):
        rate = f"{ok / n:.1%}" if n else "none checked"
        parts.append(f"{prompt} {ok} of {n} ({rate})")
    name = f"{run.label}: " if run.label else ""
    return f"statements supported: {name}" + ("; ".join(parts) or "none checked")


def _unpoint(case: CaseResult, tmp: str) -> CaseResult:
    """A case whose texts no longer name files in the deleted folder `tmp`."""
    gone = re.compile(r"\(last raw output: " + re.escape(tmp) + r"[^)]*(\)|…$)")  # cut by show()
    keep = "(rerun with --out DIR to keep the model's raw output)"

    def fix(text: str) -> str:
        return gone.sub(keep, text)

    return dataclasses.replace(
        case, problem=fix(case.problem) if case.problem else None,
        results=[dataclasses.replace(r, found=fix(r.found)) for r in case.results])


def _case_result(case: Case, result: RunResult) -> CaseResult:
    brief = result.brief
    failures = {f.source_path if f.source_path == "(merge)" else id_of(Path(f.source_path)): f
                for f in brief.failures}
    target: Any
    if case.is_brief:
        failure, target = failures.get("(merge)"), brief
    else:
        failure = failures.get(case.name)
        target = next((s for s in result.summaries if s.id == case.name), None)
    if failure is not None:
        return _blocked(case, failure.kind, failure.reason)
    if target is None:
        skipped = [s.reason for s in brief.skipped if id_of(Path(s.source_path)) == case.name]
        return _blocked(case, "model_error", f"no summary for this article{': ' + skipped[0] if skipped else ''}")
    return CaseResult(case.name, [apply_check(c, target) for c in case.checks])


def apply_check(check: Check, target: Any) -> CheckResult:
    try:
        ok, found = check.test(target)
    except Exception as exc:  # a check that raises is reported, not fatal
        return CheckResult(check.label, check.kind, "ERROR", f"{type(exc).__name__}: {exc}")
    return CheckResult(check.label, check.kind, "PASS" if ok else "FAIL", found)


def _blocked(case: Case, kind: str, reason: str) -> CaseResult:
    """Every check of a case whose answer could not be had: STALE for recordings, ERROR otherwise."""
    status: Status = "ERROR" if kind == "model_error" else "STALE"
    if kind == "stale_recording":
        why = "stale recording: " + reason.split(" is stale: ", 1)[-1].split(". Re-record with:", 1)[0]
    elif kind == "missing_recording":
        why = "no recording for this request"
    else:
        why = show(reason, 200)
    m = _RERECORD.search(reason)
    command = m.group(1) if m else None
    return CaseResult(case.name, [CheckResult(c.label, c.kind, status, why) for c in case.checks],
                      problem=reason, rerecord=command)


def _nothing_produced(cases: list[Case], exc: NothingProduced) -> list[CaseResult]:
    """Every article failed, so the pipeline stopped: each article case gets its own failure, the brief
    the first one (there was nothing to merge)."""
    if not exc.failures:
        raise exc
    by_id = {id_of(Path(f.source_path)): f for f in exc.failures}
    first = exc.failures[0]
    out = []
    for case in cases:
        failure = by_id.get(case.name)
        if failure is not None:
            out.append(_blocked(case, failure.kind, failure.reason))
        else:
            what = "no brief" if case.is_brief else "no summary for this article"
            out.append(_blocked(case, first.kind, f"{what}; first failure: {first.reason}"))
    return out


def compare(a: RunOutcome, b: RunOutcome) -> list[Change]:
    """Checks whose status or found text differ between two runs, in report order."""
    before = {(c.case, r.check): r for c in a.cases for r in c.results}
    out = []
    for c in b.cases:
        for r in c.results:
            old = before.get((c.case, r.check))
            if old is not None and (old.status, old.found) != (r.status, r.found):
                out.append(Change(c.case, r.check, old, r))
    return out


# ---------------------------------------------------------------- reporting


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], widths: tuple[int, ...]) -> list[str]:
    cols = [min(w, max(len(r[i]) for r in [header, *rows])) for i, w in enumerate(widths)]
    return ["  ".join(_clip(v, cols[i]).ljust(cols[i]) for i, v in enumerate(r)).rstrip() for r in [header, *rows]]


def _totals_line(run: RunOutcome) -> str:
    t = run.totals()
    name = f"{run.label} ({run.prompt_dir}): " if run.label else ""
    return (f"eval: {name}{len(run.cases)} cases, {sum(t.values())} checks: "
            + ", ".join(f"{t[s]} {s}" for s in STATUSES))


def _problems(run: RunOutcome) -> list[str]:
    lines = [f"{c.results[0].status if c.results else 'STALE'} {c.case}: {c.problem.split('. Re-record with:')[0]}"
             for c in run.cases if c.problem]
    commands = sorted({c.rerecord for c in run.cases if c.rerecord})
    return lines + [f"re-record with: {cmd}" for cmd in commands]


def format_run(run: RunOutcome) -> str:
    """The table of one run (case, check, status, what was found), its problems and its totals."""
    rows = [(c.case, r.check, r.status, r.found) for c in run.cases for r in c.results]
    lines = _table(("CASE", "CHECK", "STATUS", "FOUND"), rows, (24, 64, 6, 110))
    return "\n".join([*lines, *_problems(run), _totals_line(run), support_line(run)])


def format_changes(report: EvalReport) -> str:
    """What changed from prompts A to prompts B, check by check."""
    a, b = report.runs
    changes = report.changes or []
    rows = [(c.case, c.check, c.what, c.before.found if c.before.found == c.after.found
             else f"{_clip(c.before.found, 80)}  ⇒  {_clip(c.after.found, 80)}") for c in changes]
    counts = {k: sum(1 for c in changes if (c.before.status, c.after.status) == k)
              for k in (("PASS", "FAIL"), ("FAIL", "PASS"))}
    found = sum(1 for c in changes if c.before.status == c.after.status)
    other = len(changes) - found - sum(counts.values())
    lines = [f"compare: A = {a.prompt_dir}, B = {b.prompt_dir}", _totals_line(a), _totals_line(b), support_line(a),
             support_line(b)]
    lines += _table(("CASE", "CHECK", "A → B", "FOUND (A ⇒ B)"), rows, (24, 64, 15, 170)) if rows else []
    lines += [*_problems(b)]
    total = sum(len(c.results) for c in b.cases)
    lines.append(f"compare: {len(changes)} of {total} checks changed: {counts['PASS', 'FAIL']} pass→fail, "
                 f"{counts['FAIL', 'PASS']} fail→pass, {found} found text changed, {other} other")
    return "\n".join(lines)


def format_report(report: EvalReport) -> str:
    return format_run(report.runs[0]) if report.changes is None else format_changes(report)


def _case_status(c: CaseResult) -> Status:
    order = {"PASS": 0, "FAIL": 1, "STALE": 2, "ERROR": 3}
    return max((r.status for r in c.results), key=lambda s: order[s], default="PASS")


def to_json(report: EvalReport) -> str:
    """The report as JSON (UTF-8, names as written)."""
    def run_data(run: RunOutcome) -> dict[str, Any]:
        return {"label": run.label, "prompt_dir": run.prompt_dir, "exit_code": run.exit_code, "totals": run.totals(),
                "warnings": run.warnings,
                "statement_support": {k: {"supported": ok, "checked": n, "rate": round(ok / n, 4) if n else None}
                                      for k, (ok, n) in sorted(run.support.items())},
                "cases": [{"case": c.case, "status": _case_status(c), "problem": c.problem, "rerecord": c.rerecord,
                           "checks": [dataclasses.asdict(r) for r in c.results]} for c in run.cases]}

    data: dict[str, Any] = {"briefer_eval": 1, "settings": report.settings, "exit_code": report.exit_code,
                            "runs": [run_data(r) for r in report.runs]}
    if report.changes is not None:
        data["changes"] = [{"case": c.case, "check": c.check, "change": c.what,
                            "before": {"status": c.before.status, "found": c.before.found},
                            "after": {"status": c.after.status, "found": c.after.found}} for c in report.changes]
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def to_junit(run: RunOutcome) -> str:
    """JUnit XML: a testsuite per case, a testcase per check; FAIL and STALE are failures, ERROR errors."""
    t = run.totals()
    root = ET.Element("testsuites", name="briefer eval", tests=str(sum(t.values())),
                      failures=str(t["FAIL"] + t["STALE"]), errors=str(t["ERROR"]))
    for c in run.cases:
        counts = {s: sum(1 for r in c.results if r.status == s) for s in STATUSES}
        suite = ET.SubElement(root, "testsuite", name=c.case, tests=str(len(c.results)),
                              failures=str(counts["FAIL"] + counts["STALE"]), errors=str(counts["ERROR"]), skipped="0")
        for r in c.results:
            case = ET.SubElement(suite, "testcase", classname=f"briefer.eval.{c.case}", name=r.check)
            if r.status == "PASS":
                ET.SubElement(case, "system-out").text = r.found
                continue
            tag = "error" if r.status == "ERROR" else "failure"
            detail = "\n".join(x for x in (r.found, c.problem, c.rerecord and f"re-record with: {c.rerecord}") if x)
            ET.SubElement(case, tag, message=r.found, type=r.status).text = detail
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
