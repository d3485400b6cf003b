"""The run report from the gateway's counters: spent and replayed, each with its tokens and cost."""

from __future__ import annotations

from briefer.runreport import Replayed, RunReport, Spent, StageReport, TokenCount

from .answers import Counters, Tokens
from .costs import Price


def _total(by_stage: dict[str, Tokens]) -> Tokens:
    return Tokens(prompt=sum(t.prompt for t in by_stage.values()),
                  completion=sum(t.completion for t in by_stage.values()),
                  cached=sum(t.cached for t in by_stage.values()))


def _count(t: Tokens | None) -> TokenCount:
    return TokenCount(prompt_tokens=t.prompt, completion_tokens=t.completion) if t else TokenCount(
        prompt_tokens=0, completion_tokens=0)


def run_report(counters: Counters, price: Price | None) -> RunReport:
    """What the run spent and what it replayed, from the gateway's counters, costed at `price`."""
    spent, replayed = _total(counters.spent), _total(counters.replayed)

    def cost(t: Tokens) -> float | None:
        return round(price.cost(t.prompt, t.completion, t.cached), 6) if price else None

    stages = sorted(set(counters.spent) | set(counters.replayed))
    return RunReport(
        spent=Spent(answers=counters.model_calls, http_requests=counters.http_attempts, prompt_tokens=spent.prompt,
                    completion_tokens=spent.completion, cached_tokens=spent.cached, cost_usd_est=cost(spent)),
        replayed=Replayed(answers=counters.replays, from_cache=counters.cache_hits,
                          from_recordings=counters.recording_hits, prompt_tokens=replayed.prompt,
                          completion_tokens=replayed.completion, cached_tokens=replayed.cached,
                          cost_usd_when_asked=cost(replayed)),
        by_stage={s: StageReport(spent=_count(counters.spent.get(s)), replayed=_count(counters.replayed.get(s)))
                  for s in stages},
        price=price.describe() if price else None,
    )
