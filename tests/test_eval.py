"""`briefer eval`: expectations checked against replayed and live runs; stale, wrong and compared prompts."""

from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from briefer.cli.eval import eval_command
from briefer.eval.checks import date_within, numbers_in
from briefer.eval.evaluate import EvalConfig, evaluate, load_cases
from conftest import FIXTURES, ROOT, SEED_IDS, reference_responder
from fake_openai import FakeOpenAI

MARK = "- Be brief."  # the line prompt folder B adds to extract.system.j2
CHECKS = {c.name: len(c.checks) for c in load_cases(FIXTURES)}  # checks per case in fixtures/expectations
TOTAL = sum(CHECKS.values())


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("eval")(eval_command)

    @app.callback()
    def main() -> None:
        """A stand-in for briefer's own app, with just the eval command."""

    return app


def briefer_eval(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["eval", *args])


def rows(stdout: str, status: str) -> list[str]:
    """Table rows of one status."""
    return [ln for ln in stdout.splitlines() if f"  {status}  " in ln]


@pytest.fixture
def fixtures(fixture_copy: Path) -> Path:
    """A private copy of fixtures/ with the expectations too."""
    shutil.copytree(FIXTURES / "expectations", fixture_copy / "expectations")
    return fixture_copy


def edited_prompts(tmp_path: Path, name: str = "prompts-b") -> Path:
    prompts = tmp_path / name
    shutil.copytree(ROOT / "prompts", prompts)
    path = prompts / "extract.system.j2"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{MARK}\n", encoding="utf-8")
    return prompts


def edit_recording(fixtures: Path, article: str, change: Any) -> None:
    """Change one recorded answer (its fingerprint stays valid: how a wrong recording looks)."""
    path = fixtures / "recordings" / "extract" / f"{article}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data["response"])
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def test_offline_eval_passes_on_the_current_recordings() -> None:
    report = evaluate(EvalConfig(fixtures=FIXTURES, offline=True))
    assert report.exit_code == 0
    run = report.runs[0]
    assert [c.case for c in run.cases] == [*SEED_IDS, "brief"]
    assert all(len(c.results) >= 8 for c in run.cases)
    assert run.totals()["PASS"] == sum(len(c.results) for c in run.cases)
    kinds = {r.kind for c in run.cases for r in c.results}
    assert {"entity", "number", "point", "claim", "published", "coverage", "grounding", "custom", "story",
            "disagreement", "stale"} <= kinds

    r = briefer_eval("--offline", "--fixtures", str(FIXTURES))
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].split() == ["CASE", "CHECK", "STATUS", "FOUND"]
    assert f"eval: 6 cases, {run.totals()['PASS']} checks: {run.totals()['PASS']} PASS, 0 FAIL, 0 STALE, 0 ERROR" \
        in r.stdout
    published = next(ln for ln in rows(r.stdout, "PASS") if "published 2024-02-18" in ln)
    assert published.startswith("004_6e0e75a60da96bca") and published.endswith("2024-02-18 (explicit)")


def test_changed_prompt_reports_stale_with_the_rerecord_command(fixtures: Path, tmp_path: Path) -> None:
    prompts = edited_prompts(tmp_path)
    r = briefer_eval("--offline", "--fixtures", str(fixtures), "--prompt-dir", str(prompts))
    assert r.exit_code == 4, r.output
    assert not rows(r.stdout, "PASS") and not rows(r.stdout, "FAIL")
    stale = rows(r.stdout, "STALE")
    assert len(stale) == TOTAL
    assert all("stale recording: prompt template changed" in ln for ln in stale)
    assert f"STALE 000_6f0ae3a4b7243325: extract of '000_6f0ae3a4b7243325': recording {fixtures}" in r.stdout
    command = f"re-record with: briefer summarize {fixtures / 'articles'} --record-stale --model gpt-4o-mini " \
              f"--prompt-dir {prompts} --no-since"
    assert command in r.stdout.splitlines()
    assert "0 PASS, 0 FAIL, " in r.stdout


