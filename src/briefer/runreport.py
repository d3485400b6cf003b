"""The run report (`run.json`, beside the brief): what this run spent and what it replayed, counted apart.

The brief says what the articles say; the run report says what producing it cost. Keeping the counters out of
`Brief` is what makes a replayed run's brief.json equal the live run's, byte for byte. A replayed answer's tokens
were spent by the run that first asked for it: they are listed under `replayed`, never added to `spent`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenCount(_Strict):
    prompt_tokens: int = Field(description="Prompt tokens.")
    completion_tokens: int = Field(description="Completion tokens.")


class Spent(_Strict):
    """What this run sent to the model and was billed for."""

    answers: int = Field(description="Requests the model answered in this run (a failed request is not counted).")
    http_requests: int = Field(description="HTTP requests sent in this run, retries and re-asks included.")
    prompt_tokens: int = Field(description="Prompt tokens billed in this run, failed requests included.")
    completion_tokens: int = Field(description="Completion tokens billed in this run, failed requests included.")
    cached_tokens: int = Field(default=0, description="Of prompt_tokens, those the server read from its prompt cache "
                               "(usage.prompt_tokens_details.cached_tokens), priced as cached input.")
    cost_usd_est: float | None = Field(description="Estimated cost of those tokens at `price`, in USD; null when "
                                       "the model's price is unknown.")


class Replayed(_Strict):
    """What this run took from answers stored earlier: nothing sent, nothing billed."""

    answers: int = Field(description="Requests answered from stored answers: from_cache + from_recordings.")
    from_cache: int = Field(description="Answers from the response cache (a reused article summary counts each of "
                            "its answers).")
    from_recordings: int = Field(description="Answers from the recordings (offline replay, fixtures).")
    prompt_tokens: int = Field(description="Prompt tokens of the replayed answers, as recorded when first asked.")
    completion_tokens: int = Field(description="Completion tokens of the replayed answers, as recorded.")
    cached_tokens: int = Field(default=0, description="Of prompt_tokens, those the server read from its prompt cache "
                               "when first asked.")
    cost_usd_when_asked: float | None = Field(
        description="What the replayed answers cost when they were first asked, at `price` (not spent now); "
        "null when the model's price is unknown.")


class StageReport(_Strict):
    spent: TokenCount
    replayed: TokenCount


class RunReport(_Strict):
    """One run: what it spent and what it replayed, per prompt as well."""

    spent: Spent
    replayed: Replayed
    by_stage: dict[str, StageReport] = Field(description="The tokens per prompt (extract, extract_reduce, merge, "
                                             "...), spent and replayed.")
    price: str | None = Field(description="The price the costs are estimated at; null when the model's is unknown.")
