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
from briefer.models import ArticleSummary, Brief, Continuation, Span, TimelineEntry
from briefer.plural import plural

from .common import (
    KEPT_IN_PART,
    KEPT_INTRO,
    MERGE_LINE,
    MISSING_TAIL,
    UNVERIFIED,
    Citations,
    age_line,
    date_mark,
    entity_groups,
    grounding_line,
    kept_in_part,
    missing_note,
    named_outlets,
    other_spellings,
    partial_parts,
    published_line,
    stale_banner,
    stale_ids,
    summary_unwritten,
    unverified_quotes,
    who_says,
)

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


def brief_markdown(brief: Brief, summaries: list[ArticleSummary] | None = None) -> str:
    """The brief for a person. With the article summaries, it also lists each article's key points
    with their original quotes, and every quote briefer could not find, marked."""
    citations = Citations.of(brief)

    def cite(ids: list[str]) -> str:
        return "".join(f"[{n}]" for n in citations.numbers(ids))

    out: list[str] = [f"# {md(brief.title)}", ""]
    out.append(f"Daily brief for {brief.date} · {plural(len(brief.articles), 'article')} from "
               f"{plural(named_outlets(brief), 'named outlet')} · {age_line(brief)}")
    out.append("")
    out += [grounding_line(brief.stats), ""]
    if brief.partial:
        out += [f"> **Partial brief:** {'; '.join(partial_parts(brief))}.", ""]
    banner = stale_banner(brief)
    if banner:
        out += [f"> **Not today's news:** {banner.text}{' see Stale articles.' if banner.see_stale else ''}", ""]

    out += _missing_note(brief)
    out += _since_section(brief, cite)
    out += ["## Executive summary", ""]
    unwritten = "- (not written: the merge step did not run; see the note above)"
    out += [f"- {md(line.text)} {cite(line.article_ids)}" for line in brief.executive_summary] or [
        unwritten if summary_unwritten(brief) else "- (none)"]
    out.append("")

    if brief.stories:
        out += ["## Stories", ""]
        told = brief.continuity.stories if brief.continuity else [None] * len(brief.stories)
        for story, cont in zip(brief.stories, told, strict=True):
            label = f" · *{cont.label}*" if cont else ""
            out += [f"### {md(story.title)} {cite(story.article_ids)}{label}", ""]
            if cont and brief.continuity:
                out += _since_line(cont, brief.continuity.compared_with.date, cite)
            out += [md(story.summary), ""]
            if story.timeline:
                out += ["**Timeline**", ""]
                out += [timeline_line(t, cite) for t in story.timeline]
                out.append("")
            if story.perspectives:
                out += ["**Perspectives**", ""]
                out += [f"- {md(p.view)} {cite(p.article_ids)}" for p in story.perspectives]
                out.append("")

    if brief.entities:
        out += ["## Who's who", ""]
        for group in entity_groups(brief):
            if group.inline:
                out += [f"**{group.heading}:** " + " · ".join(f"{md(e.name_en)} {cite(e.article_ids)}"
                                                            for e in group.entities), ""]
                continue
            out += [f"**{group.heading}**", ""]
            for e in group.entities:
                role = f" — {md(e.role_en)}" if e.role_en else ""
                variants = ", ".join(f"{iso(v.name)} {cite(v.article_ids)}" for v in other_spellings(e))
                line = f"- **{md(e.name_en)}**{role} {cite(e.article_ids)}"
                out.append(f"{line}; also written {variants}" if variants else line)
            out.append("")

    out += _section("Timeline", [timeline_line(t, cite) for t in brief.timeline])

    if brief.disagreements:
        out += ["## Disagreements", ""]
        for d in brief.disagreements:
            out += [f"### {md(d.topic)}", ""]
            out += [f"- {md(p.position)} {cite(p.article_ids)}" for p in d.positions]
            out.append("")

    out += _section("Stale articles", [f"- {cite([s.article_id])} {md(s.reason)}" for s in brief.stale_articles])

    if summaries:
        out += _evidence(summaries, cite)

    out += _kept_section(brief, cite)
    out += _section("Failures", [f"- `{md(f.source_path)}`: {md(f.reason)}" for f in brief.failures])
    out += _section("Skipped files", [f"- `{md(s.source_path)}`: {md(s.reason)}" for s in brief.skipped])
    out += _section("Notes on the input", [f"- `{md(n.source_path)}`: {md(n.note)}" for n in brief.notes])

    out += ["## Sources", ""]
    stale = stale_ids(brief)
    seen = set(brief.continuity.already_reported) if brief.continuity else set()
    seen_note = f"already in the brief of {brief.continuity.compared_with.date}" if brief.continuity else ""
    for a in brief.articles:
        meta = " · ".join(x for x in (md(a.outlet) if a.outlet else "outlet unknown",
                                      published_line(a.published, a.date_basis), a.language,
                                      "**stale**" if a.id in stale else "",
                                      f"**{KEPT_IN_PART}**" if a.warnings else "",
                                      seen_note if a.id in seen else "") if x)
        out.append(f"{citations.number[a.id]}. **{md(a.headline_en)}** — {iso(a.headline_original)} "
                   f"({meta}; id `{a.id}`)")
    out.append("")
    return "\n".join(out)



