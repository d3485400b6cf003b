"""Issue 31, cases 2, 4, 5, 6, 7, 8, 9, 10 and 11: what a run writes, and what it believes of the server.

Every test runs the real command (a subprocess) against a real HTTP server on 127.0.0.1, or the library where
the point is a file on disk. Each uses the inputs the issue names: a key with `_` and with `&<>'"` echoed into
answers, zero and negative usage, two runs on one --out, 100,000-deep bodies and TOML, a 2 GB cache entry and
recording (sparse), NUL/ESC/RLO in answers, an overlong paragraph, kill -9 while writing, 301 and 307."""

from __future__ import annotations

import copy
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import echo_model
from briefer.ingest.folder import read_folder
from conftest import FIXTURES, ROOT, SEED_IDS, reference_responder
from fake_openai import FakeOpenAI, FaultPlan

KEYS = ["sk-proj-ab_MARKER987_cd-Ef", "sk-MARKER987&<>'\"x-0123"]


def briefer(*args: str, key: str | None = None, limit_memory: int | None = None,
            wait: bool = True) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_"))}
    if key is not None:
        env["OPENAI_API_KEY"] = key

    def limits() -> None:
        if limit_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_memory, limit_memory))

    cmd = [sys.executable, "-m", "briefer", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                encoding="utf-8", preexec_fn=limits)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, encoding="utf-8",
                          preexec_fn=limits)


def _written(root: Path) -> dict[str, str]:
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()}


# ---------------------------------------------------------------------- case 2: the key in its escaped forms

def _echoing(key: str) -> Any:
    """The reference answers, each echoing the key (a server that quotes what it was sent into the answer)."""
    base = reference_responder()

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer = copy.deepcopy(base(body))
        if "summary_en" in answer:
            answer["summary_en"] += f" The request carried {key}."
            answer["headline_en"] += f" {key}"
            answer["translation_en"] = [f"{p} {key}" for p in answer["translation_en"]]
        else:
            answer["title"] += f" {key}"
            for item in answer["executive_summary"]:
                item["text"] += f" ({key})"
        return answer

    return respond


@pytest.mark.parametrize("key", KEYS)
def test_a_key_echoed_into_answers_is_written_nowhere_in_any_form(fixture_copy: Path, tmp_path: Path,
                                                                   key: str) -> None:
    articles = fixture_copy / "articles"
    with (articles / f"{SEED_IDS[0]}.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"\nA reader pasted {key} into the article.\n")  # reaches the batch request files
    plan = FaultPlan({SEED_IDS[1]: ["echo"] * 2})  # an error echoing the Authorization header: stderr, the brief
    with FakeOpenAI(_echoing(key), plan) as server:
        r = briefer("summarize", str(articles), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
                    "--record", "--recordings", str(tmp_path / "rec"), "--base-url", server.base_url,
                    "--max-retries", "1", "--date", "2026-11-22", key=key)
    assert r.returncode == 3, r.stderr
    e = briefer("batch", "export", str(articles), "-o", str(tmp_path / "requests.jsonl"), "--cache-dir",
                str(tmp_path / "cache2"), "--recordings", str(tmp_path / "none"), key=key)
    assert e.returncode == 0, e.stderr
    files = {p: text for p, text in _written(tmp_path).items() if not p.startswith(str(fixture_copy))}
    kinds = {Path(p).suffix for p in files} | {"cache" for p in files if "/cache/" in p} | {
        "rec" for p in files if "/rec/" in p}
    assert {".md", ".html", ".json", ".jsonl", "cache", "rec"} <= kinds
    assert [p for p, text in files.items() if "MARKER987" in text] == []
    assert "MARKER987" not in r.stderr + r.stdout + e.stderr + e.stdout
    assert "[redacted]" in files[str(tmp_path / "out" / "brief.md")]
    assert "[redacted]" in files[str(tmp_path / "out" / "brief.html")]


def test_every_escaped_form_of_a_key_is_redacted() -> None:
    import html

    from briefer.redact import redact, register

    key = "sk-MARKER987_&<>'\"-Zz"
    register(key)
    md_form = re.sub(r"([\\`*_{}\[\]<>#|!~])", r"\\\1", key)
    forms = [key, md_form, html.escape(key), html.escape(key, quote=False),
             key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
             .replace("'", "&#39;"), json.dumps(key)[1:-1], json.dumps(json.dumps(key))[1:-1]]
    forms += ["".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in key)]
    from urllib.parse import quote, quote_plus

    forms += [quote(key, safe=""), quote_plus(key)]
    for form in forms:
        assert "MARKER987" not in redact(f"text {form} text"), form


