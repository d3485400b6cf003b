"""Where every model answer comes from: cache, recording, or the model — one door.

    request ──▶ fingerprint + cache key ──▶ cache? ──▶ recording? ──▶ (offline: error) ──▶ model
                                                                         └──▶ cache (+ recording with --record)

The policy (offline, record, use cache) comes from the caller; this module applies it and counts
what happened. In a batch run the policy names the stages a batch answers: their unanswered requests
are never sent from here; they are noted and raised as `Deferred` (while the batch's requests are being
found), or fail as `NotAnswered` (the batch is over and gave no valid answer). A recording whose
fingerprint differs from the request is stale: offline it is an error that says what changed; live it
is reported, never replayed.

An answer that failed validation for good (still invalid after its re-asks, or cut off at the token limit) is
stored too, with its failure, as the model's own words (`KeptAnswer`): what can be kept of it is kept with
warnings; when nothing can, a rerun replays the same failure without asking the model (`ReplayedFailure`),
unless the policy says `retry_failed`. Failures of the transport (timeouts, 5xx, 429, connection errors,
cancellations) are never stored: asked again, they may well succeed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from briefer._version import __version__
from briefer.errors import MissingRecording, NotAnswered, ReplayedFailure, StaleRecording
from briefer.text.tokens import estimate_tokens

from .cache import (
    CacheEntry,
    Fingerprint,
    KeptAnswer,
    Recording,
    RecordingMeta,
    RecordingStore,
    ResponseCache,
    Usage,
    canonical_json,
    sha256_text,
)
from .costs import Budget, Calibration, Price, completion_estimate
from .tape import Answered, Tape, current_tape

if TYPE_CHECKING:
    from briefer.errors import RequestFailed
    from briefer.model.endpoint import EndpointConfig
    from briefer.model.openai.client import ModelClient

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    """One structured request, described independently of how it will be answered."""

    stage: str  # "extract", "merge"
    subject: str  # article id, or "brief"
    prompt: str
    prompt_version: str
    messages: list[dict[str, str]]
    response_model: type[BaseModel]
    input_text: str  # what the answer is about (the cleaned article, the merge input)
    context: dict[str, Any] | None = None


@dataclass(frozen=True)
class Policy:
    offline: bool = False
    record: bool = False
    record_stale: bool = False  # with record: a current recording still answers; only the rest is asked
    use_cache: bool = True
    record_command: str = "briefer summarize FOLDER --record-stale"
    price: Price | None = None
    max_cost: float | None = None  # USD; a request that could pass it is not sent
    batched: frozenset[str] = frozenset()  # stages a batch answers: never sent from here
    defer: bool = False  # finding a batch's requests: unanswered batched requests raise Deferred
    retry_failed: bool = False  # ask again the requests whose stored answer failed (else: replay the failure)


class Deferred(Exception):
    """A request left for a batch to answer (Policy.defer). Not a BrieferError on purpose: no stage may
    turn it into a failure; the batch run catches it and sends the request in its next batch."""

    def __init__(self, call: Call, key: str) -> None:
        super().__init__(f"{describe(call)}: left for a batch")
        self.call, self.key = call, key


@dataclass
class Tokens:
    """Tokens of one prompt's requests (a field per kind of token, so a new kind is one more field)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0  # of prompt, read from the server's prompt cache (usage.prompt_tokens_details.cached_tokens)


@dataclass
class Counters:
    """What this run spent (requests sent, tokens billed) and what it replayed (answers stored earlier), apart:
    a replayed answer's tokens were spent by the run that first asked for it, never by this one."""

    model_calls: int = 0  # answers the model gave in this run
    http_attempts: int = 0  # HTTP requests sent, retries and re-asks included
    cache_hits: int = 0  # answers replayed from the cache (a reused summary's answers among them)
    recording_hits: int = 0  # answers replayed from the recordings
    spent: dict[str, Tokens] = field(default_factory=dict)  # prompt name -> billed in this run (failed requests too)
    replayed: dict[str, Tokens] = field(default_factory=dict)  # prompt name -> as recorded with the replayed answers

    @property
    def replays(self) -> int:
        return self.cache_hits + self.recording_hits


