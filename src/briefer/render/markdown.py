"""Brief and article summaries to files people read: Markdown and JSON. Computes nothing new.

Every string that came from an article or a model is untrusted: it is Markdown-escaped, and text
in its original script is wrapped in Unicode directional isolates (FSI … PDI) so right-to-left
names cannot reorder the citation numbers around them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from briefer.extract import dates
from briefer.model.cache import pretty_json
from briefer.models import ArticleSummary, Brief, Span, Stats

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")
FSI, PDI = "\u2068", "\u2069"


def md(text: str) -> str:
    """Escape untrusted text for inline Markdown: no markup, links, HTML or line breaks get through."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def iso(text: str) -> str:
    """Escaped text isolated for bidirectional display (for original-script strings)."""
    return f"{FSI}{md(text)}{PDI}"


def to_json(model: Brief | ArticleSummary) -> str:
    return pretty_json(model.model_dump(mode="json"))


def grounding_line(stats: Stats) -> str:
    if stats.grounding_rate is None:
        return "Grounding: no evidence quotes"
    return (f"Grounding: {stats.grounding_rate:.0%} of evidence quotes ({stats.quotes_verified} of {stats.quotes}) "
            "found in their source text by briefer")


def age(days: int) -> str:
    """A number of days, with months or years for people when it is long."""
    text = f"{days} day{'s' if days != 1 else ''}"
    if days >= 3 * 365:
        return f"{text} (about {round(days / 365.25)} years)"
    if days >= 60:
        return f"{text} (about {round(days / 30.44)} months)"
    return text


def age_line(brief: Brief) -> str:
    """When the articles were published, and how old the newest is on the brief's date."""
    if not brief.date_range or brief.newest_age_days is None:
        return "publication dates unknown"
    first, newest = brief.date_range[0], brief.date_range[-1]
    span = dates.show(newest) if first == newest else f"{dates.show(first)} to {dates.show(newest)}"
    n = brief.newest_age_days
    if n < 0:
        when = "the newest is dated after this brief's date"
    elif n == 0:
        when = "the newest may be from this brief's date"
    else:
        when = f"the newest is at least {age(n)} older than this brief"
    return f"published {span}; {when}"


def stale_banner(brief: Brief) -> list[str]:
    """The warning that articles are not today's news, measured against the brief's date as well as
    against the newest article, so it never implies that old news is current."""
    older = len(brief.stale_articles)
    total = len(brief.articles)
    n = brief.newest_age_days
    if n is not None and n > brief.stale_after_days and brief.date_range:
        rest = f" {older} of them are older still than the newest; see Stale articles." if older else ""
        return [f"> **Not today's news:** the newest article ({dates.show(brief.date_range[-1])}) is at least "
                f"{age(n)} older than this brief's date ({brief.date}), so none of the {total} articles is "
                f"today's news.{rest}", ""]
    if older:
        return [f"> **Not today's news:** {older} of {total} articles are older than the newest one by more "
                f"than {brief.stale_after_days} days; see Stale articles.", ""]
    return []


UNVERIFIED = "⚠ quote not found in the source"


