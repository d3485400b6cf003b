"""A live run through the real openai client, over real HTTP, against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from briefer.model.endpoint import EndpointConfig
from briefer.model.prompts import Prompts
from briefer.pipeline import RunConfig, SilentReporter, run
from conftest import SEED_IDS, assert_same_outputs, output_files
from fake_openai import FakeOpenAI

SECRET = "sk-test-never-written-0123456789"


def _config(fixtures: Path, out: Path, **kw: object) -> RunConfig:
    return RunConfig(folder=fixtures / "articles", out_dir=out, date="2026-11-22", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
def test_live_run_equals_replay(fixture_copy: Path, tmp_path: Path, reference_server: FakeOpenAI, mode: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    live_recordings = tmp_path / "live-recordings"
    endpoint = EndpointConfig(model="gpt-4o-mini", mode=mode, base_url=reference_server.base_url)
    live = asyncio.run(run(_config(fixture_copy, tmp_path / "live", endpoint=endpoint, record=True,
                                   recordings_dir=live_recordings, cache_dir=tmp_path / "cache")))
    assert live.exit_code == 0
    assert live.report.spent.answers == len(SEED_IDS) + 1 and live.report.replayed.answers == 0
    assert len(reference_server.requests) == len(SEED_IDS) + 1
    assert all(h.get("authorization") == f"Bearer {SECRET}" for h in reference_server.headers)

    # Replay what was just recorded, offline: the same files.
    replay = asyncio.run(run(_config(fixture_copy, tmp_path / "replay", endpoint=endpoint, offline=True,
                                     recordings_dir=live_recordings, cache_dir=None)))
    assert replay.report.spent.answers == 0 and replay.report.replayed.answers == len(SEED_IDS) + 1
    assert_same_outputs(tmp_path / "live", tmp_path / "replay")

    # And the same articles and brief.md as the bundled reference recordings give.
    if mode == "tools":
        ref = asyncio.run(run(_config(fixture_copy, tmp_path / "ref", offline=True, cache_dir=None)))
        assert ref.exit_code == 0
        r, a = output_files(tmp_path / "ref"), output_files(tmp_path / "live")
        assert {k: v for k, v in r.items() if k != "run.json"} == {k: v for k, v in a.items() if k != "run.json"}

    # The key is sent to the server and written nowhere.
    for path in [*tmp_path.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_second_live_run_sends_nothing(fixture_copy: Path, tmp_path: Path, reference_server: FakeOpenAI) -> None:
    endpoint = EndpointConfig(model="gpt-4o-mini", base_url=reference_server.base_url)
    cfg = _config(fixture_copy, tmp_path / "out", endpoint=endpoint, cache_dir=tmp_path / "cache",
                  recordings_dir=tmp_path / "none")
    first = asyncio.run(run(cfg))
    sent = len(reference_server.requests)
    second = asyncio.run(run(cfg))
    assert first.report.spent.answers == sent == len(SEED_IDS) + 1
    assert len(reference_server.requests) == sent  # the same request is never sent twice
    assert second.report.spent.answers == 0 and second.report.replayed.answers == sent


def test_invalid_answer_is_reasked_with_the_error(fixture_copy: Path, tmp_path: Path) -> None:
    """translation_en with a paragraph missing fails validation against the source and is re-asked."""
    from conftest import reference_responder

    good = reference_responder()
    calls: dict[str, int] = {}

    def respond(body: dict) -> dict:  # type: ignore[type-arg]
        answer = good(body)
        if "translation_en" in answer:
            n = calls[answer["headline_original"]] = calls.get(answer["headline_original"], 0) + 1
            if n == 1:
                return {**answer, "translation_en": answer["translation_en"][:-1]}
        return answer

    with FakeOpenAI(respond) as server:
        endpoint = EndpointConfig(model="gpt-4o-mini", base_url=server.base_url)
        result = asyncio.run(run(_config(fixture_copy, tmp_path / "out", endpoint=endpoint, cache_dir=None,
                                         recordings_dir=tmp_path / "none")))
        reasks = [r for r in server.requests if any("paragraphs: translate every paragraph" in str(m.get("content"))
                                                   for m in r["messages"])]
    assert result.exit_code == 0
    assert len(reasks) == len(SEED_IDS)
    assert len(server.requests) == 2 * len(SEED_IDS) + 1
    # Tokens of the rejected first attempts are counted too: the stats sum the usage of every request sent.
    assert result.report.spent.answers == len(SEED_IDS) + 1
    assert len(server.billed) == len(server.requests)
    assert result.report.spent.prompt_tokens == sum(u["prompt_tokens"] for u in server.billed)
    assert result.report.spent.completion_tokens == sum(u["completion_tokens"] for u in server.billed)


def test_live_run_reports_stale_recordings_before_asking(fixture_copy: Path, tmp_path: Path,
                                                         reference_server: FakeOpenAI) -> None:
    import shutil

    from conftest import ROOT

    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    (prompts / "merge.system.j2").write_text("A reworded merge prompt.\n", encoding="utf-8")
    endpoint = EndpointConfig(model="gpt-4o-mini", base_url=reference_server.base_url)
    warnings = SilentReporter()
    result = asyncio.run(run(_config(fixture_copy, tmp_path / "out", endpoint=endpoint, cache_dir=None,
                                     prompt_dir=prompts), warnings))
    assert result.exit_code == 0
    # The extract recordings still match and are replayed; the merge recording is stale: said, then asked live.
    assert result.report.replayed.answers == len(SEED_IDS) and result.report.spent.answers == 1
    recorded = json.loads((fixture_copy / "recordings" / "merge" / "brief.json").read_text("utf-8"))
    was, now = recorded["fingerprint"]["prompt_version"], Prompts(prompts).version("merge")
    assert warnings.warnings == [
        f"1 recording is stale (prompt template changed (recorded {was}, now {now})); asked the model instead: "
        "merge of 'brief'"
    ]


def test_stale_recordings_are_one_line_per_run_with_the_whole_model_name(fixture_copy: Path, tmp_path: Path,
                                                                         reference_server: FakeOpenAI) -> None:
    model = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    endpoint = EndpointConfig(model=model, base_url=reference_server.base_url)
    warnings = SilentReporter()
    result = asyncio.run(run(_config(fixture_copy, tmp_path / "out", endpoint=endpoint, cache_dir=None), warnings))
    assert result.exit_code == 0
    stale = [w for w in warnings.warnings if "stale" in w]
    assert stale == [f"{len(SEED_IDS) + 1} recordings are stale (model differs (recorded gpt-4o-mini, now {model})); "
                     "asked the model instead: " + ", ".join(sorted(f"extract of '{i}'" for i in SEED_IDS))
                     + ", merge of 'brief'"]


def test_another_model_with_other_answers_is_still_one_stale_line(fixture_copy: Path, tmp_path: Path) -> None:
    """Another model answers otherwise, so the merge's input differs from the recorded one as well as its model:
    still one line for the run (issue 13, point 8), the model named in full, the merge's extra reason counted."""
    from conftest import reference_responder

    reference = reference_responder()

    def other_words(body: dict[str, object]) -> dict[str, object]:
        answer = reference(body)
        return {**answer, "headline_en": answer["headline_en"] + " (as another model put it)"} \
            if "headline_en" in answer else answer

    model = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    warnings = SilentReporter()
    with FakeOpenAI(other_words) as server:
        endpoint = EndpointConfig(model=model, base_url=server.base_url)
        result = asyncio.run(run(_config(fixture_copy, tmp_path / "out", endpoint=endpoint, cache_dir=None),
                                 warnings))
    assert result.exit_code == 0
    stale = [w for w in warnings.warnings if "stale" in w]
    assert stale == [f"{len(SEED_IDS) + 1} recordings are stale (model differs (recorded gpt-4o-mini, now {model}); "
                     "input changed: 1 of them); asked the model instead: "
                     + ", ".join(sorted(f"extract of '{i}'" for i in SEED_IDS)) + ", merge of 'brief'"]
