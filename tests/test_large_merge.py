"""Merging many articles: never all summaries in one prompt; calls grow linearly; the brief stays usable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import echo_model
from briefer.brief.merge import MergeInputs, build_brief
from briefer.extract.article import ground
from briefer.ingest.folder import Article
from briefer.model.answers import Gateway, Policy
from briefer.model.cache import RecordingStore, ResponseCache
from briefer.model.endpoint import EndpointConfig
from briefer.model.prompts import Prompts
from briefer.models import ArticleExtraction, ArticleSummary
from briefer.text.tokens import estimate_tokens
from fake_openai import FakeOpenAI

BUDGET = 4000


def synthetic(n: int, stories: int) -> list[ArticleSummary]:
    """n summaries about `stories` different events: each event has its own people, topic and week."""
    out = []
    for i in range(n):
        s = i % stories
        day = 1 + (s * 7) % 27
        month = 1 + (s * 7) // 27 % 12
        quote = f"قال الوزير {s} في المحافظة {s} إن المشروع {i} سيبدأ قريبا"  # the entities' spellings in it
        extraction = ArticleExtraction.model_validate({
            "language": "ar", "outlet": f"Outlet {i % 9}", "published": f"2024-{month:02d}-{day:02d}",
            "date_basis": "explicit", "date_evidence": None, "headline_original": f"عنوان {i}",
            "headline_en": f"Minister {s} announces project {i}",
            "summary_en": f"Minister {s} announced project {i}. It starts soon. Funding is agreed.",
            "key_points": [{"text_en": f"Project {i} starts soon.", "evidence_quote": quote, "attributed_to": None,
                            "single_anonymous_source": False}],
            "entities": [{"name_en": f"Minister Number {s}", "names_original": [f"الوزير {s}"], "type": "person",
                          "role_en": "minister"},
                         {"name_en": f"Province {s}", "names_original": [f"المحافظة {s}"], "type": "place",
                          "role_en": "where"}],
            "claims": [], "events": [{"date": f"2024-{month:02d}-{day:02d}", "description_en": f"Project {i}.",
                                      "evidence_quote": quote, "date_basis": "outside", "attributed_to": None,
                                      "single_anonymous_source": False}],
            "translation_en": [f"Minister {s} said project {i} would start soon."],
            "topics": [f"topic {s}", f"infrastructure {s}"],
        }, context={"paragraph_count": 1})
        article = Article(id=f"a{i:04d}", source_path=f"a{i:04d}.txt", content_sha256=str(i), raw_text=quote,
                          title=f"عنوان {i}", paragraphs=(quote,))
        out.append(ground(article, extraction))
    return out


def _merge(summaries: list[ArticleSummary], tmp: Path) -> tuple[Any, list[dict[str, Any]]]:
    with FakeOpenAI(echo_model.respond) as server:
        gateway = Gateway(endpoint=EndpointConfig(model="m", base_url=server.base_url), cache=ResponseCache(None),
                          recordings=RecordingStore(tmp / "rec"), policy=Policy())
        inputs = MergeInputs(date="2026-11-22", summaries=summaries, failures=[], skipped=[], merge_budget=BUDGET)

        async def go() -> Any:
            try:
                return await build_brief(inputs, gateway, Prompts())
            finally:
                await gateway.aclose()

        brief = asyncio.run(go())
        return brief, list(server.requests)


def test_many_articles_are_merged_in_batches_within_the_budget(tmp_path: Path) -> None:
    summaries = synthetic(500, stories=50)
    brief, requests = _merge(summaries, tmp_path)
    names = [r["tools"][0]["function"]["name"] for r in requests]
    assert "BriefDraft" not in names  # never everything in one prompt
    assert names.count("BriefOverview") == 1 and names.count("StoriesDraft") == len(names) - 1
    for r in requests:
        user = next(m["content"] for m in r["messages"] if m["role"] == "user")
        boundary = user.split("<<<", 1)[1].split(" ", 1)[0].split("\n", 1)[0]
        inside = user.split(f"<<<{boundary}\n", 1)[1].rsplit(f"\n{boundary}>>>", 1)[0]
        assert estimate_tokens(inside) <= BUDGET, "a merge call over its input budget"
    # Usable: every article in a story, the stories are the events, the summary cites them.
    covered = {aid for st in brief.stories for aid in st.article_ids}
    assert covered == {s.id for s in summaries}
    assert len(brief.stories) == 50
    assert 1 <= len(brief.executive_summary) <= 7 and brief.title
    assert not brief.partial


def test_merge_calls_grow_linearly(tmp_path: Path) -> None:
    _, small = _merge(synthetic(100, stories=10), tmp_path / "small")
    _, large = _merge(synthetic(500, stories=50), tmp_path / "large")
    # 5x the articles and stories: about 5x the batch calls, plus one overview each.
    ratio = (len(large) - 1) / (len(small) - 1)
    assert 3.5 <= ratio <= 6.5, (len(small), len(large))


def test_few_articles_keep_the_single_merge_call(tmp_path: Path) -> None:
    _, requests = _merge(synthetic(5, stories=2), tmp_path)
    assert [r["tools"][0]["function"]["name"] for r in requests] == ["BriefDraft"]


def test_the_single_call_is_skipped_only_when_it_is_surely_over_the_budget() -> None:
    # build_brief decides "batches" from the digests' costs without writing the whole folder's payload only when
    # that payload's own estimate is over the budget too: never a batched merge that one call would have held.
    from briefer.brief.merge import _surely_over, _tokens, article_digest, plan
    from briefer.model.prompts import Prompts

    summaries = synthetic(60, 7)
    for n in (1, 2, 5, 20, 60):
        p = plan(summaries[:n])
        cost = {s.id: _tokens(article_digest(s)) for s in p.summaries}
        whole = estimate_tokens(p.call(Prompts()).input_text)
        for budget in range(0, whole + 50, 7):
            if _surely_over(cost, budget):
                assert whole > budget, (n, budget)
        assert _surely_over(cost, sum(cost.values()) - len(cost) - 1)  # and it does skip: bounds are not vacuous
