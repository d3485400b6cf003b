"""What a run costs: a small price table, overridable, and token estimates for requests not yet sent.

Prices are USD per million tokens (input, output, cached input), as published by OpenAI for these
models; they change, so `--price IN,OUT[,CACHED]` (or BRIEFER_PRICE) overrides them, and local models have
no price unless one is given (cost is then reported as unknown, not as zero). Cached input is the part of
a prompt the server reports as read from its prompt cache (usage.prompt_tokens_details.cached_tokens).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from briefer.errors import BudgetExceeded, UsageError
from briefer.text.tokens import estimate_tokens

# USD per 1M tokens: (input, output, cached input). Checked 2025; override with --price when they change.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "gpt-4o": (2.50, 10.00, 1.25),
    "gpt-4.1-nano": (0.10, 0.40, 0.025),
    "gpt-4.1-mini": (0.40, 1.60, 0.10),
    "gpt-4.1": (2.00, 8.00, 0.50),
    "o4-mini": (1.10, 4.40, 0.275),
}


@dataclass(frozen=True)
class Price:
    model: str
    input_per_million: float
    output_per_million: float
    cached_per_million: float | None = None  # None: cached input costs what input costs

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """`cached_tokens`: the part of `prompt_tokens` read from the server's prompt cache."""
        cached = min(max(0, cached_tokens), prompt_tokens)
        cached_price = self.input_per_million if self.cached_per_million is None else self.cached_per_million
        return ((prompt_tokens - cached) * self.input_per_million + cached * cached_price
                + completion_tokens * self.output_per_million) / 1e6

    def describe(self) -> str:
        cached = "" if self.cached_per_million is None else f" / ${self.cached_per_million:g} cached in"
        return f"{self.model}: ${self.input_per_million:g} in / ${self.output_per_million:g} out{cached} per 1M tokens"


