"""briefer locates every evidence quote in the source itself: orthographic variants pass, changed words don't."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from briefer.extract.grounding import Source, fold
from briefer.model.endpoint import EndpointConfig
from briefer.pipeline import RunConfig, run
from conftest import FIXTURES, SEED_IDS, reference_responder
from fake_openai import FakeOpenAI

AR_HEADLINE = "زيارة سرية لقاآني الى بغداد تنهي التصعيد الامريكي"
AR_BODY = [
    "وقالت المصادر إنّ قاآني التقى بممثلي عدة فصائل مسلحة في مطار بغداد يوم 29 كانون الثاني.",
    "وقال قيادي كبير في إحدى الفصائل العراقية: \"بدون تدخّل قاآني المباشر، كان من المستحيل إقناع كتائب حزب الله\".",
    "وزار قائد فيلق القدس، الجنرال إسماعيل قاآني، مساء الإثنين، العاصمة بغداد.",
]
AR = Source(AR_HEADLINE, AR_BODY, dateline="12:13 - 18/02/2024")


@pytest.mark.parametrize(
    "quote",
    [
        "قاآني التقى بممثلي عدة فصائل مسلحة",  # exact
        "قاانى التقى بممثلى عده فصائل مسلحه",  # no hamza/madda, alef maqsura for ya, ha for ta marbuta
        "قآاني التقى بممثلي عدة فصائل مسلحة",  # the other spelling of the name seen in the seeds
        "إن قاآني التقى",  # hamza on the alef of "إن" where the source has "إنّ" with shadda
        "بدون تدخل قاآني المباشر، كان من المستحيل",  # diacritics dropped
        "«بدون تدخّل قاآني المباشر، كان من المستحيل»",  # other quote-mark style
        "بدون   تدخّل\nقاآني المباشر ,كان",  # whitespace and comma style
        "قال قيادي كبير",  # the joined conjunction و left out
        "الجنرال إسماعيل قاآنـــي",  # tatweel
        "يوم ٢٩ كانون الثاني",  # Arabic-Indic digits
        "12:13 - 18/02/2024",  # the date line
        "لقاآني الى بغداد",  # headline
    ],
)
def test_arabic_variants_are_found(quote: str) -> None:
    assert AR.locate(quote) is not None, quote


@pytest.mark.parametrize(
    "quote",
    [
        "قاآني التقى بممثلي فصائل مسلحة",  # a word dropped (عدة)
        "قاآني التقى بممثلي عدة فصائل مسلحة كثيرة",  # a word added
        "قاآني التقى بقادة عدة فصائل مسلحة",  # a word changed
        "في مطار بغداد يوم 28 كانون الثاني",  # a number changed
        "السودان",  # part of a word is another word
        "التقى قاآني بممثلي",  # word order changed
        "Qaani met representatives",  # a translation is not a quote
        "",
    ],
)
def test_arabic_changes_are_not_found(quote: str) -> None:
    assert AR.locate(quote) is None, quote


FR = Source("Le président s'exprime", ["« Nous ne céderons pas », a déclaré le Président à l'Élysée mardi."])


@pytest.mark.parametrize(
    "quote", ['"Nous ne céderons pas"', "nous ne cederons pas", "a déclaré le président à l'elysée"]
)
def test_latin_variants_are_found(quote: str) -> None:
    assert FR.locate(quote) is not None


@pytest.mark.parametrize("quote", ["Nous ne céderons jamais", "Nous céderons pas", "a déclaré le Premier ministre"])
def test_latin_changes_are_not_found(quote: str) -> None:
    assert FR.locate(quote) is None


def test_span_points_at_the_text_as_written() -> None:
    at = AR.locate("قاانى التقى بممثلى عده فصائل مسلحه")
    assert at is not None and at.part == "body" and at.paragraph == 0
    assert AR_BODY[0][at.start:at.end] == "قاآني التقى بممثلي عدة فصائل مسلحة"
    at = AR.locate("«بدون تدخّل قاآني المباشر»")
    assert at is not None and AR_BODY[1][at.start:at.end] == "بدون تدخّل قاآني المباشر"


def test_folding_keeps_a_map_to_the_original() -> None:
    folded = fold("إسماعيل  قآاني")
    assert folded.text == "اسماعيل قااني"
    assert len(folded.origin) == len(folded.text)


def test_every_seed_quote_is_verified_in_the_reference_recordings(tmp_path: Path) -> None:
    cfg = RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path, date="2026-11-22", offline=True)
    result = asyncio.run(run(cfg))
    assert result.brief.stats.quotes == result.brief.stats.quotes_verified > 100
    assert result.brief.stats.grounding_rate == 1.0
    md = (tmp_path / "brief.md").read_text(encoding="utf-8")
    n = result.brief.stats.quotes
    assert f"Grounding: 100% of evidence quotes ({n} of {n}) found in their source text by briefer" in md
    summary = json.loads((tmp_path / "articles" / "004_6e0e75a60da96bca.json").read_text(encoding="utf-8"))
    assert summary["date_evidence"] == "12:13 - 18/02/2024" and summary["date_evidence_verified"] is True
    assert summary["date_evidence_span"] == {"part": "dateline", "paragraph": None, "start": 0, "end": 18}
    point = summary["key_points"][0]
    span = point["span"]
    assert point["verified"] is True
    assert summary["paragraphs_original"][span["paragraph"]][span["start"]:span["end"]] == point["evidence_quote"]


BAD_QUOTE = "قال مسؤول إيراني إن الانسحاب تم"  # in no article


def _responder_with_a_bad_quote(fix_on_reask: bool) -> Any:
    good = reference_responder()

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        answer = good(body)
        if not answer.get("headline_original", "").startswith("زيارة سرية"):  # only article 004
            return answer
        reasked = any("Not found in the article" in str(m.get("content")) for m in body["messages"])
        if reasked and fix_on_reask:
            return answer
        broken = json.loads(json.dumps(answer))
        broken["key_points"][0]["evidence_quote"] = BAD_QUOTE
        return broken

    return respond


def _live(fixtures: Path, out: Path, server: FakeOpenAI, recordings: Path) -> Any:
    cfg = RunConfig(folder=fixtures / "articles", out_dir=out, date="2026-11-22", cache_dir=None, record=True,
                    recordings_dir=recordings, endpoint=EndpointConfig(model="gpt-4o-mini", base_url=server.base_url))
    return asyncio.run(run(cfg))


def test_unlocatable_quote_is_reasked_and_the_fix_recorded(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(_responder_with_a_bad_quote(fix_on_reask=True)) as server:
        result = _live(fixture_copy, tmp_path / "live", server, tmp_path / "rec")
        reasks = [r for r in server.requests if any("Not found in the article" in str(m.get("content"))
                                                   for m in r["messages"])]
    assert len(reasks) == 1
    assert BAD_QUOTE in reasks[0]["messages"][-1]["content"]  # the re-ask says which quote was not found
    assert reasks[0]["messages"][-2]["role"] == "assistant"  # after the model's own previous answer
    assert result.brief.stats.grounding_rate == 1.0
    assert (tmp_path / "rec" / "extract" / "004_6e0e75a60da96bca~reask1.json").is_file()
    # The re-ask is replayed offline like any other answer.
    replay = asyncio.run(run(RunConfig(folder=fixture_copy / "articles", out_dir=tmp_path / "replay",
                                       date="2026-11-22", offline=True, recordings_dir=tmp_path / "rec")))
    assert replay.report.spent.answers == 0 and replay.report.replayed.answers == len(SEED_IDS) + 2
    assert (tmp_path / "replay" / "brief.md").read_bytes() == (tmp_path / "live" / "brief.md").read_bytes()


def test_quote_still_unlocatable_is_kept_and_flagged(fixture_copy: Path, tmp_path: Path) -> None:
    with FakeOpenAI(_responder_with_a_bad_quote(fix_on_reask=False)) as server:
        result = _live(fixture_copy, tmp_path / "live", server, tmp_path / "rec")
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "live" / "articles" / "004_6e0e75a60da96bca.json").read_text(encoding="utf-8"))
    point = summary["key_points"][0]
    assert point["evidence_quote"] == BAD_QUOTE and point["verified"] is False and point["span"] is None
    assert summary["grounding"]["unverified"] == [BAD_QUOTE]
    assert result.brief.stats.quotes_verified == result.brief.stats.quotes - 1
    md = (tmp_path / "live" / "brief.md").read_text(encoding="utf-8")
    assert "**1 quote not found in its source** (⚠): listed in [evidence.md](evidence.md#quotes-not-found)" in md
    evidence = (tmp_path / "live" / "evidence.md").read_text(encoding="utf-8")
    assert f"“\u2068{BAD_QUOTE}\u2069” **⚠ quote not found in the source**" in evidence
    assert "## Quotes not found in their sources" in evidence
