"""Deterministic parts of the brief: entities across spellings, timeline order, staleness, citations."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from briefer.brief.facts import find_stale, join_entities
from briefer.brief.stories import group_stories
from briefer.brief.timeline import build_timeline
from briefer.extract.article import ground
from briefer.ingest.folder import Article, read_folder
from briefer.models import ArticleExtraction, ArticleSummary, Brief, BriefDraft
from briefer.pipeline import RunConfig, run
from conftest import FIXTURES


def summary(aid: str, published: str | None = None, entities: list[dict[str, Any]] | None = None,
            events: list[dict[str, Any]] | None = None, text: str | None = None) -> ArticleSummary:
    """A one-article summary; its body is `text`, by default "q" and every spelling of its entities."""
    if text is None:
        text = " ".join(["q", *(n for e in entities or [] for n in e["names_original"])])
    extraction = ArticleExtraction(
        language="ar", outlet=None, published=published, date_basis="explicit" if published else "unknown",
        date_evidence=None, headline_original="عنوان", headline_en="Headline",
        summary_en="One. Two. Three.",
        key_points=[{"text_en": "k", "evidence_quote": "q", "attributed_to": None,  # type: ignore[list-item]
                     "single_anonymous_source": False}],
        entities=entities or [], claims=[], translation_en=["p"], topics=["t"],
        events=[{"evidence_quote": "q", "date_basis": "stated" if e["date"] else None,  # type: ignore[misc]
                 "attributed_to": None, "single_anonymous_source": False, **e} for e in events or []],
    )
    article = Article(id=aid, source_path=f"{aid}.txt", content_sha256="0", raw_text=f"عنوان\n{text}",
                      title="عنوان", paragraphs=(text,))
    return ground(article, extraction)


def person(name_en: str, *originals: str) -> dict[str, Any]:
    return {"name_en": name_en, "names_original": list(originals), "type": "person", "role_en": ""}


def test_entities_join_across_arabic_spellings_and_english_renderings() -> None:
    summaries = [
        summary("a", entities=[person("Esmail Qaani", "إسماعيل قاآني", "قاآني")]),
        summary("b", entities=[person("Ismail Ghaani", "قآاني")]),  # other English, other hamza placement
        summary("c", entities=[person("ESMAIL QAANI", "Esmaïl Qaani")]),  # joins on the English name alone
        summary("d", entities=[person("Ali al-Tai", "علي الطائي")]),
    ]
    entities = join_entities(summaries)
    qaani = entities[0]
    assert qaani.name_en == "Esmail Qaani" and qaani.article_ids == ["a", "b", "c"]
    variants = {v.name: v.article_ids for v in qaani.variants}
    assert variants == {"ESMAIL QAANI": ["c"], "Esmaïl Qaani": ["c"], "Esmail Qaani": ["a"],
                        "Ismail Ghaani": ["b"], "إسماعيل قاآني": ["a"], "قاآني": ["a"], "قآاني": ["b"]}
    assert [e.name_en for e in entities] == ["Esmail Qaani", "Ali al-Tai"]


def test_entities_of_different_types_do_not_join() -> None:
    place = {"name_en": "Baghdad", "names_original": ["بغداد"], "type": "place", "role_en": ""}
    org = {"name_en": "Baghdad", "names_original": ["بغداد"], "type": "organization", "role_en": ""}
    assert len(join_entities([summary("a", entities=[place]), summary("b", entities=[org])])) == 2


def test_timeline_sorts_partial_dates_and_merges_identical_events() -> None:
    s1 = summary("a", events=[{"date": "2024-09-27", "description_en": "Announcement."},
                              {"date": "2024", "description_en": "Year event."},
                              {"date": None, "description_en": "Undated."}])
    s2 = summary("b", events=[{"date": "2024-09", "description_en": "Month event."},
                              {"date": "2024-09-27", "description_en": "announcement"},
                              {"date": "2023-12-31", "description_en": "Old."}])
    timeline = build_timeline([s1, s2])
    assert [(t.date, t.event, t.article_ids) for t in timeline] == [
        ("2023-12-31", "Old.", ["b"]),
        ("2024-09-27", "Announcement.", ["a", "b"]),
        ("2024-09", "Month event.", ["b"]),
        ("2024", "Year event.", ["a"]),
    ]


def test_stale_articles_are_clearly_older_than_the_newest() -> None:
    summaries = [summary("new", "2024-09"), summary("aug", "2024-08"), summary("feb", "2024-02-18"),
                 summary("old", "2021-07"), summary("unknown")]
    stale = find_stale(summaries, stale_after_days=7)
    assert [s.article_id for s in stale] == ["feb", "old"]  # 2024-08 may be 31 Aug: not clearly stale
    assert "not today's news" in stale[0].reason
    assert [s.article_id for s in find_stale(summaries, stale_after_days=400)] == ["old"]


def seed_summaries() -> list[ArticleSummary]:
    articles = {a.id: a for a in read_folder(FIXTURES / "articles").articles}
    summaries = []
    for path in sorted((FIXTURES / "recordings" / "extract").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        summaries.append(ground(articles[data["subject"]], ArticleExtraction(**data["response"])))
    return summaries


def test_seed_brief_flags_the_old_articles() -> None:
    summaries = seed_summaries()
    assert [s.article_id for s in find_stale(summaries)] == ["002_114e8c00c4a8dde7", "004_6e0e75a60da96bca"]
    qaani = next(e for e in join_entities(summaries) if e.name_en == "Esmail Qaani")
    assert {"قاآني", "قآاني"} <= {v.name for v in qaani.variants}


def test_brief_rejects_citations_of_unknown_articles() -> None:
    draft = {"title": "T", "executive_summary": [{"text": "x", "article_ids": ["a", "ghost"]}], "stories": [],
             "disagreements": []}
    BriefDraft.model_validate(draft)  # without context nothing to check against
    with pytest.raises(ValidationError, match="cites unknown article ids: ghost"):
        BriefDraft.model_validate(draft, context={"article_ids": ["a"]})
    with pytest.raises(ValidationError, match="cites unknown article ids: ghost"):
        Brief.model_validate({
            "date": "2026-11-22", "title": "T", "partial": False, "executive_summary": draft["executive_summary"],
            "stories": [], "entities": [], "timeline": [], "disagreements": [],
            "stale_articles": [{"article_id": "a", "published": None, "reason": "r"}],
            "articles": [{"id": "a", "headline_en": "h", "headline_original": "h", "outlet": None,
                          "published": None, "language": "ar"}],
            "failures": [], "skipped": [], "notes": [],
            "stats": {"articles": 1, "model_calls": 0, "cache_hits": 0, "prompt_tokens": 0,
                      "completion_tokens": 0, "chars_raw": 0, "chars_removed": 0, "quotes": 0,
                      "http_attempts": 0, "tokens_raw_est": 0, "tokens_saved_est": 0,
                      "usage_by_stage": {}, "price": None, "cost_usd_est": None,
                      "quotes_verified": 0, "grounding_rate": None},
        })


def test_extraction_checks_translation_length_and_summary_size() -> None:
    base = json.loads((FIXTURES / "recordings" / "extract" / "000_6f0ae3a4b7243325.json").read_text(encoding="utf-8"))
    answer = base["response"]
    n = len(answer["translation_en"])
    ArticleExtraction.model_validate(answer, context={"paragraph_count": n})
    with pytest.raises(ValidationError, match=f"translation_en has {n} items but the article has {n + 1}"):
        ArticleExtraction.model_validate(answer, context={"paragraph_count": n + 1})
    with pytest.raises(ValidationError, match="summary_en has 1 sentences"):
        ArticleExtraction.model_validate({**answer, "summary_en": "Only one sentence."})
    with pytest.raises(ValidationError, match="date_basis is 'unknown' but published is set"):
        ArticleExtraction.model_validate({**answer, "date_basis": "unknown"})


def test_seed_articles_group_into_three_stories_by_time_and_content() -> None:
    summaries = seed_summaries()
    groups = group_stories(summaries, join_entities(summaries))
    assert [g.article_ids for g in groups] == [
        ["000_6f0ae3a4b7243325", "001_60e5ac162c7950a1", "003_765204c47648eeb1"],  # Aug-Sep 2024: the announcement
        ["004_6e0e75a60da96bca"],  # Feb 2024: Qaani's visit after Tower 22
        ["002_114e8c00c4a8dde7"],  # Jul 2021: after the Biden-Kadhimi meeting
    ]
    assert groups[0].first == "2024-08" and groups[0].last == "2024-09"
    assert "Mohammed Shia al-Sudani" in groups[0].shared_entities


def test_same_entities_far_apart_in_time_are_different_stories() -> None:
    shared = [person("Esmail Qaani", "قاآني"), person("Ali al-Tai", "علي الطائي")]
    a = summary("a", "2024-09-01", entities=shared)
    b = summary("b", "2024-09-05", entities=shared)
    c = summary("c", "2021-07-27", entities=shared)
    d = summary("d", "2024-09-02", entities=[person("Joe Biden", "بايدن")])
    groups = group_stories([a, b, c, d], join_entities([a, b, c, d]))
    assert sorted(g.article_ids for g in groups) == [["a", "b"], ["c"], ["d"]]


def test_the_briefs_date_measures_the_age_of_the_newest_article(tmp_path: Path) -> None:
    for date, age in (("2026-11-22", 783), ("2024-10-01", 1)):
        result = asyncio.run(run(RunConfig(folder=FIXTURES / "articles", out_dir=tmp_path / date, date=date,
                                           offline=True)))
        assert result.brief.date_range == ["2021-07", "2024-09"]
        assert result.brief.newest_age_days == age
        banner = (tmp_path / date / "brief.md").read_text(encoding="utf-8")
        assert ("so none of the 5 articles is today's news" in banner) is (age > 7)
        # Staleness within the folder is still measured against the newest article.
        assert [s.article_id[:3] for s in result.brief.stale_articles] == ["002", "004"]
