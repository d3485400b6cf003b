"""What a run's requests will cost in tokens, before they are sent: one set of numbers for the dry run, the batch
estimate and --max-cost alike.

Prompts are measured as they will be sent (messages and schema, `prompt_estimate`). Completions come from the
answer model (model/costs.py: ANSWER_MODEL, fitted on the reference answers), calibrated on the billed answers the
gateway has seen (Gateway.completion_estimate). The merge is sized from the digests it will send: measured from
its own request when every article is answered, else from the articles' estimated answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .model.answers import Call, Gateway, response_schema
from .model.costs import completion_estimate, digest_estimate, prompt_estimate
from .model.prompts import Prompts
from .text.tokens import estimate_tokens

# A long article's parts are joined by a reduce call over their records without their translations: a part's
# record is its answer less the translation, which is about as long as the part's text (1.04-1.09 on the seed).
TRANSLATION_PER_INPUT = 1.05
REDUCE_FIXED_PROMPT = 1500  # the reduce prompt's system part and ArticleDigest's schema, roughly


@dataclass(frozen=True)
class Tokens:
    requests: int
    prompt: int
    completion: int


def request_prompt(call: Call) -> int:
    """A request's estimated prompt tokens as sent: its messages and its response schema."""
    return prompt_estimate(call.messages, response_schema(call.response_model)[0])


def article_tokens(calls: Sequence[Call], gateway: Gateway) -> Tokens:
    """An article's requests (one, or its parts and the reduce that joins them)."""
    prompt = sum(request_prompt(c) for c in calls)
    completion = sum(gateway.completion_estimate(c) for c in calls)
    if len(calls) == 1:
        return Tokens(1, prompt, completion)
    reduce_input = sum(gateway.completion_estimate(c) - math.ceil(TRANSLATION_PER_INPUT * estimate_tokens(c.input_text))
                       for c in calls)
    return Tokens(len(calls) + 1, prompt + reduce_input + REDUCE_FIXED_PROMPT,
                  completion + completion_estimate("extract_reduce", reduce_input))


def merge_fixed_prompt(prompts: Prompts) -> int:
    """The merge request's tokens besides its payload: the system prompt, the user part's frame and the schema."""
    from .models import BriefDraft

    rendered = prompts.render("merge", articles=[], newest=None, payload="", boundary="DATA-0000000000000000")
    return prompt_estimate(rendered.messages, response_schema(BriefDraft)[0])


def merge_tokens(article_completions: Sequence[int], budget: int, prompts: Prompts) -> Tokens:
    """The merge of articles whose extractions are estimated at `article_completions` tokens, before they are
    answered: their digests, the entities and groups that come with them (MERGE_OVERHEAD), in one call or, over
    `budget`, in batches of stories and an overview."""
    from .model.costs import MERGE_OVERHEAD

    if not article_completions:
        return Tokens(0, 0, 0)
    payload = math.ceil(MERGE_OVERHEAD * sum(digest_estimate(c) for c in article_completions))
    fixed = merge_fixed_prompt(prompts)
    if payload <= budget:
        return Tokens(1, fixed + payload, completion_estimate("merge", payload))
    batches = -(-payload // budget)
    stories = completion_estimate("merge_stories", payload // batches) * batches
    return Tokens(batches + 1, fixed * (batches + 1) + payload + stories,
                  stories + completion_estimate("merge_overview", stories))


def measured_merge(calls: Sequence[Call], gateway: Gateway) -> Tokens:
    """The merge requests found against the cache (every article answered): their prompts as they will be sent."""
    return Tokens(len(calls), sum(request_prompt(c) for c in calls), sum(gateway.completion_estimate(c) for c in calls))