# ---------------------------------------------------------------------- case 4: the server's usage

def _spent(tmp: Path, usage: str | None) -> tuple[int, dict[str, Any], str]:
    plan = FaultPlan({"*": [f"usage:{usage}"] * 100}) if usage is not None else None
    with FakeOpenAI(reference_responder(), plan) as server:
        r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp / f"out-{usage}"), "--no-cache",
                    "--recordings", str(tmp / "none"), "--base-url", server.base_url, "--price", "100,100",
                    "--max-cost", "2", "--concurrency", "1", "--date", "2026-11-22")
        sent = len(server.requests)
    report = tmp / f"out-{usage}" / "run.json"  # what the run spent (not in brief.json: a replay writes it the same)
    return sent, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}, r.stderr


def test_zero_or_negative_usage_counts_as_the_estimate(tmp_path: Path) -> None:
    honest, _, _ = _spent(tmp_path, None)
    for usage in ("0", "-20000000"):
        sent, report, stderr = _spent(tmp_path, usage)
        assert sent <= honest < 6, (usage, sent, honest)  # unfloored: every request goes out
        assert "the server reported usage below the request's own size for" in stderr
        assert "counted as the estimate" in stderr
        if report:
            spent = report["spent"]
            assert spent["prompt_tokens"] > 0 and spent["completion_tokens"] > 0
            assert spent["cost_usd_est"] is None or spent["cost_usd_est"] > 0


def test_usage_floor_applies_to_each_number() -> None:
    from briefer.model.costs import UsageFloor

    floor = UsageFloor()
    assert floor.apply(1000, 500, 900, 400) == (1000, 500)  # honest: kept
    assert floor.apply(0, 0, 900, 400) == (900, 400)
    assert floor.apply(-5, 10**9, 900, 400) == (900, 10**9)
    assert floor.floored == 2 and "0 prompt + 0 completion tokens for a request of about 900 + 400" in str(
        floor.line())


# ---------------------------------------------------------------------- cases 5 and 10: the lock, the set

def _holder(out: Path) -> subprocess.Popen[str]:
    code = ("import sys, time; from pathlib import Path; from briefer.files import lock_out\n"
            "with lock_out(Path(sys.argv[1]), what='briefer summarize elsewhere/'):\n"
            "    print('held', flush=True); time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _offline(out: Path, folder: Path = FIXTURES / "articles") -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = briefer("summarize", str(folder), "--offline", "--no-cache",
                                                       "--out", str(out), "--date", "2026-11-22")
    return result


