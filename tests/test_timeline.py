"""The timeline's order and merging, from the cases an independent reading of the seed brief found (issue 11 §2)."""

from __future__ import annotations

from typing import Any

from briefer.brief.merge import with_timelines
from briefer.brief.timeline import build_timeline, content_words, similar
from briefer.models import StoryDraft
from briefer.render.markdown import timeline_line
from briefer.text import dates
from test_merge import summary


def ev(date: str | None, text: str) -> dict[str, Any]:
    return {"date": date, "description_en": text, "evidence_quote": "q", "date_basis": "stated" if date else None,
            "attributed_to": None, "single_anonymous_source": False}


def rows(summaries: list[Any]) -> list[tuple[str, str, list[str]]]:
    return [(t.date, t.event, t.article_ids) for t in build_timeline(summaries)]


def test_a_year_sorts_after_the_months_and_days_it_contains_and_equal_dates_keep_the_articles_order() -> None:
    # Article 002: "2021 — combat mission to end by the end of the year" came before 2021-06;
    # "2021-07-27 Baghdad (evening)" before "Najaf (morning)" (alphabetical); the article says Najaf first.
    a = summary("002", events=[
        ev("2021-06", "Qaani's previous visit."),
        ev("2021-07", "Factions rejected the shift to training."),
        ev("2021-07-26", "Biden received al-Kadhimi."),
        ev("2021-07-27", "Qaani arrived in Najaf in the morning."),
        ev("2021-07-27", "Qaani arrived in Baghdad in the evening."),
        ev("2021", "The combat mission is to end by the end of the year."),
        ev("2021-12-31", "Deadline."),
    ])
    assert [d for d, _e, _i in rows([a])] == ["2021-06", "2021-07-26", "2021-07-27", "2021-07-27", "2021-07",
                                             "2021-12-31", "2021"]
    order = [e for _d, e, _i in rows([a])]
    assert order.index("Qaani arrived in Najaf in the morning.") < order.index(
        "Qaani arrived in Baghdad in the evening.")


def test_a_month_sorts_after_its_days() -> None:
    # Article 004: "2024-01 — After the Jordan attack…" came before the attack on 2024-01-28.
    a = summary("004", events=[
        ev("2024-01-28", "Three US soldiers were killed at Tower 22 in Jordan."),
        ev("2024-01", "After the Jordan attack, the Iraqi government asked Iran for help."),
        ev("2024-01-29", "Qaani met faction representatives at Baghdad airport."),
        ev("2024-02-04", "No attacks since this date."),
    ])
    assert [d for d, _e, _i in rows([a])] == ["2024-01-28", "2024-01-29", "2024-01", "2024-02-04"]


def test_events_of_one_month_keep_the_articles_order_not_the_alphabet() -> None:
    # Article 001: "2024-08 — After the shelling, Blinken called…" came before the shelling.
    a = summary("001", events=[
        ev("2024-08", "Pro-Iran armed groups shelled Ain al-Asad."),
        ev("2024-08", "After the shelling, Antony Blinken called al-Sudani."),
    ])
    assert [e for _d, e, _i in rows([a])] == ["Pro-Iran armed groups shelled Ain al-Asad.",
                                              "After the shelling, Antony Blinken called al-Sudani."]


def test_equal_dates_across_articles_keep_article_order() -> None:
    b = summary("b", events=[ev("2024-09", "Zeta happened.")])
    a = summary("a", events=[ev("2024-09", "Alpha happened.")])
    assert [e for _d, e, _i in rows([b, a])] == ["Zeta happened.", "Alpha happened."]


def test_the_same_event_in_several_articles_is_one_entry_citing_all() -> None:
    # The planned September announcement appeared three times in the seed brief.
    a = summary("000", events=[ev("2024-09-27", "Iraq's agreement with the United States ending the "
                                                "International Coalition's mission is to be announced.")])
    b = summary("001", events=[ev("2024-09", "A joint statement ending the coalition's mission in Iraq "
                                             "is to be announced.")])
    c = summary("003", events=[ev("2024-09-27", "The announcement ending the coalition mission in Iraq.")])
    # One entry citing all three, dated as all three support (001 gives only the month: issue 28), each report
    # with its own date.
    assert rows([a, b, c]) == [("2024-09", "Iraq's agreement with the United States ending the International "
                                "Coalition's mission is to be announced.", ["000", "001", "003"])]
    [entry] = build_timeline([a, b, c])
    assert [(r.article_id, r.date) for r in entry.reports] == [("000", "2024-09-27"), ("001", "2024-09"),
                                                               ("003", "2024-09-27")]


