"""Syndicated copies told once, and outlets a reader can weigh: three outlets' copies of one agency story
(edited intros, one with a changed figure) become one model request; the brief cites all three outlets,
shows the changed figure, and describes each outlet as outlets.toml does ("not described" otherwise)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import echo_model
from briefer.brief.outlets import describe, load_outlets
from briefer.cli import app
from briefer.errors import UsageError
from briefer.fetch.copies import Difference, differences, group_copies, words
from fake_openai import FakeOpenAI

BODY = [
    "At least 15 people were killed on Monday when a car bomb exploded in a crowded market in the Iraqi "
    "capital Baghdad, police and medical sources said.",
    "The blast struck the Shorja wholesale market during the morning rush, wrecking dozens of stalls and setting "
    "several vehicles on fire, a police officer at the scene told Reuters.",
    "Health ministry officials said more than 40 people were wounded and that the toll could rise as rescue teams "
    "searched the rubble of two collapsed buildings.",
    "No group immediately claimed responsibility for the attack, the deadliest in the capital since the spring. "
    "Islamic State militants have carried out similar bombings in Baghdad in the past.",
    "Prime Minister Mohammed Shia al-Sudani ordered an investigation and said security around markets would be "
    "tightened ahead of the religious holidays, his office said in a statement.",
]

COPIES = {
    # The most complete copy: the whole wire text with the agency's dateline.
    "mawazin.json": ("https://www.mawazin.net/news/83311", "Mawazin News", "BAGHDAD (Reuters) - ", BODY),
    # An edited intro, one paragraph cut.
    "almayadeen.json": ("https://www.almayadeen.net/news/iraq-bomb", "الميادين",
                        "Iraq mourns again. ", BODY[:4]),
    # A new intro and a changed figure.
    "shafaq.json": ("https://shafaq.com/en/Iraq/bomb", "Shafaq News", "BAGHDAD (Reuters) - ",
                    [BODY[0].replace("At least 15", "At least 12"), *BODY[1:4]]),
}

OUTLETS = """
[[outlet]]
name = "Al Mayadeen"
domains = ["almayadeen.net"]
names = ["الميادين"]
country = "Lebanon"
language = "ar"
state_affiliated = false
note = "aligned with Hezbollah"