def test_a_second_run_on_the_same_out_stops_naming_the_holder_and_a_killed_holder_is_taken_over(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = _holder(out)
    try:
        r = _offline(out)
        assert r.returncode == 75, r.stderr
        assert r.stderr.strip().splitlines() == [
            f"briefer: --out {out} is in use by another run (pid {holder.pid}: briefer summarize elsewhere/); wait "
            "for it to finish, or choose another --out"]
        assert not (out / "brief.json").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    r = _offline(out)
    assert r.returncode == 0, r.stderr
    assert f"took over the lock of a run that is gone (pid {holder.pid}: briefer summarize elsewhere/)" in r.stderr
    assert not (out / ".briefer.lock").exists()


def test_two_runs_on_different_folders_into_one_out_never_mix(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for n in range(3):
        (other / f"other-{n}.txt").write_text(f"Other headline {n}\nA paragraph of another day number {n}.\n",
                                              encoding="utf-8")
    out = tmp_path / "out"
    with FakeOpenAI(echo_model.respond, latency=0.5) as server:
        slow = briefer("summarize", str(other), "--out", str(out), "--no-cache", "--recordings", str(tmp_path / "n"),
                       "--base-url", server.base_url, "--concurrency", "1", "--date", "2026-11-22", wait=False)
        deadline = time.monotonic() + 60
        while not (out / ".briefer.lock").exists() or not (out / ".briefer.lock").read_text(encoding="utf-8"):
            assert slow.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        second = _offline(out)
        first_err = slow.communicate(timeout=120)[1]
    assert second.returncode == 75 and f"pid {slow.pid}" in second.stderr, second.stderr
    assert slow.returncode == 0, first_err
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    ids = [a["id"] for a in brief["articles"]]
    assert sorted(ids) == ["other-0", "other-1", "other-2"]
    assert sorted(p.stem for p in (out / "articles").iterdir()) == sorted(ids)


WRITER = """
import sys, time
from pathlib import Path
from briefer.files import OutputSet, atomic_write_pieces
out, how = Path(sys.argv[1]), sys.argv[2]

def endless():
    yield "x" * (1 << 20)
    print("writing", flush=True)
    time.sleep(120)
    yield "never"

if how == "one":
    atomic_write_pieces(out / "brief.html", endless())
else:
    outputs = OutputSet(out)
    outputs.add("brief.json", '{"new": true}\\n')
    outputs.add("brief.md", endless())
    outputs.commit()
"""


def _killed_while_writing(out: Path, how: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out), how], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def test_kill_9_while_writing_leaves_the_old_set_whole_and_the_next_run_removes_the_parts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _offline(out).returncode == 0
    before = {n: (out / n).read_bytes() for n in ("brief.json", "brief.md", "brief.html", "manifest.json")}
    _killed_while_writing(out, "set")
    _killed_while_writing(out, "one")
    parts = [p for p in out.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 3 and sum(p.stat().st_size for p in parts) >= 2 << 20
    assert {n: (out / n).read_bytes() for n in before} == before  # the old set, whole: nothing was switched
    r = _offline(out)
    assert r.returncode == 0, r.stderr
    assert f"briefer: warning: {out}: removed 3 unfinished file(s) (.part) left by a run that was stopped" in r.stderr
    assert list(out.rglob("*.part")) == []


def test_outputs_of_two_runs_are_said_to_be_mixed(tmp_path: Path) -> None:
    """What a kill between two renames of the switch would leave: brief.json of one run, brief.md of another."""
    out = tmp_path / "out"
    assert _offline(out).returncode == 0
    from briefer.files import check_set
    from briefer.pipeline import OUTPUTS

    assert check_set(out, OUTPUTS) is None
    (out / "brief.json").write_text('{"another": "run"}\n', encoding="utf-8")
    assert check_set(out, OUTPUTS) == "brief.json not of the run manifest.json names"
    r = _offline(out)
    assert r.returncode == 0 and "the outputs there are not one run's (brief.json not of the run manifest.json " \
        "names): a run was stopped while writing them; this run replaces them" in r.stderr, r.stderr
    assert check_set(out, OUTPUTS) is None


# ---------------------------------------------------------------------- case 6: deep nesting, one line

def test_a_deep_alias_file_is_one_line_and_exit_2(fixture_copy: Path, tmp_path: Path) -> None:
    (fixture_copy / "aliases.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    r = _offline(tmp_path / "out", fixture_copy / "articles")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"briefer: {fixture_copy / 'aliases.toml'}: line 1, column 205: nested deeper than 200 levels"]


def test_a_deep_http_body_is_a_server_fault(tmp_path: Path) -> None:
    with FakeOpenAI(reference_responder(), FaultPlan({SEED_IDS[0]: ["deep"] * 3})) as server:
        r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"), "--no-cache",
                    "--recordings", str(tmp_path / "none"), "--base-url", server.base_url, "--max-retries", "1",
                    "--date", "2026-11-22")
    assert r.returncode == 3, r.stderr
    assert "RecursionError" not in r.stderr and "Traceback" not in r.stderr
    line = next(ln for ln in r.stderr.splitlines() if SEED_IDS[0] in ln and "failed" in ln)
    assert "answered with a body nested too deeply to read (a server fault) after 2 HTTP attempts" in line


# ---------------------------------------------------------------------- case 7: sizes capped before reading

def test_a_2_gb_recording_and_cache_entry_are_misses_read_by_their_size(fixture_copy: Path, tmp_path: Path) -> None:
    recording = next((fixture_copy / "recordings" / "extract").glob(f"{SEED_IDS[0]}*.json"))
    with recording.open("r+b") as fh:
        fh.truncate(2_000_000_000)  # sparse: 2 GB that nothing may read whole
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out",
                str(tmp_path / "out"), "--date", "2026-11-22", limit_memory=1_500_000_000)
    assert r.returncode == 3, r.stderr
    assert f"briefer: failed: {SEED_IDS[0]}.txt: extract of '{SEED_IDS[0]}': no recording" in r.stderr

    from briefer.model.cache import ResponseCache

    cache = ResponseCache(tmp_path / "cache")
    path = cache.path("ab" * 32)
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        fh.truncate(2_000_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert cache.get("ab" * 32) is None
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB: not read


# ---------------------------------------------------------------------- case 8: control characters

def test_nul_esc_and_rlo_from_answers_do_not_reach_md_or_html(fixture_copy: Path, tmp_path: Path) -> None:
    hostile = "\x00\x1b[2J\x1b]0;owned\x07 \u202eevil\u2067 "
    for path in (fixture_copy / "recordings" / "extract").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["response"]["summary_en"] = hostile + data["response"]["summary_en"]
        data["response"]["headline_en"] += hostile
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    merge = fixture_copy / "recordings" / "merge" / "brief.json"
    data = json.loads(merge.read_text(encoding="utf-8"))
    data["response"]["title"] += hostile
    data["response"]["executive_summary"][0]["text"] = hostile + data["response"]["executive_summary"][0]["text"]
    merge.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    r = briefer("summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "--out",
                str(tmp_path / "out"), "--date", "2026-11-22")
    assert r.returncode in (0, 3), r.stderr
    md = (tmp_path / "out" / "brief.md").read_text(encoding="utf-8")
    page = (tmp_path / "out" / "brief.html").read_text(encoding="utf-8")
    assert "evil" in md and "evil" in page  # the text itself is kept
    for text in (md, page):
        assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text) is None
    for line in md.splitlines():
        opened = line.count("\u202e") + line.count("\u202a") + line.count("\u202b") + line.count("\u202d")
        assert line.count("\u202c") >= opened, line
        isolates = sum(line.count(c) for c in "\u2066\u2067\u2068")
        assert line.count("\u2069") >= isolates, line


# ---------------------------------------------------------------------- case 9: cut, don't drop

def test_an_overlong_first_paragraph_is_cut_with_a_note_not_dropped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A headline\n" + "Word after word in one paragraph. " * 74 + "\n",
                                    encoding="utf-8")  # 2,500 characters in one paragraph
    with (tmp_path / "b.txt").open("w", encoding="utf-8") as fh:  # 1 GB on one line, at the default --max-chars
        sentence = "One long line without any break at all. " * 25_000
        for _ in range(1_000_000_000 // len(sentence)):
            fh.write(sentence)
    short = read_folder(tmp_path, max_chars=1000)
    assert [a.id for a in short.articles] == ["a", "b"] and short.skipped == []
    a = short.articles[0]
    assert a.title == "A headline" and a.truncated and 900 < len(a.paragraphs[0]) <= 1000
    assert ("a.txt", "truncated: kept the first 996 characters (an overlong paragraph cut inside) of 2,528 "
            "characters; --max-chars is 1,000") in short.notes
    big = read_folder(tmp_path).articles[1]
    assert big.truncated and big.title.startswith("One long line") and len(big.paragraphs[0]) > 190_000


# ---------------------------------------------------------------------- case 11: redirects

@pytest.mark.parametrize("status", [301, 307])
def test_a_redirect_is_refused_naming_its_location(tmp_path: Path, status: int) -> None:
    with FakeOpenAI(reference_responder()) as other, \
            FakeOpenAI(reference_responder(), FaultPlan({"*": [f"redirect:{status}"] * 50})) as server:
        server.location = f"{other.base_url}/chat/completions"
        r = briefer("summarize", str(FIXTURES / "articles"), "--out", str(tmp_path / "out"), "--no-cache",
                    "--recordings", str(tmp_path / "none"), "--base-url", server.base_url, "--date", "2026-11-22",
                    key="sk-MARKERredirect0123456789")
    assert r.returncode == 1, r.stderr
    assert other.requests == [] and other.headers == []  # the article and the key went nowhere else
    assert r.stderr.strip().splitlines()[-1] == (
        f"briefer: {server.base_url} answered HTTP {status}, a redirect to "
        f"{other.base_url}/chat/completions; briefer follows no redirects for API requests (they carry the key "
        "and the article text): fix --base-url")
    assert "not found" not in r.stderr