def parse_price(text: str, model: str) -> Price:
    try:
        numbers = [float(x) for x in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3):
        raise UsageError(f"--price must be 'IN,OUT' or 'IN,OUT,CACHED' in USD per million tokens, e.g. 0.15,0.60 "
                         f"or 0.15,0.60,0.075; got '{text}'")
    if not all(math.isfinite(x) and x >= 0 for x in numbers):
        raise UsageError(f"--price must be finite numbers, not negative; got '{text}'")
    return Price(model, numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


def price_for(model: str, override: str | None = None) -> Price | None:
    """The price of `model`: the override, BRIEFER_PRICE, or the table (longest matching name, so
    dated snapshots like gpt-4o-mini-2024-07-18 find their family). None when unknown."""
    text = override or os.environ.get("BRIEFER_PRICE")
    if text:
        return parse_price(text, model)
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return Price(model, *PRICES[name])
    return None


def prompt_estimate(messages: list[dict[str, Any]], schema: Any) -> int:
    """Estimated prompt tokens of a request: its messages and the schema (or tool) sent with them."""
    return sum(estimate_tokens(str(m.get("content") or "")) + 4 for m in messages) + estimate_tokens(
        json.dumps(schema, ensure_ascii=False))


# The answer model: estimated completion tokens of a complete answer from its request's input tokens, as
# (fixed, per input token), by prompt. Fitted on the reference answers (fixtures/recordings/; their compact JSON
# counted by estimate_tokens, as the fake server bills them): an extraction is about 2,360 tokens of record
# (entities with their spellings, claims, events and key points each with a verbatim quote) plus 3.37 tokens per
# token of article (the full translation and the quotes grow with it): 5,364-8,495 for the seed articles, each
# within 6% of the fit. A merge answer is about an eighth of its input (1,981 for 15,472).
ANSWER_MODEL: dict[str, tuple[float, float]] = {
    "extract": (2360.0, 3.37),
    "extract_reduce": (900.0, 0.15),  # headline, summary, date and key points chosen from the parts' records
    "merge": (300.0, 0.11),
    "merge_stories": (300.0, 0.15),
    "merge_overview": (200.0, 0.2),
}
# The largest answer planned for one request: gpt-4o-mini and gpt-4o stop at 16,384 output tokens; 12,000 leaves
# room for an answer 1.36x its estimate. Articles whose answer would be larger are read in parts.
MAX_ANSWER_TOKENS = 12_000
DIGEST_SHARE = 0.34  # an article's digest as the merge reads it, per token of its extraction (0.33-0.37 on the seed)
MERGE_OVERHEAD = 1.43  # the merge input per token of digests: the joined entities and story groups come with them


def completion_estimate(prompt: str, input_tokens: int) -> int:
    """The estimated completion tokens of a complete answer to a request of `prompt` (its name: a stage's prompt,
    or "extract+extract_reask" for a re-ask) over `input_tokens` of input (ANSWER_MODEL). A re-ask's input holds the
    article and the previous answer; its answer is a whole extraction again, of the article alone."""
    if prompt == "extract+extract_reask":
        fixed, per = ANSWER_MODEL["extract"]
        article = max(0.0, (input_tokens - fixed) / (1 + per))
        return math.ceil(fixed + per * article)
    fixed, per = ANSWER_MODEL.get(prompt.split("+")[0], ANSWER_MODEL["merge"])
    return math.ceil(fixed + per * input_tokens)


def part_input_budget(max_answer: int = MAX_ANSWER_TOKENS) -> int:
    """Article tokens whose extraction is estimated at `max_answer` tokens (2,860 for 12,000)."""
    fixed, per = ANSWER_MODEL["extract"]
    return int((max_answer - fixed) / per)


def digest_estimate(extract_completion: int) -> int:
    """An article's digest in the merge input, from its extraction's estimated size (before it is answered)."""
    return math.ceil(DIGEST_SHARE * extract_completion)


class Calibration:
    """Estimates calibrated on billed answers: for each prompt, the ratio of the completion tokens billed to those
    estimated, over the answers this run has seen (a cache hit with billed usage is an answer of this model and
    prompt version: both are in the cache key). With no answer of a prompt yet, the answer model stands."""

    def __init__(self) -> None:
        self._seen: dict[str, list[int]] = {}  # prompt -> [estimated, billed]

    def observe(self, prompt: str, input_tokens: int, billed_completion: int) -> None:
        if billed_completion <= 0:
            return
        seen = self._seen.setdefault(prompt, [0, 0])
        seen[0] += completion_estimate(prompt, input_tokens)
        seen[1] += billed_completion

    def factor(self, prompt: str) -> float:
        estimated, billed = self._seen.get(prompt, (0, 0))
        # Bounded: a few odd answers (a refusal, a loop cut at a cap) must not make the plan absurd.
        return min(3.0, max(0.33, billed / estimated)) if estimated else 1.0

    def estimate(self, prompt: str, input_tokens: int) -> int:
        return math.ceil(completion_estimate(prompt, input_tokens) * self.factor(prompt))


PLAUSIBLE = 0.5  # a reported usage under half the estimate of what was sent or received is not believed


@dataclass
class UsageFloor:
    """The server's own numbers are input too: a usage below the request's own size (its prompt as sent,
    estimated; its answer as received, estimated), or negative, counts as the estimate. Keeps how often, for
    the one line that says so. "Below" is below `PLAUSIBLE` of the estimate: the estimate is a rule of thumb
    (tokens.py), and a real tokenizer may count somewhat fewer; none counts a request at half its size."""

    floored: int = 0
    first: str = ""

    def apply(self, prompt: int, completion: int, prompt_est: int, completion_est: int) -> tuple[int, int]:
        """The (prompt, completion) usage to count for a request the server reported as (prompt, completion)."""
        p = prompt if prompt >= 0 and prompt >= PLAUSIBLE * prompt_est else prompt_est
        c = completion if completion >= 0 and completion >= PLAUSIBLE * completion_est else completion_est
        if (p, c) != (prompt, completion):
            self.floored += 1
            if not self.first:
                self.first = (f"{prompt} prompt + {completion} completion tokens for a request of about "
                              f"{prompt_est} + {completion_est}")
        return p, c

    def line(self) -> str | None:
        if not self.floored:
            return None
        return (f"the server reported usage below the request's own size for {self.floored} answer(s) (first: "
                f"{self.first}); counted as the estimate, for --max-cost and the totals")


class Budget:
    """The --max-cost cap, held against requests in flight as well as those already answered.

    Each HTTP request reserves its estimated cost before it is sent (prompt as sent, completion as
    estimated, or --max-tokens when set: then the cap is hard) and settles it with the billed usage
    once answered; a request whose reservation would pass the cap is not sent. Without this, every
    request in flight saw the same "spent so far" and a run at concurrency 32 ended at 7x its cap.
    One event loop per run: no lock needed."""

    def __init__(self, price: Price, max_cost: float) -> None:
        self.price = price
        self.max_cost = max_cost
        self.spent = 0.0  # USD billed (estimated from usage) in this run
        self.reserved = 0.0  # USD held by requests in flight

    def reserve(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Hold this request's estimated cost, or raise BudgetExceeded: the request must not be sent."""
        cost = self.price.cost(prompt_tokens, completion_tokens)
        if self.spent + self.reserved + cost > self.max_cost:
            in_flight = f", ${self.reserved:.4f} held by requests in flight" if self.reserved else ""
            raise BudgetExceeded(f"not sent: --max-cost ${self.max_cost:g} would be exceeded (spent "
                                 f"${self.spent:.4f}{in_flight}, this request about ${cost:.4f})")
        self.reserved += cost
        return cost

    def settle(self, reserved: float, usage: tuple[int, ...] | None) -> None:
        """Release a reservation and count what the request was billed: its (prompt, completion[, cached])
        usage, or, when the server did not say, the reserved estimate."""
        self.reserved = max(0.0, self.reserved - reserved)
        self.spent += reserved if usage is None else self.price.cost(*usage)


BATCH_DISCOUNT = 0.5  # the Batch API bills half the table's price


def batch_price(model: str, override: str | None = None) -> Price | None:
    """The price of `model` in a batch: `--price` (or BRIEFER_PRICE) as given, taken to be the batch
    price already, else half the table's price. None when unknown."""
    if override or os.environ.get("BRIEFER_PRICE"):
        return price_for(model, override)
    table = price_for(model)
    if table is None:
        return None
    cached = None if table.cached_per_million is None else table.cached_per_million * BATCH_DISCOUNT
    return Price(f"{model} (batch)", table.input_per_million * BATCH_DISCOUNT,
                 table.output_per_million * BATCH_DISCOUNT, cached)