def describe(call: Call) -> str:
    """The request in words, for messages: `extract of 'a1' (part 2, re-ask 1 about unverified quotes)`,
    not the internal subject `a1~part2~reask1`."""
    subject, *steps = call.subject.split("~")
    words = []
    for step in steps:
        if step.startswith("part"):
            words.append(f"part {step.removeprefix('part')}")
        elif step.startswith("reask"):
            words.append(f"re-ask {step.removeprefix('reask')} about unverified quotes")
        elif step == "reduce":
            words.append("joining the parts")
        else:
            words.append(step)
    return f"{call.stage} of '{subject}'" + (f" ({', '.join(words)})" if words else "")


def keep_part(response_model: type[BaseModel], context: dict[str, Any] | None, kept: KeptAnswer) -> BaseModel | None:
    """What the response model keeps of an invalid or cut-off answer (its `keep_valid`), or None: a model
    without one, or nothing usable left, and the request fails as it would have. Live answers and those a
    batch brings back go through here alike."""
    keep_valid = getattr(response_model, "keep_valid", None)
    if keep_valid is None:
        return None
    answer = keep_valid(kept.raw_output, context, cut_off=kept.problem == "cut_off",
                        completion_tokens=kept.raw_output_tokens)
    return answer if isinstance(answer, response_model) else None


@functools.cache
def response_schema(model: type[BaseModel]) -> tuple[dict[str, Any], str]:
    """A response model's JSON Schema and its hash, computed once per model (it is not cheap)."""
    schema = model.model_json_schema()
    return schema, sha256_text(canonical_json(schema))


def schema_sha256(model: type[BaseModel]) -> str:
    return response_schema(model)[1]


@dataclass(frozen=True)
class _CallMeter:
    """The run's budget, with this call's completion estimate (prompts are measured as sent)."""

    budget: Budget
    completion_tokens: int

    def reserve(self, prompt_tokens: int) -> float:
        return self.budget.reserve(prompt_tokens, self.completion_tokens)

    def settle(self, reserved: float, usage: tuple[int, ...] | None) -> None:
        self.budget.settle(reserved, usage)


@dataclass(frozen=True)
class _Stored:
    answer: BaseModel | None  # None: a stored failure (`kept` says what the model answered and why it failed)
    response: dict[str, Any]
    usage: Usage | None
    endpoint: str  # where a cached answer came from ("" for a recording)
    from_cache: bool
    kept: KeptAnswer | None = None
    sha256: str = ""  # of the cache entry's bytes


