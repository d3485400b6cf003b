"""Weak and local models (issue 13): what a 1B-class model on llama.cpp did, reproduced by a local server.

A server that ignores tool_choice and answers in prose, a model that loops until the token limit, sampling
parameters that stop the loop (and key the cache), and one stale-recording line per run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from briefer.errors import EndpointError, UsageError
from briefer.model.endpoint import EndpointConfig
from briefer.model.openai.failures import repeated_tail
from conftest import SEED_IDS
from test_faults import A, Run, _failure


def test_tools_answered_in_plain_text_is_a_mode_problem(tmp_path: Path, fixture_copy: Path) -> None:
    """llama.cpp ignored the forced tool and answered in prose with HTTP 200: the run stops at once and says
    which mode to use, instead of re-asking every article."""
    r = Run(tmp_path, fixture_copy, {"*": ["notool"] * 100})
    with pytest.raises(EndpointError) as info:
        r()
    assert r.sleeps == []  # nothing retried
    assert len(r.server.requests) <= len(SEED_IDS)  # no re-asks: at most one request per article in flight
    message = str(info.value)
    assert "answered in plain text instead of calling the tool" in message
    assert "ignores tool_choice; use --mode json_schema (or --mode json)" in message
    assert r.server.base_url in message


def test_a_looping_answer_is_called_a_loop_not_a_short_max_tokens(tmp_path: Path, fixture_copy: Path) -> None:
    r = Run(tmp_path, fixture_copy, {A: ["loop"] * 3})
    result = r()
    assert result.exit_code == 3 and r.requests_for(A) == 1
    reason = _failure(result, A)
    assert "repeated itself until the token limit (a loop:" in reason and "Mohammed Shia al-Sudani" in reason
    assert "--frequency-penalty" in reason and '--extra-body \'{"repeat_penalty": 1.1}\'' in reason
    assert "raise --max-tokens" not in reason
    # An honest cut-off still advises a larger limit.
    r = Run(tmp_path / "b", fixture_copy, {A: ["length"] * 2})  # cut at the default cap, then at twice it
    assert "raise --max-tokens" in _failure(r(), A)


def test_repeated_tail() -> None:
    block = '{"name_en": "Qaani", "type": "person"}, '
    assert repeated_tail("[" + block * 5) == block.strip()
    assert repeated_tail("[" + block * 5 + '{"name_en": "Qa') is not None  # cut off inside the loop
    assert repeated_tail('{"summary_en": "Three sentences. Each different. As they should be.", "key') is None
    assert repeated_tail("") is None


def test_sampling_parameters_are_sent_and_key_the_cache(tmp_path: Path, fixture_copy: Path) -> None:
    first = Run(tmp_path / "a", fixture_copy, {}, frequency_penalty=0.5, presence_penalty=0.25,
                extra_body='{"repeat_penalty": 1.1, "top_k": 20}')
    result = first()
    assert result.exit_code == 0
    body = first.server.requests[0]
    assert body["frequency_penalty"] == 0.5 and body["presence_penalty"] == 0.25
    assert body["repeat_penalty"] == 1.1 and body["top_k"] == 20

    plain = EndpointConfig(model="m")
    tuned = EndpointConfig(model="m", extra_body='{"repeat_penalty": 1.1}')
    assert plain.params == {"temperature": 0.0, "max_tokens": None}  # unset: earlier caches and recordings hold
    assert tuned.params == {"temperature": 0.0, "max_tokens": None, "extra_body": {"repeat_penalty": 1.1}}


@pytest.mark.parametrize(("option", "value"), [("extra_body", "[1, 2]"), ("extra_body", "{oops"),
                                               ("frequency_penalty", 3.0), ("presence_penalty", -2.5)])
def test_bad_sampling_options_are_usage_errors(option: str, value: object) -> None:
    with pytest.raises(UsageError):
        EndpointConfig(model="m", **{option: value})  # type: ignore[arg-type]


def test_sampling_options_on_the_command_line(tmp_path: Path, fixture_copy: Path) -> None:
    from typer.testing import CliRunner

    from briefer.cli import app
    from conftest import reference_responder
    from fake_openai import FakeOpenAI

    with FakeOpenAI(reference_responder()) as server:
        r = CliRunner().invoke(app, ["summarize", str(fixture_copy / "articles"), "--base-url", server.base_url,
                                     "--out", str(tmp_path / "out"), "--no-cache", "--recordings",
                                     str(tmp_path / "none"), "--frequency-penalty", "0.3",
                                     "--extra-body", '{"repeat_penalty": 1.1}'])
        assert r.exit_code == 0, r.output
        assert all(b["frequency_penalty"] == 0.3 and b["repeat_penalty"] == 1.1 for b in server.requests)
    r = CliRunner().invoke(app, ["summarize", str(fixture_copy / "articles"), "--extra-body", "nope"])
    assert r.exit_code == 2 and "--extra-body must be a JSON object" in r.output


def test_a_reask_names_every_problem_and_samples(tmp_path: Path, fixture_copy: Path) -> None:
    """The re-ask lists all the answer's problems at once, and is not sent at temperature 0 again."""
    from conftest import reference_responder

    def two_problems(body: dict[str, object]) -> dict[str, object]:
        answer = dict(reference_responder()(body))
        if f"Article id: {A}" in json.dumps(body["messages"], ensure_ascii=False) and "translation_en" in answer:
            answer["summary_en"] = "One sentence only."
            answer["translation_en"] = list(answer["translation_en"])[:1]  # type: ignore[call-overload]
        return answer

    from briefer.model.openai.client import REASK_TEMPERATURE
    from fake_openai import FakeOpenAI, FaultPlan

    r = Run(tmp_path, fixture_copy, {}, max_reasks=1)
    r.server._httpd.server_close()
    r.server = FakeOpenAI(two_problems, FaultPlan())
    result = r()
    # Once the re-asks are spent, both problems are soft: the article is kept, flagged with each (exit 3).
    assert result.exit_code == 3 and not result.brief.failures
    kept = next(s for s in result.summaries if s.id == A).warnings
    assert "summary_en has 1 sentence (3 to 6 asked)" in kept
    assert any(w.startswith("translation incomplete: 1 of ") for w in kept)
    asks = r.extract_requests(A)
    assert [b["temperature"] for b in asks] == [0.0, REASK_TEMPERATURE]
    reask = json.dumps(asks[1]["messages"], ensure_ascii=False)
    assert "summary_en has 1 sentences" in reask and "translation_en has 1 items" in reask