@pytest.mark.parametrize("damage", ["schema", "missing"])
def test_one_unusable_recording_is_stale_and_the_others_still_pass(fixtures: Path, damage: str) -> None:
    path = fixtures / "recordings" / "extract" / "000_6f0ae3a4b7243325.json"
    if damage == "schema":
        data = json.loads(path.read_text(encoding="utf-8"))
        data["fingerprint"]["schema_sha256"] = "0" * 64
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        path.unlink()
    report = evaluate(EvalConfig(fixtures=fixtures, offline=True))
    assert report.exit_code == 4
    by_case = {c.case: c for c in report.runs[0].cases}
    why = "stale recording: response schema changed" if damage == "schema" else "no recording for this request"
    results = by_case["000_6f0ae3a4b7243325"].results
    assert {r.status for r in results} == {"STALE"} and all(r.found.startswith(why) for r in results)
    assert by_case["000_6f0ae3a4b7243325"].rerecord == f"briefer summarize {fixtures / 'articles'} --record-stale " \
                                                       "--model gpt-4o-mini --no-since"
    for i in SEED_IDS[1:]:
        assert {r.status for r in by_case[i].results} == {"PASS"}, i
    # Without article 000 the merge input differs from the recorded one: the brief is stale too.
    assert {r.status for r in by_case["brief"].results} == {"STALE"}


def _wrong_date_number_and_translation(answer: dict[str, Any]) -> None:
    answer["published"] = "2024-02-17"
    answer["translation_en"] = [t.replace("2,500", "3,500") for t in answer["translation_en"]]
    answer["translation_en"][20] = answer["translation_en"][21] = ""


def test_wrong_recording_fails_naming_the_check_and_what_was_found(fixtures: Path) -> None:
    edit_recording(fixtures, "004_6e0e75a60da96bca", _wrong_date_number_and_translation)
    r = briefer_eval("--offline", "--fixtures", str(fixtures))
    assert r.exit_code == 4, r.output
    lines = rows(r.stdout, "FAIL")
    assert {ln.split("  ")[0] for ln in lines} == {"004_6e0e75a60da96bca"}
    assert any("published 2024-02-18" in ln and ln.endswith("FAIL    2024-02-17 (inferred)") for ln in lines)
    # An explicit date its evidence does not write is not explicit: briefer says inferred.
    assert any(ln.split()[1:4] == ["date_basis", "explicit", "FAIL"] for ln in lines)
    assert any("translation coverage >= 1" in ln and "20/22 paragraphs translated (0.91); untranslated paragraphs: "
               "20, 21" in ln for ln in lines)
    assert any("2,500 US troops in Iraq" in ln and "2500 not in the" in ln and "3500" in ln for ln in lines)
    assert any("checks:translation_keeps_numbers" in ln and "missing from the translation: 2500 (paragraph 17)" in ln
               for ln in lines)
    assert len(lines) == 5
    # The merge input changed with the date: the brief is stale, not failed.
    assert rows(r.stdout, "STALE") and all(ln.startswith("brief ") for ln in rows(r.stdout, "STALE"))


def test_wrong_number_in_a_translation_fails_and_the_brief_still_passes(fixtures: Path) -> None:
    def wrong(answer: dict[str, Any]) -> None:
        answer["translation_en"] = [t.replace("900 soldiers", "9000 soldiers") for t in answer["translation_en"]]

    edit_recording(fixtures, "003_765204c47648eeb1", wrong)
    report = evaluate(EvalConfig(fixtures=fixtures, offline=True))
    assert report.exit_code == 4
    failed = [(c.case, r.check, r.found) for c in report.runs[0].cases for r in c.results if r.status != "PASS"]
    assert failed == [
        ("003_765204c47648eeb1", "900 US troops in Syria",
         "900 not in the 7 item(s) matching /Syria/; numbers there: 21, 2014, 2023, 2500, 9000"),
        ("003_765204c47648eeb1", "python checks:translation_keeps_numbers",
         "missing from the translation: 900 (paragraph 13)"),
    ]


