"""The merge's answer as the brief shows it: each sentence with briefer's check against what it cites
(sentences.py), and the figures of what was checked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from briefer.models import (
    ArticleSummary,
    BriefDraft,
    BriefEntity,
    CheckedDisagreement,
    CheckedLine,
    CheckedPerspective,
    CheckedPosition,
    Disagreement,
    Sentence,
    Story,
    SummaryLine,
    Support,
)

from .sentences import Checker, sentences


def check_draft(draft: BriefDraft, stories: list[Story], summaries: Sequence[ArticleSummary],
                entities: Sequence[BriefEntity]) -> tuple[list[CheckedLine], list[Story], list[CheckedDisagreement]]:
    """The executive summary, the stories (their summaries' sentences and perspectives) and the disagreements,
    each checked against the statements it cites. Stories beyond the draft's (grouped by briefer when the answer
    had none for them) are left as they are."""
    checker = Checker(summaries, entities)
    checked = []
    for n, story in enumerate(stories):
        if n >= len(draft.stories):
            checked.append(story)
            continue
        told = draft.stories[n]
        cites = told.summary_atoms
        said = [Sentence(text=t, atoms=cites[i] if i < len(cites) else [],
                         support=checker.check(t, [], cites[i] if i < len(cites) else []))
                for i, t in enumerate(sentences(told.summary))]
        views = [CheckedPerspective(**p.model_dump(), support=checker.check(p.view, p.article_ids, p.atoms))
                 for p in told.perspectives]
        checked.append(story.model_copy(update={"sentences": said, "perspectives": views}))
    return lines_checked(draft.executive_summary, checker), checked, disagreements_checked(draft.disagreements, checker)


def lines_checked(lines: Iterable[SummaryLine], checker: Checker) -> list[CheckedLine]:
    return [CheckedLine(**line.model_dump(), support=checker.check(line.text, line.article_ids, line.atoms))
            for line in lines]


def disagreements_checked(items: Iterable[Disagreement], checker: Checker) -> list[CheckedDisagreement]:
    return [CheckedDisagreement(topic=d.topic, positions=[
        CheckedPosition(**p.model_dump(), support=checker.check(p.position, p.article_ids, p.atoms))
        for p in d.positions]) for d in items]


def every_support(summaries: Iterable[ArticleSummary], lines: Iterable[CheckedLine], stories: Iterable[Story],
                  disagreements: Iterable[CheckedDisagreement]) -> list[Support | None]:
    """The verdict on every statement of the brief: the articles' and the merge's."""
    out: list[Support | None] = []
    for s in summaries:
        out += [k.support for k in s.key_points] + [c.support for c in s.claims] + [e.support for e in s.events]
    out += [line.support for line in lines]
    for st in stories:
        out += [x.support for x in st.sentences] + [v.support for v in st.perspectives]
    out += [p.support for d in disagreements for p in d.positions]
    return out


def support_stats(supports: Sequence[Support | None]) -> dict[str, object]:
    """The Stats fields of the statement check. A statement without a verdict counts as unchecked."""
    count = Counter(s.verdict if s is not None else "unchecked" for s in supports)
    total = len(supports)
    return {
        "statements": total,
        "statements_supported": count["supported"],
        "statements_unsupported": count["unsupported"],
        "statements_unchecked": count["unchecked"],
        "support_rate": round(count["supported"] / total, 4) if total else None,
    }