def _kept_section(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    """The articles kept in part, each with what briefer left out or could not check."""
    kept = kept_in_part(brief)
    if not kept and not brief.merge_warnings:
        return []
    out = ["## Kept in part", "", KEPT_INTRO, ""]
    if brief.merge_warnings:
        out.append(f"- **{MERGE_LINE}**")
        out += [f"  - {md(w)}" for w in brief.merge_warnings]
    for a in kept:
        out.append(f"- {cite([a.id])} **{md(a.headline_en)}** (id `{a.id}`)")
        out += [f"  - {md(w)}" for w in a.warnings]
    return [*out, ""]


def _missing_note(brief: Brief) -> list[str]:
    """Said at the top: which parts the merge step did not write, why, and what is complete nonetheless."""
    note = missing_note(brief)
    if note is None:
        return []
    return [f"> **Missing from this brief:** {note.parts}, because {md(note.reason)}. {MISSING_TAIL}", ""]


def _since_section(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    """What the earlier brief already told: its date and title, the articles not told again, its stories with
    nothing new today."""
    c = brief.continuity
    if c is None:
        return []
    when = c.compared_with.date
    out = [f"## Since the brief of {when}", "",
           f"Compared with “{md(c.compared_with.title)}” ({when}, `{md(c.compared_with.path)}`). Stories below are "
           "labelled *new*, *developing* (with what changed) or *continuing* (nothing newer).", ""]
    if c.already_reported:
        out += [f"- Already in the brief of {when}, not told again: {cite(c.already_reported)}"]
    out += [f"- No new reporting: {md(st.title)}" for st in c.no_new_reporting]
    return [*out, ""] if c.already_reported or c.no_new_reporting else out


def _since_line(cont: Continuation, when: str, cite: Callable[[list[str]], str]) -> list[str]:
    if cont.since is None:
        return []
    by = " (briefer, from the new articles' headlines)" if cont.since.written_by == "briefer" else ""
    return [f"**Since {when}:** {md(cont.since.text)} {cite(cont.since.article_ids)}{by}", ""]


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


def according(attributed_to: str | None, single_anonymous_source: bool, reports: int = 1) -> str:
    """Who says so, for a line that rests on someone's word; nothing when the outlet says it itself."""
    who = who_says(attributed_to, single_anonymous_source, reports)
    return f" — {md(who)}" if who else ""


def timeline_line(t: TimelineEntry, cite: Callable[[list[str]], str]) -> str:
    """A timeline entry: its date as what it is (marked when computed or from outside the article),
    what happened, who says so, and its sources."""
    mark = f" *({m})*" if (m := date_mark(t.date_basis)) else ""
    who = according(t.attributed_to, t.single_anonymous_source, len(t.article_ids))
    return f"- {dates.show(t.date)}{mark} — {md(t.event)}{who} {cite(t.article_ids)}"


def _evidence(summaries: list[ArticleSummary], cite: Callable[[list[str]], str]) -> list[str]:
    out = ["## Key points and evidence", ""]
    for s in sorted(summaries, key=lambda s: s.id):
        out += [f"### {cite([s.id])} {md(s.headline_en)}", ""]
        if s.warnings:
            out += [f"> **{KEPT_IN_PART}:** {md('; '.join(s.warnings))} (see Kept in part)", ""]
        for k in s.key_points:
            mark = "" if k.verified else f" **{UNVERIFIED}**"
            out.append(f"- {md(k.text_en)}{according(k.attributed_to, k.single_anonymous_source)} — "
                       f"“{iso(k.evidence_quote)}”{mark}")
            out += _in_english(s, k.span)
        out.append("")
        dated = [e for e in s.events if e.date]
        if dated:
            out += ["**Dates**", ""]
            for e in dated:
                assert e.date is not None
                mark = "" if e.verified else f" **{UNVERIFIED}**"
                how = f" *({md(e.date_note)})*" if e.date_note else ""
                out.append(f"- {dates.show(e.date)}{how} — {md(e.description_en)}"
                           f"{according(e.attributed_to, e.single_anonymous_source)} — “{iso(e.evidence_quote)}”{mark}")
                out += _in_english(s, e.span)
            out.append("")
    unverified = unverified_quotes(summaries)
    if unverified:
        out += ["## Quotes not found in their sources", ""]
        out += [f"- {cite([u.article_id])} {md(u.kind)}: “{iso(u.quote)}” **{UNVERIFIED}**" for u in unverified]
        out.append("")
    return out