[[outlet]]
name = "Shafaq News"
domains = ["shafaq.com"]
country = "Iraq"
owner = "Kurdish-owned"
"""


def _page(title: str, paragraphs: list[str]) -> str:
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><article><h1>" \
           f"{title}</h1>{ps}</article></body></html>"


def _folder(root: Path) -> Path:
    folder = root / "today"
    folder.mkdir()
    for name, (url, site, intro, paras) in COPIES.items():
        record = {"url": url, "canonical_url": url, "site_name": site, "title": "Car bomb kills people in Baghdad",
                  "published": "2026-12-07T09:00:00+00:00", "author": None,
                  "html": _page("Car bomb kills people in Baghdad market", [intro + paras[0], *paras[1:]])}
        (folder / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    (folder / "weather.txt").write_text(
        "Heavy rain expected in Tehran\n\nForecasters in Tehran expect heavy rain and strong winds across the "
        "north of the country from Wednesday, the meteorological office said, warning of floods in Mazandaran "
        "and Gilan provinces.\n\nSchools in several districts may close, officials said.\n", encoding="utf-8")
    (root / "outlets.toml").write_text(OUTLETS, encoding="utf-8")
    return folder


def _with_views(body: dict[str, Any]) -> dict[str, Any]:
    """The echo model, answering the merge as a capable model does: a perspective and a disagreement."""
    answer = echo_model.respond(body)
    if "stories" in answer and answer.get("disagreements") == []:
        ids = [i for s in answer["stories"] for i in s["article_ids"]]
        bomb = next(i for i in ids if "weather" not in i)
        answer["stories"][0]["perspectives"] = [{"view": "Police blame militants for the bombing.",
                                                 "article_ids": [bomb]}]
        answer["disagreements"] = [{"topic": "The death toll", "positions": [
            {"position": "At least 15 were killed.", "article_ids": [bomb]},
            {"position": "The toll is not yet known.", "article_ids": [i for i in ids if i != bomb][:1] or [bomb]}]}]
    return answer


def test_three_copies_of_one_agency_story_are_one_request_citing_three_outlets(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "brief"
    with FakeOpenAI(_with_views) as model:
        result = CliRunner().invoke(app, ["summarize", str(folder), "--out", str(out), "--base-url", model.base_url,
                                          "--no-cache", "--date", "2026-12-07", "--no-since"],
                                    env={"OPENAI_API_KEY": "sk-test"})
        asked = [json.dumps(b["messages"], ensure_ascii=False) for b in model.requests
                 if echo_model._schema_name(b) == "ArticleExtraction"]
    assert result.exit_code == 0, result.output
    assert len(asked) == 2  # the three copies once, the weather story once
    assert sum("Shorja" in a for a in asked) == 1 and any("Prime Minister" in a for a in asked)  # the fullest copy

    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    ref = next(a for a in brief["articles"] if a["carried_by"])
    assert ref["origin"] == "Reuters" and ref["outlet"] == "Mawazin News"
    assert ref["outlet_description"] == "not described" and ref["outlet_entry"] is None
    carried = {c["outlet"]: c for c in ref["carried_by"]}
    assert set(carried) == {"Al Mayadeen", "Shafaq News"}
    assert carried["Al Mayadeen"]["outlet_description"] == ("Lebanon; in ar; not state-affiliated; aligned with "
                                                            "Hezbollah")
    assert carried["Al Mayadeen"]["differences"] == []  # an edited intro and a cut paragraph are no difference
    [changed] = carried["Shafaq News"]["differences"]
    assert (changed["kind"], changed["chosen"], changed["copy_says"]) == ("number", "15", "12")
    assert changed["context"].startswith("BAGHDAD (Reuters) - At least 12 people were killed on Monday")
    weather = next(a for a in brief["articles"] if not a["carried_by"])
    assert weather["outlet_description"] == "not described"
    # Who holds a perspective or a position, in brief.json: the outlets of its article_ids, with descriptions.
    held = brief["stories"][0]["perspectives"][0]["article_ids"]
    assert [(o["name"], o["description"]) for o in brief["outlets"] if set(held) & set(o["article_ids"])] == [
        ("Mawazin News", "not described"),
        ("Al Mayadeen", "Lebanon; in ar; not state-affiliated; aligned with Hezbollah"),
        ("Shafaq News", "Iraq; owned by Kurdish-owned")]

    md = (out / "brief.md").read_text(encoding="utf-8")
    html = (out / "brief.html").read_text(encoding="utf-8")
    assert "Reuters, as carried by Mawazin News, Al Mayadeen and Shafaq News" in md
    assert "Reuters, as carried by Mawazin News, Al Mayadeen and Shafaq News" in html
    assert "number differs: Mawazin News has “15”, Shafaq News has “12”" in md
    assert "number differs: Mawazin News has “15”, Shafaq News has “12”" in html
    voices = ("Mawazin News (not described); Al Mayadeen (Lebanon; in ar; not state-affiliated; aligned with "
              "Hezbollah); Shafaq News (Iraq; owned by Kurdish-owned)")
    # A perspective names its outlets, after its citation; so does a disagreement's position.
    mark = r"(?: \*\([^)]*\)\*| \*\*⚠[^*]*\*\*)?"  # the statement check's mark, when it has one
    assert re.search(rf"Police blame militants for the bombing\. \S+{mark} — {re.escape(voices)}\n", md)
    assert re.search(rf"At least 15 were killed\. \S+{mark} — {re.escape(voices)}\n", md)
    assert md.count(voices) == 2 and html.count(voices) == 2
    assert "(Mawazin News (not described) · " in md  # the sources list: the outlet and its description
    assert "Outlet: not described" in html and "Outlet: Lebanon" not in html  # the chosen copy's own outlet


def test_dry_run_shows_the_groups_and_the_threshold_turns_them_off(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    runner = CliRunner()
    shown = runner.invoke(app, ["summarize", str(folder), "--dry-run", "--no-cache", "--out", str(tmp_path / "o")])
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if x.startswith("copies of one story"))
    assert "asked once, for mawazin" in line and "almayadeen" in line and "shafaq" in line
    assert len([x for x in shown.output.splitlines() if x.endswith("to send")]) == 3  # 2 articles + the merge
    off = runner.invoke(app, ["summarize", str(folder), "--dry-run", "--no-cache", "--copy-threshold", "0",
                              "--out", str(tmp_path / "o")])
    assert "copies of one story" not in off.output
    assert len([x for x in off.output.splitlines() if x.endswith("to send")]) == 5
    bad = runner.invoke(app, ["summarize", str(folder), "--dry-run", "--copy-threshold", "1.5"])
    assert bad.exit_code == 2 and "--copy-threshold must be between 0 and 1" in bad.output


def test_grouping_works_across_scripts_and_leaves_different_stories_apart() -> None:
    arabic = ("قال مسؤولون عراقيون إن ١٥ شخصا على الأقل قتلوا يوم الاثنين عندما انفجرت سيارة مفخخة في سوق مزدحمة "
              "في بغداد وأضافوا أن عدد الضحايا قد يرتفع مع استمرار عمليات البحث تحت الأنقاض")
    arabic_copy = "بغداد (رويترز) - " + arabic.replace("١٥", "15").replace("أ", "ا")
    chinese = "香港特首梁振英星期一就其住所僭建问题向公众道歉，并表示会全力配合屋宇署的调查。"
    chinese_copy = "【本报讯】" + chinese
    groups = group_copies([("ar1", arabic), ("zh1", chinese), ("ar2", arabic_copy), ("zh2", chinese_copy),
                           ("other", "Forecasters expect heavy rain across the north from Wednesday.")])
    assert [(g.chosen, g.copies) for g in groups] == [("ar2", ("ar1",)), ("zh2", ("zh1",))]
    assert words("١٥ مقتل") == ["15", "مقتل"]  # digits of every script compare as one
    said = "Police said 12 died on Tuesday in Baghdad, and Ahmed Ali was hurt."
    assert differences("Police said 15 died on Monday in Baghdad, and Ahmed Hassan was hurt.", said) == [
        Difference("number", "15", "12", said), Difference("date", "Monday", "Tuesday", said),
        Difference("name", "Hassan", "Ali", said)]


def test_outlets_file_is_read_strictly(tmp_path: Path) -> None:
    path = tmp_path / "outlets.toml"
    path.write_text(OUTLETS, encoding="utf-8")
    outlets = load_outlets(path)
    entry = outlets.find(("https://english.almayadeen.net/x",), ())
    assert entry is not None and entry.name == "Al Mayadeen"  # a subdomain of a listed domain
    assert outlets.find((None,), ("الميادين",)) == entry  # by a name it is written under
    assert outlets.find(("https://notalmayadeen.net/x",), ("Someone",)) is None
    assert describe(None) == "not described"
    for text, message in (
        ("[[outlet]]\nname = 'X'\nrating = 'trustworthy'\n", "unknown key 'rating'"),
        ("[[outlet]]\nname = 'X'\nstate_affiliated = 'yes'\n", "state_affiliated: must be true or false"),
        ("[[outlet]]\ncountry = 'X'\n", "outlet[1].name: must be a non-empty string"),
        ("[[source]]\nname = 'X'\n", "unknown key 'source'"),
        ("[[outlet]]\nname = '" + "x" * 600 + "'\n", "longer than 500 characters"),
        ("name = \n", "not a valid TOML file"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError, match=re.escape(message)):
            load_outlets(path)
    path.write_bytes(b"#" * 1_000_001)
    with pytest.raises(UsageError, match="larger than 1,000,000 bytes"):
        load_outlets(path)


def test_a_large_folder_goes_through_minhash_lsh_and_finds_the_same_groups() -> None:
    import random

    from briefer.fetch import copies

    rng = random.Random(5)
    vocab = [f"w{n}" for n in range(3000)]
    items: list[tuple[str, str]] = []
    for s in range(30):
        text = " ".join(rng.choice(vocab) for _ in range(300))
        items += [(f"s{s}a", text), (f"s{s}b", "new intro words here " + text[: len(text) * 9 // 10])]
    items += [(f"u{n}", " ".join(rng.choice(vocab) for _ in range(300))) for n in range(copies.EXACT_UP_TO)]
    assert len(items) > copies.EXACT_UP_TO  # so group_copies takes the MinHash/LSH path
    groups = group_copies(items)
    assert sorted((g.chosen, g.copies) for g in groups) == sorted((f"s{s}a", (f"s{s}b",)) for s in range(30))
    sets = [copies.shingles(t) for _, t in items]
    assert set(copies._lsh(sets, 0.5, copies.NUM_PERM)) == set(copies._exact(sets, 0.5))  # the estimate agrees


def test_the_copies_of_a_story_that_failed_are_named_not_lost(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "brief"

    def fails_the_wire_story(body: dict[str, Any]) -> dict[str, Any]:
        answer = echo_model.respond(body)
        if echo_model._schema_name(body) == "ArticleExtraction" and "Shorja" in json.dumps(body, ensure_ascii=False):
            answer["key_points"] = []  # not valid: at least one key point
        return answer

    with FakeOpenAI(fails_the_wire_story) as model:
        result = CliRunner().invoke(app, ["summarize", str(folder), "--out", str(out), "--base-url", model.base_url,
                                          "--no-cache", "--date", "2026-12-07", "--no-since", "--max-reasks", "0"],
                                    env={"OPENAI_API_KEY": "sk-test"})
    assert result.exit_code == 3, result.output
    brief = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert [f["source_path"] for f in brief["failures"]] == ["mawazin.json"]
    notes = {n["source_path"]: n["note"] for n in brief["notes"]}
    assert notes["almayadeen.json"].startswith("a syndicated copy of mawazin.json, which failed")
    assert "shafaq.json" in notes