def test_report_json_and_junit_xml_are_written_and_parse(fixtures: Path, tmp_path: Path) -> None:
    edit_recording(fixtures, "004_6e0e75a60da96bca", _wrong_date_number_and_translation)
    report, junit = tmp_path / "out" / "report.json", tmp_path / "out" / "junit.xml"
    r = briefer_eval("--offline", "--fixtures", str(fixtures), "--report", str(report), "--junit", str(junit))
    assert r.exit_code == 4, r.output

    raw = report.read_text(encoding="utf-8")
    assert "قاآني" in raw and "\\u06" not in raw  # ensure_ascii=False
    data = json.loads(raw)
    assert data["exit_code"] == 4 and data["settings"]["offline"] is True
    (run,) = data["runs"]
    assert run["totals"] == {"PASS": TOTAL - 5 - CHECKS["brief"], "FAIL": 5, "STALE": CHECKS["brief"], "ERROR": 0}
    cases = {c["case"]: c for c in run["cases"]}
    assert cases["004_6e0e75a60da96bca"]["status"] == "FAIL" and cases["brief"]["status"] == "STALE"
    assert "is stale: input changed" in cases["brief"]["problem"]
    assert cases["brief"]["rerecord"].startswith("briefer summarize ")
    check = next(c for c in cases["004_6e0e75a60da96bca"]["checks"] if c["check"] == "published 2024-02-18")
    assert check == {"check": "published 2024-02-18", "kind": "published", "status": "FAIL",
                     "found": "2024-02-17 (inferred)"}

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == str(TOTAL)
    assert root.get("failures") == str(5 + CHECKS["brief"]) and root.get("errors") == "0"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [*SEED_IDS, "brief"]
    bad = suites["004_6e0e75a60da96bca"]
    assert len(bad.findall("testcase")) == int(bad.get("tests", "0")) and bad.get("failures") == "5"
    failure = next(tc for tc in bad.iter("testcase") if tc.get("name") == "published 2024-02-18").find("failure")
    assert failure is not None and failure.get("type") == "FAIL" and failure.get("message") == "2024-02-17 (inferred)"
    stale = list(suites["brief"].iter("failure"))
    assert stale and all(f.get("type") == "STALE" and "re-record with: briefer summarize" in (f.text or "")
                         for f in stale)


