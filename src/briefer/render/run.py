"""The run report: run.json beside the brief, and the closing line a command prints. Computes nothing new.

The closing line says what this run spent (requests sent, tokens billed, dollars) and, apart, what it replayed
(answers from the cache or the recordings, with the tokens they cost when first asked): a warm rerun spends
0 tokens and $0, whatever its replayed answers once cost.
"""

from __future__ import annotations

from pathlib import Path

from briefer.model.cache import pretty_json
from briefer.models import Brief
from briefer.runreport import RunReport

from .common import plural

RUN_REPORT = "run.json"  # beside brief.json in the output folder


def report_json(report: RunReport) -> str:
    return pretty_json(report.model_dump(mode="json"))


def _tokens(prompt: int, completion: int, cached: int = 0) -> str:
    """`cached`: of the prompt tokens, those the server read from its prompt cache (said only when it reported some)."""
    total = prompt + completion
    of_which = f", {cached} of the prompt cached" if cached else ""
    return f"{plural(total, 'token')} ({prompt} prompt + {completion} completion{of_which})" if total else "0 tokens"


def spent_line(report: RunReport) -> str:
    """What this run sent and was billed for: `6 model calls (6 HTTP requests), 18208 tokens (...), estimated
    $0.0041`."""
    s = report.spent
    calls = f"{plural(s.answers, 'model call')} ({plural(s.http_requests, 'HTTP request')})"
    if s.prompt_tokens + s.completion_tokens == 0:
        cost = "$0"
    elif s.cost_usd_est is None:
        cost = "cost unknown (no price for the model; --price IN,OUT[,CACHED])"
    else:
        cost = f"estimated ${s.cost_usd_est:.4f}"
    return f"{calls}, {_tokens(s.prompt_tokens, s.completion_tokens, s.cached_tokens)}, {cost}"


def replayed_line(report: RunReport) -> str:
    """What this run took from stored answers, never sent: `6 answers from the recordings, 18208 tokens (...),
    $0.0041 when first asked`; `nothing` when every answer was asked now."""
    r = report.replayed
    if r.answers == 0:
        return "nothing"
    if r.from_cache and r.from_recordings:
        where = (f"{plural(r.answers, 'answer')} ({r.from_cache} from the cache, "
                 f"{r.from_recordings} from the recordings)")
    else:
        where = f"{plural(r.answers, 'answer')} from the {'cache' if r.from_cache else 'recordings'}"
    worth = f", ${r.cost_usd_when_asked:.4f} when first asked" if r.cost_usd_when_asked else ""
    return f"{where}, {_tokens(r.prompt_tokens, r.completion_tokens, r.cached_tokens)}{worth}"


def closing_line(brief: Brief, report: RunReport, out_dir: Path) -> str:
    """The line a run ends with: where the brief is, what it holds, what the run spent and what it replayed."""
    status = "partial brief" if brief.partial else "brief"
    kept = sum(1 for a in brief.articles if a.warnings)
    return (f"{status} written to {out_dir}: {plural(brief.stats.articles, 'article')}"
            + (f" ({kept} kept in part)" if kept else "")
            + f", {len(brief.failures)} failed, {len(brief.skipped)} skipped; "
            f"spent: {spent_line(report)}; replayed: {replayed_line(report)}")
