"""One error tree. The CLI prints `str(error)` on one line and exits with `exit_code`.

    BrieferError                      exit 1 unless stated
    ├── UsageError                    exit 2: bad options or arguments
    ├── InputError                    a file or folder that cannot be read as articles
    ├── NothingProduced               no article could be summarised
    ├── OutputError                   the output folder cannot be written (a full disk, permissions)
    │   └── OutputBusy                exit 75: another run holds the output folder (try again later)
    ├── EndpointError                 the model endpoint cannot be used at all (stops the run)
    │   └── EndpointFailed            raised by the model client (model/openai/), with its HTTP attempts
    ├── ArticleFailed                 one article failed; the run goes on and ends partial
    │   ├── BudgetExceeded            --max-cost would be exceeded: the request is not sent
    │   ├── RequestFailed             one request to the model failed for good: its cost, its raw output
    │   │   └── RequestNotSent        a request (retry, re-ask) the budget kept unsent (also a BudgetExceeded)
    │   ├── NotAnswered               a batch gave no valid answer, and the run may not ask live
    │   └── ReplayedFailure           an answer that failed validation in an earlier run, replayed
    └── ReplayError                   offline and no usable answer
        ├── MissingRecording          nothing recorded for this request
        └── StaleRecording            recorded with another prompt, schema, model or input

    Terminated (a KeyboardInterrupt)  SIGTERM, handled like Ctrl-C: exit 143
"""

from __future__ import annotations

from typing import Any, Literal

FailureKind = Literal["stale_recording", "missing_recording", "model_error", "budget_exceeded"]


class BrieferError(Exception):
    exit_code = 1
    kind: FailureKind = "model_error"  # how a failed article is classified in the brief

    def __str__(self) -> str:
        # Every message briefer shows or keeps (stderr, failure reasons in the brief) passes through here:
        # a server may echo the key or the Authorization header in its error text.
        from .redact import redact

        return redact(super().__str__(), shapes=True)


class UsageError(BrieferError):
    exit_code = 2


class InputError(BrieferError):
    pass


class NothingProduced(BrieferError):
    def __init__(self, message: str, failures: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.failures = failures  # the per-article Failure records, when articles were tried


class OutputError(BrieferError):
    """Writing to the output folder failed: the run stops with one line (answers already paid for are cached)."""


class OutputBusy(OutputError):
    """Another run holds the output folder's lock."""

    exit_code = 75  # EX_TEMPFAIL: the same command succeeds once the other run is done


class EndpointError(BrieferError):
    """The endpoint refuses every request (bad key, unknown model, unreachable)."""


class ArticleFailed(BrieferError):
    """A single request failed in a way that does not condemn the others."""


class BudgetExceeded(ArticleFailed):
    """--max-cost would be exceeded: the request is not sent."""

    kind: FailureKind = "budget_exceeded"


AnswerProblem = Literal["invalid", "cut_off"]



class RequestFailed(ArticleFailed):
    """One request failed for good. Carries what it cost and, when the model answered, its raw output."""

    def __init__(self, message: str, *, attempts: int, prompt_tokens: int = 0, completion_tokens: int = 0,
                 raw_output: str | None = None, answer_problem: AnswerProblem | None = None,
                 raw_output_tokens: int = 0, cached_tokens: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_tokens = cached_tokens
        self.raw_output = raw_output
        # Set when the failure is the answer itself (still invalid after the re-asks, or cut off at the token
        # limit): what the model said may then be kept in part (the response model's keep_valid).
        self.answer_problem = answer_problem
        self.raw_output_tokens = raw_output_tokens



class RequestNotSent(RequestFailed, BudgetExceeded):
    """A request (first, retry or re-ask) the budget kept unsent; carries what the earlier ones cost."""



class EndpointFailed(EndpointError):
    """The endpoint cannot be used at all, as the model client found it (after `attempts` HTTP attempts)."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class NotAnswered(ArticleFailed):
    """A request a batch was to answer has no valid answer, and the run may not send it live (--live-rest)."""


class ReplayedFailure(ArticleFailed):
    """The stored answer to this request failed validation when it was given (after its re-asks, or cut off at the
    token limit) and nothing of it could be kept: the same failure again, without asking the model (--retry-failed
    asks it again). Carries the model's raw answer, as the failure did."""

    def __init__(self, message: str, *, raw_output: str) -> None:
        super().__init__(message)
        self.raw_output = raw_output


class ReplayError(BrieferError):
    pass


class MissingRecording(ReplayError):
    kind: FailureKind = "missing_recording"


class StaleRecording(ReplayError):
    kind: FailureKind = "stale_recording"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the command's signal handler. A KeyboardInterrupt, not an Exception: no `except
    Exception` in the run may swallow it, and asyncio stops the run as it does for Ctrl-C."""
