"""What a run costs: a small price table, overridable, and token estimates for requests not yet sent.

Prices are USD per million tokens (input, output), as published by OpenAI for these models;
they change, so `--price IN,OUT` (or BRIEFER_PRICE) overrides them, and local models have no
price unless one is given (cost is then reported as unknown, not as zero).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from briefer.errors import BudgetExceeded, UsageError
from briefer.tokens import estimate_tokens

# USD per 1M tokens: (input, output). Checked 2025; override with --price when they change.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
}


@dataclass(frozen=True)
class Price:
    model: str
    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6

    def describe(self) -> str:
        return f"{self.model}: ${self.input_per_million:g} in / ${self.output_per_million:g} out per 1M tokens"


def parse_price(text: str, model: str) -> Price:
    try:
        inp, out = (float(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"--price must be 'IN,OUT' in USD per million tokens, e.g. 0.15,0.60; got '{text}'") from None
    if not (math.isfinite(inp) and math.isfinite(out)) or inp < 0 or out < 0:
        raise UsageError(f"--price must be two finite numbers, not negative; got '{text}'")
    return Price(model, inp, out)


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


def completion_estimate(stage: str, input_tokens: int) -> int:
    """A planning guess of the answer's size: an extraction carries a full translation (about as
    long as the article in English), a merge answer a page of brief."""
    if stage == "extract":
        return int(input_tokens * 0.9) + 600
    return 1500


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

    def settle(self, reserved: float, usage: tuple[int, int] | None) -> None:
        """Release a reservation and count what the request was billed: its (prompt, completion)
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
    return Price(f"{model} (batch)", table.input_per_million * BATCH_DISCOUNT,
                 table.output_per_million * BATCH_DISCOUNT)