@dataclass
class Gateway:
    endpoint: EndpointConfig
    cache: ResponseCache
    recordings: RecordingStore
    policy: Policy
    client_factory: Callable[[], ModelClient] | None = None
    warn: Callable[[str], None] = lambda _msg: None
    counters: Counters = field(default_factory=Counters)
    _stale: dict[str, list[str]] = field(default_factory=dict)  # request -> why its recording is stale
    max_in_flight: int | None = None  # requests sent at once, whatever the stage (the run's --concurrency)
    on_tokens: Callable[[int], None] | None = None  # streamed tokens as they come (a progress display)
    _client: ModelClient | None = None
    _slots: asyncio.Semaphore | None = None
    _budget: Budget | None = None
    deferred: dict[str, Call] = field(default_factory=dict)  # cache key -> request left for a batch (Policy.defer)
    calibration: Calibration = field(default_factory=Calibration)  # completion estimates, from billed answers

    def __post_init__(self) -> None:
        if self.policy.max_cost is not None and self.policy.price is not None:
            self._budget = Budget(self.policy.price, self.policy.max_cost)

    def fingerprint(self, call: Call) -> Fingerprint:
        return Fingerprint(
            prompt=call.prompt,
            prompt_version=call.prompt_version,
            schema_name=call.response_model.__name__,
            schema_sha256=schema_sha256(call.response_model),
            model=self.endpoint.model,
            mode=self.endpoint.mode,
            params_sha256=sha256_text(canonical_json(self.endpoint.params))[:16],
            input_sha256=sha256_text(call.input_text),
        )

    def cache_key(self, call: Call) -> str:
        """Hash of everything that shapes the answer."""
        return sha256_text(
            canonical_json(
                {
                    "model": self.endpoint.model,
                    "mode": self.endpoint.mode,
                    "messages": call.messages,
                    "schema_sha256": schema_sha256(call.response_model),
                    "params": self.endpoint.params,
                    "prompt_version": call.prompt_version,
                }
            )
        )

    def _validate(self, call: Call, data: dict[str, Any], kept: KeptAnswer | None = None) -> BaseModel | None:
        """The stored answer as the response model; a kept one derived again from the model's own words."""
        if kept is not None:
            return self._keep(call, kept)
        try:
            return call.response_model.model_validate(data, context=call.context)
        except ValidationError:
            return None

    @staticmethod
    def _keep(call: Call, kept: KeptAnswer) -> BaseModel | None:
        return keep_part(call.response_model, call.context, kept)

    def _count(self, usage: Usage | None, call: Call, spent: bool = False) -> None:
        if usage is not None:
            self._tally(call.prompt, usage.prompt_tokens, usage.completion_tokens, spent, usage.cached_tokens)

    def _tally(self, prompt: str, prompt_tokens: int, completion_tokens: int, spent: bool = False,
               cached_tokens: int = 0) -> None:
        tally = (self.counters.spent if spent else self.counters.replayed).setdefault(prompt, Tokens())
        tally.prompt += prompt_tokens
        tally.completion += completion_tokens
        tally.cached += cached_tokens

    def count_reused(self, answered: list[Answered]) -> None:
        """Count a reused summary's answers as the cache hits they are (extract/reuse.py): as a rerun that asked
        for them would."""
        for a in answered:
            self.counters.cache_hits += 1
            if a.usage is not None:
                self._tally(a.prompt, *a.usage)

    def completion_estimate(self, call: Call) -> int:
        """The call's estimated completion tokens: the answer model, calibrated on the billed answers seen so far
        (the dry run, --max-cost reservations and batch estimates all ask here)."""
        return self.calibration.estimate(call.prompt, estimate_tokens(call.input_text))

    def _observe(self, call: Call, usage: Usage | None) -> None:
        if usage is not None:
            self.calibration.observe(call.prompt, estimate_tokens(call.input_text), usage.completion_tokens)

    def _meter(self, call: Call) -> _CallMeter | None:
        """What holds this call's requests against --max-cost while they are in flight."""
        if self._budget is None:
            return None
        completion = self.endpoint.max_tokens or self.completion_estimate(call)
        return _CallMeter(self._budget, completion)

    def _stored(self, call: Call, fp: Fingerprint, key: str) -> tuple[_Stored | None, list[str]]:
        """An answer the cache or a matching recording already holds (or a failed one, to replay unless the
        policy retries failures), or why a recording is stale."""
        if self.policy.use_cache:
            found = self.cache.get_with_sha256(key)
            if found is not None:
                entry, sha256 = found
                obj = self._validate(call, entry.response, entry.kept)
                if obj is not None or self._replays_failure(entry.kept):
                    return _Stored(obj, entry.response, entry.usage, entry.endpoint, from_cache=True,
                                   kept=entry.kept, sha256=sha256), []
        replays = not self.policy.record or self.policy.record_stale
        recording = self.recordings.load(call.stage, call.subject) if replays else None
        if recording is None:
            return None, []
        stale = fp.differences(recording.fingerprint)
        if stale:
            return None, stale
        obj = self._validate(call, recording.response, recording.kept)
        if obj is None and recording.kept is not None:
            if not self._replays_failure(recording.kept):
                return None, []  # a recorded failure, asked again (--retry-failed)
        elif obj is None:
            return None, ["the recorded answer no longer validates against the response model (made for an "
                          "earlier version of it, or edited)"]
        return _Stored(obj, recording.response, recording.usage, "", from_cache=False, kept=recording.kept), []

    def _replays_failure(self, kept: KeptAnswer | None) -> bool:
        """Whether a stored answer of which nothing can be kept is replayed as the failure it was."""
        return kept is not None and not self.policy.retry_failed

    def _replay_hint(self, call: Call, fp: Fingerprint) -> str | None:
        """When a recording differs only by model and/or mode, how to replay it: no need for a paid re-record."""
        recording = self.recordings.load(call.stage, call.subject)
        if recording is None:
            return None
        theirs = recording.fingerprint
        if theirs == fp:  # the same request (its answer no longer validates): another model is no remedy
            return None
        if fp.model_copy(update={"model": theirs.model, "mode": theirs.mode}) != theirs:
            return None
        options = f"--model {theirs.model}" + (f" --mode {theirs.mode}" if theirs.mode != fp.mode else "")
        made = theirs.model + (f" in mode {theirs.mode}" if theirs.mode != fp.mode else "")
        asked = fp.model + (f" in mode {fp.mode}" if theirs.mode != fp.mode else "")
        return f"recorded with {made}, this run asks {asked}; replay with {options}"

    def has_answer(self, call: Call) -> bool:
        """Whether this request would be answered without the model (cache or a matching recording); a billed
        answer found calibrates the completion estimates (a dry run's, a batch's)."""
        stored = self._stored(call, self.fingerprint(call), self.cache_key(call))[0]
        if stored is not None and stored.answer is not None and stored.kept is None:
            self._observe(call, stored.usage)
        return stored is not None

    async def ask(self, call: Call) -> BaseModel:
        """The answer to a call: from the cache or the recordings, else (unless offline, or batched) the model's."""
        fp = self.fingerprint(call)
        key = self.cache_key(call)
        tape = current_tape()
        if tape is not None:
            tape.asks += 1
        stored, stale = self._stored(call, fp, key)
        if stored is not None:
            return self._replayed(call, fp, key, stored, tape)
        self._refuse_unless_live(call, fp, key, stale)
        if stale:  # said once for the run (report_stale), not once per article
            self._stale[describe(call)] = stale
        return await self._live(call, fp, key, tape)

    def _replayed(self, call: Call, fp: Fingerprint, key: str, stored: _Stored, tape: Tape | None) -> BaseModel:
        """A stored answer, counted (and recorded, when recording); a stored failure raised again."""
        if stored.from_cache:
            self.counters.cache_hits += 1
        else:
            self.counters.recording_hits += 1
        self._count(stored.usage, call)
        if stored.answer is not None and stored.kept is None:
            self._observe(call, stored.usage)
        if tape is not None and stored.from_cache and stored.answer is not None:  # a replayed failure: not
            tape.answered.append(Answered(key, stored.sha256, call.prompt, _pair(stored.usage)))
        if stored.from_cache and self.policy.record:
            self._save_recording(call, fp, key, stored.response, stored.usage, stored.endpoint, stored.kept)
        if stored.answer is None:
            assert stored.kept is not None
            where = "cached" if stored.from_cache else "recorded"
            raise ReplayedFailure(f"{stored.kept.reason} ({where} failure; --retry-failed to ask again)",
                                  raw_output=stored.kept.raw_output)
        return stored.answer

    def _refuse_unless_live(self, call: Call, fp: Fingerprint, key: str, stale: list[str]) -> None:
        """Raise when a call without a stored answer may not be asked live: offline (no recording, or a stale
        one), or a batched stage (deferred to the batch, or the batch gave no answer)."""
        what = describe(call)
        if self.policy.offline:
            path = self.recordings.path(call.stage, call.subject)
            replay = self._replay_hint(call, fp) if stale else None
            if replay:
                raise StaleRecording(f"{what}: recording {path} is stale: {replay}")
            if stale:
                raise StaleRecording(
                    f"{what}: recording {path} is stale: {'; '.join(stale)}. "
                    f"Re-record with: {self.policy.record_command}"
                )
            raise MissingRecording(
                f"{what}: no recording or cached answer (looked in {path}); "
                f"record it with: {self.policy.record_command}"
            )
        if call.stage in self.policy.batched:
            if self.policy.defer:
                self.deferred.setdefault(key, call)
                raise Deferred(call, key)
            raise NotAnswered(f"{what}: the batch gave no valid answer; to ask it live, run again with --live-rest")

    async def _live(self, call: Call, fp: Fingerprint, key: str, tape: Tape | None) -> BaseModel:
        """The model's answer, counted, cached and recorded; a failure kept in part when it can be."""
        from briefer.errors import EndpointFailed, RequestFailed

        try:
            answer = await self._model().complete(call.messages, call.response_model, call.context,
                                                  meter=self._meter(call),
                                                  default_max_tokens=completion_cap(self.endpoint, call),
                                                  slot=self._in_flight())
        except RequestFailed as exc:
            return self._failed(call, fp, key, exc)
        except EndpointFailed as exc:
            self.counters.http_attempts += exc.attempts
            raise
        usage = Usage(prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
                      cached_tokens=answer.cached_tokens)
        self._observe(call, usage)
        self.counters.http_attempts += answer.http_attempts
        self.counters.model_calls += 1
        self._count(usage, call, spent=True)
        written = self.cache.put(
            CacheEntry(key=key, fingerprint=fp, response=answer.data, usage=usage,
                       recorded_at=_now(), endpoint=self.endpoint.endpoint)
        )
        if tape is not None and written is not None:
            self._tape_written(tape, call, key, written, answer.parsed, usage)
        if self.policy.record:
            self._save_recording(call, fp, key, answer.data, usage, self.endpoint.endpoint)
        return answer.parsed

    def _failed(self, call: Call, fp: Fingerprint, key: str, exc: RequestFailed) -> BaseModel:
        """A request that failed after its re-asks: what is valid of the answer, kept and stored like any answer;
        else the failure stored (when the model's words are known) and raised."""
        self.counters.http_attempts += exc.attempts
        usage = Usage(prompt_tokens=exc.prompt_tokens, completion_tokens=exc.completion_tokens,
                      cached_tokens=exc.cached_tokens)
        self._count(usage, call, spent=True)
        exc.args = (f"{describe(call)}: {exc.args[0]}",)
        kept = self._kept(call, exc)
        if kept is None:
            raise exc
        part, record = kept
        if part is None:
            # Nothing of the answer is usable: the failure is stored with the model's words, so a rerun
            # replays it instead of paying for the same answer again (--retry-failed asks again).
            self.cache.put(CacheEntry(key=key, fingerprint=fp, response={}, usage=usage, recorded_at=_now(),
                                      endpoint=self.endpoint.endpoint, kept=record))
            if self.policy.record:
                self._save_recording(call, fp, key, {}, usage, self.endpoint.endpoint, record)
            raise exc
        # The re-asks are spent, but part of the answer is valid: kept, with its warnings, and stored like
        # any answer (the model's own words, from which a replay derives the same result).
        self.counters.model_calls += 1
        self.warn(f"{exc.args[0]}; kept what is valid of the answer")
        data = part.model_dump(mode="json")
        self.cache.put(CacheEntry(key=key, fingerprint=fp, response=data, usage=usage, recorded_at=_now(),
                                  endpoint=self.endpoint.endpoint, kept=record))
        if self.policy.record:
            self._save_recording(call, fp, key, data, usage, self.endpoint.endpoint, record)
        return part

    def _tape_written(self, tape: Tape, call: Call, key: str, written: str, used: BaseModel, usage: Usage) -> None:
        """Note a model's answer as answered by the entry just written, only when that entry gives back exactly
        the answer used (as a rerun's cache hit would take it): a summary is reused only when it derives from
        the cache alone."""
        try:
            again = self._validate(call, json.loads(written)["response"])
        except (ValueError, KeyError, TypeError):
            return
        # The live answer is an instance of instructor's subclass of the response model (which also keeps the raw
        # response on it), so the class differs; every field and private attribute (what extraction and grounding
        # read) must be equal.
        if again is None or not isinstance(used, call.response_model):
            return
        fields = type(again).model_fields
        if all(getattr(again, f) == getattr(used, f) for f in fields) and \
                again.__pydantic_private__ == used.__pydantic_private__:
            tape.answered.append(Answered(key, sha256_text(written), call.prompt, _pair(usage)))

    def _kept(self, call: Call, exc: BaseException) -> tuple[BaseModel | None, KeptAnswer] | None:
        """If the failure is the answer's own (invalid after the re-asks, or cut off), the answer as the model
        gave it, and what can be kept of it (None: nothing). None for any other failure (transport, timeout,
        refusal, budget): those are never stored."""
        from briefer.errors import RequestFailed

        if not isinstance(exc, RequestFailed) or exc.answer_problem is None or not exc.raw_output:
            return None
        record = KeptAnswer(raw_output=exc.raw_output, problem=exc.answer_problem,
                            raw_output_tokens=exc.raw_output_tokens, reason=str(exc))
        return self._keep(call, record), record

    def _in_flight(self) -> asyncio.Semaphore | None:
        """The --concurrency slots each HTTP request to the model holds: article, part, re-ask or merge alike."""
        if self.max_in_flight is None:
            return None
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        return self._slots

    def report_stale(self) -> None:
        """One warning line for the recordings that were stale and asked of the model instead: the reasons all of
        them share in full (another model, named whole), then how many of them had each other reason (another
        model's answers make the merge's input differ too; its hashes differ per request, so they are not shown)."""
        floor = getattr(self._client, "usage_floor", None)
        if floor is not None and (line := floor.line()):
            self.warn(line)
        if not self._stale:
            return
        whats = sorted(self._stale)
        common = [r for r in self._stale[whats[0]] if all(r in self._stale[w] for w in whats)]
        others: dict[str, list[str]] = {}  # label -> its reasons in full, one per request
        for w in whats:
            for reason in self._stale[w]:
                if reason not in common:
                    others.setdefault(reason.split(" (recorded ")[0], []).append(reason)
        n = len(whats)
        # A model or mode is named in full; hashes (input, prompt, schema, parameters) mean nothing in a count.
        why = "; ".join(common + [f"{full[0] if len(set(full)) == 1 and label in _NAMED else label}: {len(full)} of "
                                  "them" for label, full in others.items()])
        names = ", ".join(whats[:8]) + (f" and {n - 8} more" if n > 8 else "")
        self.warn(f"{n} recording{'s are' if n != 1 else ' is'} stale ({why}); asked the model instead: {names}")
        self._stale.clear()

    def _model(self) -> ModelClient:
        if self._client is None:
            if self.client_factory is not None:
                self._client = self.client_factory()
            else:
                from briefer.model.openai.client import ModelClient

                self._client = ModelClient(self.endpoint, on_tokens=self.on_tokens)
        return self._client

    def _save_recording(self, call: Call, fp: Fingerprint, key: str, response: dict[str, Any],
                        usage: Usage | None, endpoint: str, kept: KeptAnswer | None = None) -> Path:
        return self.recordings.save(
            Recording(
                stage=call.stage,
                subject=call.subject,
                fingerprint=fp,
                cache_key=key,
                response=response,
                usage=usage,
                metadata=RecordingMeta(
                    reference=False,
                    recorded_by=f"briefer {__version__} --record, model {self.endpoint.model} at {endpoint}",
                    recorded_at=_now(),
                ),
                kept=kept,
            )
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


_NAMED = ("model differs", "mode differs")  # stale reasons that name something (the others show hashes)


DEFAULT_CAP_FLOOR = 4096  # tokens: a short article's answer still has room for its entities, claims and events
CAP_MARGIN = 1.5  # the default cap over the answer's estimate: the seed answers are within 6% of the answer model


def default_max_tokens(estimate: int) -> int:
    """A completion cap that no complete answer reaches: the answer model's estimate with a margin (CAP_MARGIN),
    never under the floor. A complete answer cut by briefer's own default is a bug (the translation is lost)."""
    return max(DEFAULT_CAP_FLOOR, math.ceil(CAP_MARGIN * estimate))


def completion_cap(endpoint: EndpointConfig, call: Call) -> int | None:
    """The completion cap sent when the run gives no --max-tokens: without one, llama.cpp generates until its
    context is full (tens of minutes when a small model loops). Sent to OpenAI-compatible servers only: the
    OpenAI API stops at the model's own output limit, and refuses a cap above it. From the answer model as fitted
    (not as calibrated during a run), so a request always carries the same cap. An answer cut at it anyway is
    asked again with a larger cap (ModelClient.complete), within the server's context and the budget.

    Not part of the cache key (`EndpointConfig.params` keeps --max-tokens only): it is derived from the request's
    input, which is in the key, so the same request always carries the same cap, and an answer cut at it (kept in
    part, or stored as a failure) is the answer to that request; --retry-failed asks a failed one again."""
    if endpoint.max_tokens is not None or endpoint.endpoint.startswith("https://api.openai.com/"):
        return None
    return default_max_tokens(completion_estimate(call.prompt, estimate_tokens(call.input_text)))


def _pair(usage: Usage | None) -> tuple[int, int] | None:
    return None if usage is None else (usage.prompt_tokens, usage.completion_tokens)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