def brief_markdown(brief: Brief, summaries: list[ArticleSummary] | None = None) -> str:
    """The brief for a person. With the article summaries, it also lists each article's key points
    with their original quotes, and every quote briefer could not find, marked."""
    number = {a.id: i for i, a in enumerate(brief.articles, start=1)}

    def cite(ids: list[str]) -> str:
        return "".join(f"[{number[i]}]" for i in sorted(set(ids), key=number.__getitem__))

    out: list[str] = [f"# {md(brief.title)}", ""]
    outlets = len({a.outlet for a in brief.articles if a.outlet})
    out.append(f"Daily brief for {brief.date} · {len(brief.articles)} articles from {outlets} named outlets · "
               f"{age_line(brief)}")
    out.append("")
    out += [grounding_line(brief.stats), ""]
    if brief.partial:
        out += [f"> **Partial brief:** {len(brief.failures)} item(s) failed and are listed under Failures.", ""]
    out += stale_banner(brief)

    out += _missing_note(brief)
    out += ["## Executive summary", ""]
    unwritten = "- (not written: the merge step did not run; see the note above)"
    out += [f"- {md(line.text)} {cite(line.article_ids)}" for line in brief.executive_summary] or [
        unwritten if any(m.part == "executive_summary" for m in brief.missing_parts) else "- (none)"]
    out.append("")

    if brief.stories:
        out += ["## Stories", ""]
        for story in brief.stories:
            out += [f"### {md(story.title)} {cite(story.article_ids)}", "", md(story.summary), ""]
            if story.timeline:
                out += ["**Timeline**", ""]
                out += [f"- {dates.show(t.date)} — {md(t.event)} {cite(t.article_ids)}" for t in story.timeline]
                out.append("")
            if story.perspectives:
                out += ["**Perspectives**", ""]
                out += [f"- {md(p.view)} {cite(p.article_ids)}" for p in story.perspectives]
                out.append("")

    if brief.entities:
        out += ["## Who's who", ""]
        for kind, heading in (("person", "People"), ("organization", "Organisations"), ("other", "Other")):
            listed = [e for e in brief.entities if e.type == kind]
            if listed:
                out += [f"**{heading}**", ""]
                for e in listed:
                    role = f" — {md(e.role_en)}" if e.role_en else ""
                    variants = ", ".join(f"{iso(v.name)} {cite(v.article_ids)}"
                                         for v in e.variants if v.name != e.name_en)
                    line = f"- **{md(e.name_en)}**{role} {cite(e.article_ids)}"
                    out.append(f"{line}; also written {variants}" if variants else line)
                out.append("")
            if kind == "organization" and (places := [e for e in brief.entities if e.type == "place"]):
                out += ["**Places:** " + " · ".join(f"{md(e.name_en)} {cite(e.article_ids)}" for e in places), ""]

    out += _section("Timeline", [f"- {dates.show(t.date)} — {md(t.event)} {cite(t.article_ids)}"
                                 for t in brief.timeline])

    if brief.disagreements:
        out += ["## Disagreements", ""]
        for d in brief.disagreements:
            out += [f"### {md(d.topic)}", ""]
            out += [f"- {md(p.position)} {cite(p.article_ids)}" for p in d.positions]
            out.append("")

    out += _section("Stale articles", [f"- {cite([s.article_id])} {md(s.reason)}" for s in brief.stale_articles])

    if summaries:
        out += _evidence(summaries, cite)

    out += _section("Failures", [f"- `{md(f.source_path)}`: {md(f.reason)}" for f in brief.failures])
    out += _section("Skipped files", [f"- `{md(s.source_path)}`: {md(s.reason)}" for s in brief.skipped])
    out += _section("Notes on the input", [f"- `{md(n.source_path)}`: {md(n.note)}" for n in brief.notes])

    out += ["## Sources", ""]
    stale = {s.article_id for s in brief.stale_articles}
    for a in brief.articles:
        meta = " · ".join(x for x in (md(a.outlet) if a.outlet else "outlet unknown",
                                      a.published or "date unknown", a.language,
                                      "**stale**" if a.id in stale else "") if x)
        out.append(f"{number[a.id]}. **{md(a.headline_en)}** — {iso(a.headline_original)} ({meta}; id `{a.id}`)")
    out.append("")
    return "\n".join(out)



_PART_NAMES = {"title": "the title", "executive_summary": "the executive summary",
               "story_summaries": "the stories' own summaries", "perspectives": "their perspectives",
               "disagreements": "the disagreements"}


def _missing_note(brief: Brief) -> list[str]:
    """Said at the top: which parts the merge step did not write, why, and what is complete nonetheless."""
    if not brief.missing_parts:
        return []
    names = [_PART_NAMES[m.part] for m in brief.missing_parts]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    reasons = list(dict.fromkeys(m.reason for m in brief.missing_parts))
    return [f"> **Missing from this brief:** {listed}, because {md('; '.join(reasons))}. The stories below are "
            "grouped automatically by shared entities and dates, each told by its newest article; who's who, the "
            "timeline, stale articles and sources are complete.", ""]


def _section(title: str, lines: list[str]) -> list[str]:
    """A heading and its list, or nothing when the list is empty."""
    return [f"## {title}", "", *lines, ""] if lines else []


def _in_english(s: ArticleSummary, span: Span | None) -> list[str]:
    """Where a verified quote stands, for a reader without its language: the English of its paragraph
    (the translation is paragraph-aligned) and the paragraph's number counted from 1; a list item's
    continuation line."""
    if span is None:
        return []
    if span.part == "headline":
        return [f"  *In the headline:* “{md(s.headline_en)}”"]
    if span.part == "dateline":
        return ["  *In the page's date line.*"]
    n = span.paragraph
    if n is None or not 0 <= n < len(s.translation_en):
        return []
    return [f"  *¶{n + 1} in English:* “{md(s.translation_en[n])}”"]


def _evidence(summaries: list[ArticleSummary], cite: Callable[[list[str]], str]) -> list[str]:
    out = ["## Key points and evidence", ""]
    for s in sorted(summaries, key=lambda s: s.id):
        out += [f"### {cite([s.id])} {md(s.headline_en)}", ""]
        for k in s.key_points:
            mark = "" if k.verified else f" **{UNVERIFIED}**"
            out.append(f"- {md(k.text_en)} — “{iso(k.evidence_quote)}”{mark}")
            out += _in_english(s, k.span)
        out.append("")
    unverified = [
        (s.id, kind, q)
        for s in summaries
        for kind, q, ok in (
            [("key point", k.evidence_quote, k.verified) for k in s.key_points]
            + [(f"claim by {c.speaker_en}", c.evidence_quote, c.verified) for c in s.claims]
            + ([("date evidence", s.date_evidence, bool(s.date_evidence_verified))] if s.date_evidence else [])
        )
        if not ok
    ]
    if unverified:
        out += ["## Quotes not found in their sources", ""]
        out += [f"- {cite([aid])} {md(kind)}: “{iso(q)}” **{UNVERIFIED}**" for aid, kind, q in unverified]
        out.append("")
    return out
