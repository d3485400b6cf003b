"""The model-facing fields of issue 11: each event's quote and date basis, who says so, single anonymous sources;
stories the merge model writes without timelines. (briefer's checks of these fields live elsewhere.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from briefer.extract.article import source_of
from briefer.ingest.folder import read_folder
from briefer.model.prompts import default_prompt_dir
from briefer.models import BriefDraft, Claim, Event, KeyPoint, StoryDraft
from conftest import FIXTURES

INJECTION = Path(__file__).parent / "data" / "injection"


def event(**changes: Any) -> dict[str, Any]:
    return {"date": "2024-09-16", "description_en": "Qaani visited Baghdad.", "evidence_quote": "مساء الإثنين",
            "date_basis": "computed", "attributed_to": None, "single_anonymous_source": False, **changes}


@pytest.mark.parametrize(("date", "basis", "ok"), [
    ("2024-09-16", "computed", True), (None, None, True), ("2024-09", None, False), (None, "outside", False),
])
def test_date_basis_is_null_exactly_when_the_date_is(date: str | None, basis: str | None, ok: bool) -> None:
    if ok:
        assert Event.model_validate(event(date=date, date_basis=basis)).date_basis == basis
    else:
        with pytest.raises(ValidationError, match="date_basis must be null exactly when date is null"):
            Event.model_validate(event(date=date, date_basis=basis))


def test_a_date_basis_is_one_of_stated_computed_outside() -> None:
    with pytest.raises(ValidationError):
        Event.model_validate(event(date_basis="inferred"))


def test_events_key_points_and_claims_must_say_who_says_so() -> None:
    for model, data in [(Event, event()), (KeyPoint, {"text_en": "k", "evidence_quote": "q", "attributed_to": None,
                                                      "single_anonymous_source": False}),
                        (Claim, {"speaker_en": "s", "claim_en": "c", "evidence_quote": "q",
                                 "single_anonymous_source": True})]:
        model.model_validate(data)
        for field in ("single_anonymous_source", "attributed_to", "evidence_quote"):
            if field in data:
                with pytest.raises(ValidationError, match=field):
                    model.model_validate({k: v for k, v in data.items() if k != field})


def test_the_merge_model_writes_no_story_timeline() -> None:
    story = {"title": "T", "summary": "S.", "article_ids": ["a"], "perspectives": []}
    assert "timeline" not in StoryDraft.model_fields
    BriefDraft.model_validate({"title": "T", "executive_summary": [{"text": "x.", "article_ids": ["a"]}],
                               "stories": [story], "disagreements": []})
    with pytest.raises(ValidationError, match="timeline"):
        BriefDraft.model_validate({"title": "T", "executive_summary": [{"text": "x.", "article_ids": ["a"]}],
                                   "stories": [{**story, "timeline": []}], "disagreements": []})


@pytest.mark.parametrize("folder", [FIXTURES, INJECTION], ids=["seed", "injection"])
def test_every_recorded_event_quote_is_in_its_article(folder: Path) -> None:
    articles = read_folder(folder / "articles").articles
    events = 0
    for article in articles:
        recording = json.loads((folder / "recordings" / "extract" / f"{article.id}.json").read_text(encoding="utf-8"))
        source = source_of(article)
        for e in recording["response"]["events"]:
            events += 1
            assert source.locate(e["evidence_quote"]) is not None, (article.id, e["evidence_quote"])
            assert (e["date"] is None) == (e["date_basis"] is None), (article.id, e)
    assert events >= 2


def test_the_seed_dates_say_where_they_come_from() -> None:
    """Issue 11 §1: article 000's weekdays are computed; article 002's days come from outside the text; the Qaani
    meeting of 004 rests on Reuters' sources."""
    def events(aid: str) -> list[dict[str, Any]]:
        path = next((FIXTURES / "recordings" / "extract").glob(f"{aid}_*.json"))
        return list(json.loads(path.read_text(encoding="utf-8"))["response"]["events"])

    by_date = {e["date"]: e for e in events("000")}
    assert {by_date[d]["date_basis"] for d in ("2024-09-11", "2024-09-16", "2024-09-20")} == {"computed"}
    assert "الأربعاء الماضي" in by_date["2024-09-11"]["evidence_quote"]
    assert {e["date_basis"] for e in events("002") if e["date"] in ("2021-07-26", "2021-07-27")} == {"outside"}
    [meeting] = [e for e in events("004") if e["date"] == "2024-01-29"]
    assert "Reuters" in meeting["attributed_to"] and "29 كانون الثاني" in meeting["evidence_quote"]


def test_the_extraction_prompt_itself_names_every_new_field() -> None:
    """llama.cpp never shows the schema's descriptions to the model: the prompt text must carry them."""
    text = (default_prompt_dir() / "extract.system.j2").read_text(encoding="utf-8")
    for word in ("attributed_to", "single_anonymous_source", "evidence_quote", "date_basis", "'stated'",
                 "'computed'", "'outside'", "never adopt"):
        assert word in text, word
    for name in ("merge.system.j2", "merge_stories.system.j2"):
        merge = " ".join((default_prompt_dir() / name).read_text(encoding="utf-8").split())
        assert "Do not write timelines" in merge and "never adopted" in merge
