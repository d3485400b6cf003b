"""briefer.toml: flags win over environment variables, which win over the file, which wins over the defaults; the
file is read strictly (unknown keys, wrong types, size and depth caps), and `briefer config show` says where each
value came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefer.cli import app
from briefer.errors import UsageError
from briefer.settings import in_force, load_settings, output_folder, parse_settings


def show(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, tuple[str, str]], str]:
    r = CliRunner().invoke(app, ["config", "show", *args], env=env)
    rows = {}
    for ln in r.stdout.splitlines()[1:]:
        key, rest = ln.split(None, 1)
        value, _, source = rest.rpartition("  (from ")
        rows[key] = (value.strip(), source.removesuffix(")"))
    return r.exit_code, rows, r.output


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults(workdir: Path) -> None:
    (workdir / "briefer.toml").write_text('model = "from-file"\nconcurrency = 3\nstale_days = 2\nmode = "json"\n',
                                          encoding="utf-8")
    code, rows, _ = show("--stale-days", "5", env={"BRIEFER_MODEL": "from-env"})
    here = str(workdir / "briefer.toml")
    assert code == 0
    assert rows["model"] == ("from-env", "environment (BRIEFER_MODEL)")
    assert rows["concurrency"] == ("3", here)
    assert rows["mode"] == ("json", here)
    assert rows["stale_days"] == ("5", "command line")
    assert rows["base_url"] == ("(none)", "default")
    code, rows, _ = show("-m", "from-flag", env={"BRIEFER_MODEL": "from-env"})
    assert rows["model"] == ("from-flag", "command line")
    (workdir / "briefer.toml").unlink()
    code, rows, out = show()
    assert rows["model"] == ("gpt-4o-mini", "default") and rows["concurrency"] == ("8", "default")
    assert out.startswith("config file: none (looked for ./briefer.toml, then ")


def test_the_working_folder_comes_before_the_user_config_folder(workdir: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "xdg" / "briefer"
    user.mkdir(parents=True)
    (user / "briefer.toml").write_text('model = "user-wide"\n[prices]\n"user-wide" = "0,0"\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    _, rows, out = show()
    assert rows["model"] == ("user-wide", str(user / "briefer.toml"))
    assert rows["price"] == ("0,0", f"{user / 'briefer.toml'}, [prices]")  # the local model's price
    (workdir / "briefer.toml").write_text('model = "this-folder"\n', encoding="utf-8")
    _, rows, _ = show()
    assert rows["model"] == ("this-folder", str(workdir / "briefer.toml"))
    assert rows["price"] == ("(briefer's table)", "default")  # files are not merged: the first one found is in force
    _, rows, _ = show(env={"BRIEFER_CONFIG": ""})
    assert rows["model"] == ("gpt-4o-mini", "default")


def test_a_price_given_beats_the_prices_table(tmp_path: Path) -> None:
    file = parse_settings('price = "1,2"\n[prices]\nm = "0,0"\n', tmp_path / "briefer.toml")
    assert in_force({"model": ("m", "default"), "price": (None, "default")}, file)["price"].value == "1,2"
    file = parse_settings('[prices]\nm = "0,0"\n', tmp_path / "briefer.toml")
    assert in_force({"model": ("m", "flag"), "price": (None, "default")}, file)["price"].value == "0,0"
    assert in_force({"model": ("m", "flag"), "price": ("3,4", "env")}, file)["price"].value == "3,4"


def test_a_summarize_run_takes_the_file_values(workdir: Path, fixture_copy: Path) -> None:
    # The output pattern, the alias file (relative to the config file) and the model reach the run: the
    # recordings are gpt-4o-mini's, so a file naming another model makes the offline run say so.
    (workdir / "my-aliases.toml").write_text((fixture_copy / "aliases.toml").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    (fixture_copy / "aliases.toml").unlink()
    (workdir / "briefer.toml").write_text('out = "briefs/{folder}/{date}"\naliases = "my-aliases.toml"\n',
                                          encoding="utf-8")
    r = CliRunner().invoke(app, ["summarize", str(fixture_copy / "articles"), "--offline", "--no-cache",
                                 "--date", "2026-11-22", "--no-html"])
    assert r.exit_code == 0, r.output
    assert (workdir / "briefs" / "articles" / "2026-11-22" / "brief.md").is_file()
    assert f"alias file {workdir / 'my-aliases.toml'} applied" in r.output
    (workdir / "briefer.toml").write_text('model = "llama3.2"\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["summarize", str(fixture_copy / "articles"), "--offline", "--no-cache", "-o",
                                 str(workdir / "o")])
    assert r.exit_code == 1 and "llama3.2" in r.output


@pytest.mark.parametrize(("text", "message"), [
    ('modle = "x"\n', "unknown key 'modle'"),
    ('concurrency = "8"\n', "concurrency: must be a whole number from 1 to 1024"),
    ("concurrency = true\n", "concurrency: must be a whole number"),
    ('mode = "xml"\n', "mode: must be one of tools, json_schema, json, md_json"),
    ('base_url = "ftp://x"\n', "base_url: must start with http:// or https://"),
    ('out = "briefs/{when}"\n', "unknown placeholder {when}"),
    ('out = "briefs/{date.year}"\n', "unknown placeholder {date.year}"),
    ('model = "a\\nb"\n', "model: must be a non-empty line of text"),
    ("prices = 3\n", "prices: must be a table"),
    ('[prices]\nm = { in = 1 }\n', "prices.m: must be a non-empty line of text"),
    ("model = \n", "not a valid TOML file"),
])
def test_a_bad_file_is_one_usage_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        parse_settings(text, tmp_path / "briefer.toml")
    assert message in str(info.value) and str(tmp_path / "briefer.toml") in str(info.value)
    assert "\n" not in str(info.value) or "not a valid TOML" in str(info.value)


@pytest.mark.parametrize("depth", [100_000, 20_000])
def test_a_deep_file_is_one_line_and_exit_2(workdir: Path, depth: int) -> None:
    (workdir / "briefer.toml").write_text("model = " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    code, _, out = show()
    assert code == 2
    assert out.count("\n") == 1 and out.startswith(f"briefer: {workdir / 'briefer.toml'}: ")
    assert ("larger than 64 KB" if depth == 100_000 else "nested too deeply") in out


def test_a_missing_or_non_utf8_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFER_CONFIG", str(tmp_path / "nope.toml"))
    code, _, out = show()
    assert code == 2 and "no such file" in out
    (tmp_path / "latin.toml").write_bytes('model = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        load_settings(tmp_path / "latin.toml")


def test_output_patterns(tmp_path: Path) -> None:
    assert output_folder(Path("b/{folder}/{date}"), "2026-12-08", tmp_path / "today") == Path("b/today/2026-12-08")
    assert output_folder(Path("plain"), "2026-12-08", None) == Path("plain")
    assert output_folder(None, "2026-12-08", None) is None
    with pytest.raises(UsageError, match="names {folder}: give --out"):
        output_folder(Path("b/{folder}"), "2026-12-08", None)


def test_config_show_never_prints_credentials(workdir: Path) -> None:
    (workdir / "briefer.toml").write_text('base_url = "https://me:s3cret-pass@llm.example/v1"\n', encoding="utf-8")
    code, rows, out = show()
    assert code == 0 and "s3cret-pass" not in out
    assert rows["base_url"][0].endswith("@llm.example/v1")




def test_eval_is_decided_by_its_flags_alone(workdir: Path) -> None:
    # A prompt test replays the fixtures' recordings (gpt-4o-mini's) the same in any folder.
    (workdir / "briefer.toml").write_text('model = "llama3.2"\nconcurrency = 2\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "--offline", "--fixtures", str(Path(__file__).resolve().parents[1] /
                                                                          "fixtures")])
    assert r.exit_code == 0, r.output