def test_the_merged_entry_keeps_the_most_precise_reports_words_and_each_reports_date() -> None:
    b = summary("a", events=[ev("2024-09", "A joint statement ending the coalition's mission in Iraq is announced.")])
    a = summary("b", events=[ev("2024-09-27", "Joint statement ending the coalition's mission in Iraq announced.")])
    assert rows([b, a]) == [("2024-09", "Joint statement ending the coalition's mission in Iraq announced.",
                             ["a", "b"])]
    assert [(r.article_id, r.date) for r in build_timeline([b, a])[0].reports] == [("a", "2024-09"),
                                                                                 ("b", "2024-09-27")]


def test_different_events_stay_apart() -> None:
    text = "A joint statement ending the coalition's mission in Iraq is to be announced."
    # Two reports of it (another attribution): an item repeated whole would be one item (extract/article.py).
    same_article = summary("a", events=[ev("2024-09", text), {**ev("2024-09", text), "attributed_to": "Reuters"}])
    assert len(rows([same_article])) == 2  # an article does not report one event twice
    other_month = [summary("a", events=[ev("2024-08", text)]), summary("b", events=[ev("2024-09", text)])]
    assert len(rows(other_month)) == 2
    other_day = [summary("a", events=[ev("2024-09-26", text)]), summary("b", events=[ev("2024-09-27", text)])]
    assert len(rows(other_day)) == 2
    unlike = [summary("a", events=[ev("2026", "The International Coalition's missions across Iraq, including "
                                              "Erbil, are to end at the end of 2026.")]),
              summary("b", events=[ev("2026", "The remaining coalition troops are due to leave by the end "
                                              "of 2026 under the plan.")])]
    assert len(rows(unlike)) == 2
    assert rows([summary("a", events=[ev(None, text)])]) == []


def test_a_merged_entry_only_takes_events_compatible_with_all_its_dates() -> None:
    text = "A joint statement ending the coalition's mission in Iraq is announced."
    s = [summary("a", events=[ev("2024-09", text)]), summary("b", events=[ev("2024-09-27", text)]),
         summary("c", events=[ev("2024-09-28", text)])]
    # a and b are one entry, dated as both support (the month: issue 28), so it sorts at the month's end.
    assert [(d, i) for d, _e, i in rows(s)] == [("2024-09-28", ["c"]), ("2024-09", ["a", "b"])]


def test_similarity_is_on_content_words() -> None:
    assert similar(content_words("The announcement was delayed"), content_words("Announced: a delay was made!")) \
        is False  # two shared words are not enough
    assert similar(content_words("Qaani met the factions at Baghdad airport"),
                   content_words("At Baghdad airport, Qaani met faction leaders"))


def test_partial_dates_shown_as_what_they_are() -> None:
    assert [dates.show(d) for d in ("2024-09-16", "2024-09", "2021")] == ["2024-09-16", "September 2024", "2021"]


def test_story_timelines_are_built_by_briefer_from_their_articles() -> None:
    a = summary("a", events=[ev("2024-09-16", "Qaani attended the meeting.")])
    b = summary("b", events=[ev("2021-07-27", "Qaani visited Najaf.")])
    written = StoryDraft(title="T", summary="S.", article_ids=["a"], perspectives=[])  # the model writes no timeline
    [story] = with_timelines([written], [a, b])
    assert [(t.date, t.event, t.article_ids) for t in story.timeline] == [("2024-09-16", "Qaani attended the meeting.",
                                                                          ["a"])]


def test_a_merged_entry_claims_no_more_than_each_report_gives() -> None:
    # Issue 28: article 000 gives 27 September 2024, article 001 only «في سبتمبر المقبل» (next September). The
    # entry was dated 2024-09-27 and cited both: 001 was cited for a day it never gives.
    a = summary("000", published="2024-09", events=[
        ev("2024-09-27", "Iraq's agreement with the United States ending the coalition's mission is to be announced.")])
    b = summary("001", published="2024-08", events=[
        ev("2024-09", "A joint statement ending the coalition's mission in Iraq with the United States is to be "
                      "announced.")])
    [entry] = build_timeline([a, b])
    assert entry.date == "2024-09"  # the date every cited report supports
    assert entry.article_ids == ["000", "001"]
    assert [(r.article_id, r.date) for r in entry.reports] == [("000", "2024-09-27"), ("001", "2024-09")]
    line = timeline_line(entry, lambda ids: "".join(f"[{i}]" for i in ids))
    assert line.startswith("- 2024-09-27 [000]; September 2024 [001] ")
    assert "[000][001]" not in line  # the day is cited to 000 alone


def test_reports_of_the_same_date_are_one_entry_cited_once() -> None:
    a = summary("003", events=[ev("2024-09-06", "Reuters reported that a withdrawal plan had been broadly agreed.")])
    b = summary("004", events=[ev("2024-09-06", "Reuters reported a withdrawal plan broadly agreed by both sides.")])
    [entry] = build_timeline([a, b])
    assert entry.reports == [] and entry.article_ids == ["003", "004"]
    assert timeline_line(entry, lambda ids: "".join(f"[{i}]" for i in ids)).endswith("[003][004]")