def worse_with_prompt_b() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A responder giving the reference answers, except that with prompts B article 004 comes back wrong."""
    reference = reference_responder()

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = reference(body)
        prompt = "\n".join(str(m.get("content") or "") for m in body["messages"])
        if MARK in prompt and answer.get("outlet") == "Mawazin News":
            answer = copy.deepcopy(answer)
            _wrong_date_number_and_translation(answer)
            answer["entities"][0]["name_en"] = "Ismail Qaani"
        return answer

    return respond


def test_compare_prompts_live_lists_the_checks_that_changed(fixtures: Path, tmp_path: Path) -> None:
    prompts_b = edited_prompts(tmp_path)
    report = tmp_path / "compare.json"
    with FakeOpenAI(worse_with_prompt_b()) as server:
        r = briefer_eval("--fixtures", str(fixtures), "--base-url", server.base_url,
                         "--compare-prompt-dir", str(prompts_b), "--report", str(report))
        assert len(server.requests) == 2 * (len(SEED_IDS) + 1)  # live: nothing replayed, nothing cached
        back = briefer_eval("--fixtures", str(fixtures), "--base-url", server.base_url,
                            "--prompt-dir", str(prompts_b), "--compare-prompt-dir", str(ROOT / "prompts"))
    assert r.exit_code == 4, r.output  # B's result
    out = r.stdout
    assert f"compare: A = shipped prompts, B = {prompts_b}" in out
    assert f"eval: A (shipped prompts): 6 cases, {TOTAL} checks: {TOTAL} PASS, 0 FAIL, 0 STALE, 0 ERROR" in out
    flipped = [ln for ln in out.splitlines() if "PASS → FAIL" in ln]
    assert {ln.split("  ")[0] for ln in flipped} == {"004_6e0e75a60da96bca"}
    assert any("published 2024-02-18" in ln and "2024-02-18 (explicit)  ⇒  2024-02-17 (inferred)" in ln
               for ln in flipped)
    assert any("2,500 US troops in Iraq" in ln for ln in flipped) and len(flipped) == 5
    renamed = next(ln for ln in out.splitlines() if ln.startswith("004_") and "entity /Q" in ln)
    assert "found changed" in renamed and "Esmail Qaani (person)" in renamed and "⇒  Ismail Qaani (person)" in renamed
    assert "compare: " in out.splitlines()[-1] and "5 pass→fail, 0 fail→pass" in out.splitlines()[-1]

    data = json.loads(report.read_text(encoding="utf-8"))
    assert [run["label"] for run in data["runs"]] == ["A", "B"]
    assert data["runs"][1]["totals"]["FAIL"] == 5 and data["exit_code"] == 4
    changes = {(c["case"], c["check"]): c for c in data["changes"]}
    assert changes["004_6e0e75a60da96bca", "published 2024-02-18"]["change"] == "PASS → FAIL"

    # The other way round, B repairs what A broke: fail→pass, and B passes (exit 0).
    assert back.exit_code == 0, back.output
    assert len([ln for ln in back.stdout.splitlines() if "FAIL → PASS" in ln]) == 5


def test_compare_offline_without_recordings_for_b_shows_b_stale(fixtures: Path, tmp_path: Path) -> None:
    r = briefer_eval("--offline", "--fixtures", str(fixtures), "--compare-prompt-dir", str(edited_prompts(tmp_path)))
    assert r.exit_code == 4, r.output
    changed = [ln for ln in r.stdout.splitlines() if "PASS → STALE" in ln]
    assert len(changed) == TOTAL
    assert f"compare: {TOTAL} of {TOTAL} checks changed: 0 pass→fail, 0 fail→pass, 0 found text changed, " \
           f"{TOTAL} other" in r.stdout


def test_custom_check_that_raises_is_an_error_exit_1(fixtures: Path) -> None:
    checks = fixtures / "expectations" / "checks.py"
    checks.write_text(checks.read_text(encoding="utf-8") + "\n\ndef broken(obj):\n    return obj.no_such_field\n",
                      encoding="utf-8")
    brief = fixtures / "expectations" / "brief.toml"
    brief.write_text(brief.read_text(encoding="utf-8") + '\n[[custom]]\npython = "checks:broken"\n', encoding="utf-8")
    r = briefer_eval("--offline", "--fixtures", str(fixtures))
    assert r.exit_code == 1, r.output
    (line,) = rows(r.stdout, "ERROR")
    assert line.startswith("brief ") and "python checks:broken" in line
    assert "AttributeError" in line and "no_such_field" in line


@pytest.mark.parametrize(("text", "message"), [
    ('colour = "red"\n', "004_6e0e75a60da96bca.toml: colour: unknown key"),
    ('[[entity]]\nname = "Qaani("\n', "004_6e0e75a60da96bca.toml: entity[5].name: bad regex 'Qaani('"),
    ('[[number]]\nvalue = "many"\n', "004_6e0e75a60da96bca.toml: number[4].value: must be a number"),
    ('[[custom]]\npython = "checks:nope"\n', "004_6e0e75a60da96bca.toml: custom[3].python: no function 'nope'"),
    ('[[point]]\nabout = "x"\nin = "nowhere"\n', "004_6e0e75a60da96bca.toml: point[5].in: unknown field 'nowhere'"),
    ("published = \n", "004_6e0e75a60da96bca.toml: not valid TOML"),
])
def test_bad_expectation_file_is_one_line_naming_file_and_key(fixtures: Path, text: str, message: str) -> None:
    path = fixtures / "expectations" / "004_6e0e75a60da96bca.toml"
    original = path.read_text(encoding="utf-8")
    # Top-level keys must come before the first table; tables go at the end.
    path.write_text(text + original if not text.startswith("[[") else original + "\n" + text, encoding="utf-8")
    r = briefer_eval("--offline", "--fixtures", str(fixtures))
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("briefer: ") and message in line


def test_usage_errors_exit_2(fixtures: Path, tmp_path: Path) -> None:
    (fixtures / "expectations" / "999_unknown.toml").write_text('language = "ar"\n', encoding="utf-8")
    r = briefer_eval("--offline", "--fixtures", str(fixtures))
    assert r.exit_code == 2 and "999_unknown.toml: no article '999_unknown'" in r.stderr
    r = briefer_eval("--offline", "--fixtures", str(tmp_path / "nowhere"))
    assert r.exit_code == 2 and "no folder" in r.stderr
    r = briefer_eval("--offline", "--fixtures", str(FIXTURES), "--mode", "telepathy")
    assert r.exit_code == 2 and "--mode must be one of" in r.stderr
    r = briefer_eval("--offline", "--fixtures", str(FIXTURES), "--compare-prompt-dir", str(tmp_path / "none"))
    assert r.exit_code == 2 and "--compare-prompt-dir: no folder" in r.stderr


def test_check_helpers() -> None:
    assert numbers_in("about 2,500 troops, 900 in Syria; F-16; ٢٠ هجوماً") == [2500.0, 900.0, 16.0, 20.0]
    assert date_within("2024-09", "2024-09-16") and date_within("2024-09", "2024-09")
    assert not date_within("2024-09", "2024") and not date_within("2024-1", "2024-10") and not date_within("2024", None)


def test_readme_example_is_a_valid_expectation_file_that_passes(fixtures: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing prompts (briefer eval)", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (fixtures / "expectations" / "004_6e0e75a60da96bca.toml").write_text(example, encoding="utf-8")
    report = evaluate(EvalConfig(fixtures=fixtures, offline=True))
    (case,) = [c for c in report.runs[0].cases if c.case == "004_6e0e75a60da96bca"]
    assert len(case.results) == 14 and {r.status for r in case.results} == {"PASS"}


def test_live_options_and_kept_raw_output(fixtures: Path, tmp_path: Path) -> None:
    """Live eval takes --timeout, --max-reasks and --concurrency; a failure's raw answer is kept with --out, and
    without it no message points into the deleted temporary folder."""
    from fake_openai import FaultPlan

    first, second = SEED_IDS[0], SEED_IDS[1]
    plan = {first: ["malformed"], second: ["hang:3"]}
    kept = tmp_path / "kept"
    with FakeOpenAI(reference_responder(), FaultPlan(plan)) as server:
        r = briefer_eval("--fixtures", str(fixtures), "--base-url", server.base_url, "--max-reasks", "0",
                         "--max-retries", "0", "--timeout", "1", "--concurrency", "1", "--out", str(kept))
    assert r.exit_code == 1, r.output
    assert "timed out (nothing received for 1s; a slow endpoint, such as a local model on a CPU, needs a larger " \
        "--timeout)" in r.stdout
    raw = kept / "failed" / f"{first}.txt"
    assert raw.read_text(encoding="utf-8").startswith('{"language": "ar", "outlet')
    assert f"last raw output: {raw})" in r.stdout
    assert (kept / "articles" / f"{SEED_IDS[2]}.json").is_file()

    with FakeOpenAI(reference_responder(), FaultPlan({first: ["malformed"]})) as server:
        r = briefer_eval("--fixtures", str(fixtures), "--base-url", server.base_url, "--max-reasks", "0")
    assert r.exit_code == 1, r.output
    assert "last raw output:" not in r.stdout and "briefer-eval-" not in r.stdout
    assert "rerun with --out DIR to keep the model's raw output" in r.stdout
