"""evidence.md: what the brief rests on, article by article, one link from every citation of brief.md.

For each source: where to open it, its summary, its key points, claims and events, each with the quote it
rests on in the original script (marked when briefer could not find it) and the English of the quote's
paragraph; the names as each article writes them; each story's whole timeline; and every quote not found.
Escaped and bidi-isolated as brief.md is (markdown.py). Computes nothing new.
"""

from __future__ import annotations

from collections.abc import Callable

from briefer.models import ArticleRef, ArticleSummary, Brief
from briefer.text import dates

from .common import (
    KEPT_IN_PART,
    NAMES_ANCHOR,
    UNVERIFIED,
    UNVERIFIED_ANCHOR,
    Citations,
    entity_groups,
    evidence_anchor,
    other_spellings,
    page_differences,
    published_line,
    role_in_time,
    source_links,
    story_anchor,
    unverified_quotes,
)
from .markdown import according, cite_links, flag, in_english, iso, md, md_url, printable, timeline_line

BRIEF_FILE = "brief.md"


def evidence_markdown(brief: Brief, summaries: list[ArticleSummary]) -> str:
    """The evidence of the brief: every article's key points, claims and events with their quotes."""
    citations = Citations.of(brief)
    cite = cite_links(citations, evidence="")
    by_id = {s.id: s for s in summaries}
    out = [f"# Evidence: {md(brief.title)}", "",
           f"What the brief of {brief.date} ([{BRIEF_FILE}]({BRIEF_FILE})) rests on, source by source: each key "
           "point, claim and event with the quote it rests on, in the article's own words, and the English of the "
           "quote's paragraph. Citations [n] lead to the source's section.", ""]
    for a in brief.articles:
        n = citations.number[a.id]
        out += _article(n, a, by_id.get(a.id), cite)
    out += _timelines(brief, cite)
    out += _spellings(brief, cite)
    unverified = unverified_quotes([by_id[a.id] for a in brief.articles if a.id in by_id])
    if unverified:
        out += [f'<a id="{UNVERIFIED_ANCHOR}"></a>', "", "## Quotes not found in their sources", ""]
        out += [f"- {cite([u.article_id])} {md(u.kind)}: “{iso(u.quote)}” **{UNVERIFIED}**" for u in unverified]
        out.append("")
    return printable("\n".join(out))


def _article(n: int, a: ArticleRef, s: ArticleSummary | None, cite: Callable[[list[str]], str]) -> list[str]:
    out = [f'<a id="{evidence_anchor(n)}"></a>', "", f"## [{n}] {md(a.headline_en)}", ""]
    links = " · ".join(f"[{link.label}]({md_url(link.url)})" for link in source_links(a))
    meta = " · ".join(x for x in (md(a.outlet) if a.outlet else "outlet unknown",
                                  published_line(a.published, a.date_basis), a.language, f"id `{a.id}`",
                                  f"file `{md(s.source_path)}`" if s else "", links) if x)
    out += [f"{iso(a.headline_original)} — {meta}", ""]
    out += [f"- ⚠ {md(d)}" for d in page_differences(a)]
    if page_differences(a):
        out.append("")
    if s is None:
        return [*out, "(no summary: see Failures in the brief)", ""]
    if s.warnings:
        out += [f"> **{KEPT_IN_PART}:** {md('; '.join(s.warnings))}", ""]
    if s.published_note:
        out += [f"*Publication date:* {md(s.published_note)}", ""]
    out += [md(s.summary_en), ""]
    out += _items(s)
    if s.entities:
        out += ["**Names, as the article writes them**", ""]
        out.append(" · ".join(f"{md(e.name_en)} ({', '.join(iso(o) for o in e.names_original)})" for e in s.entities))
        out.append("")
    return out


def _mark(verified: bool | None) -> str:
    return "" if verified else f" **{UNVERIFIED}**"


def _items(s: ArticleSummary) -> list[str]:
    """Key points, claims and events, each with its quote and the English of the quote's paragraph."""
    out: list[str] = []
    if s.key_points:
        out += ["**Key points**", ""]
        for k in s.key_points:
            out.append(f"- {md(k.text_en)}{according(k.attributed_to, k.single_anonymous_source)} — "
                       f"“{iso(k.evidence_quote)}”{_mark(k.verified)}{flag(k.support)}")
            out += in_english(s, k.span)
        out.append("")
    if s.claims:
        out += ["**Claims**", ""]
        for c in s.claims:
            anonymous = " (a single anonymous source)" if c.single_anonymous_source else ""
            out.append(f"- **{md(c.speaker_en)}**{anonymous}: {md(c.claim_en)} — “{iso(c.evidence_quote)}”"
                       f"{_mark(c.verified)}{flag(c.support)}")
            out += in_english(s, c.span)
        out.append("")
    if s.events:
        out += ["**Events**", ""]
        for e in s.events:
            when = dates.show(e.date) if e.date else "undated"
            how = f" *({md(e.date_note)})*" if e.date_note else ""
            out.append(f"- {when}{how} — {md(e.description_en)}"
                       f"{according(e.attributed_to, e.single_anonymous_source)} — “{iso(e.evidence_quote)}”"
                       f"{_mark(e.verified)}{flag(e.support)}")
            out += in_english(s, e.span)
        out.append("")
    if s.date_evidence:
        out += [f"*Date evidence:* “{iso(s.date_evidence)}”{_mark(s.date_evidence_verified)}", ""]
    return out


def _timelines(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    """Each story's whole timeline (the brief shows the newest entries)."""
    out: list[str] = []
    for number, story in enumerate(brief.stories, start=1):
        if story.timeline:
            out += [f'<a id="{story_anchor(number)}"></a>', "",
                    f"## Timeline of the story “{md(story.title)}” {cite(story.article_ids)}", ""]
            out += [timeline_line(t, cite) for t in story.timeline]
            out.append("")
    return out


def _spellings(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    """The whole who's who, each name with its role and every spelling the articles write it in."""
    if not brief.entities:
        return []
    out = [f'<a id="{NAMES_ANCHOR}"></a>', "", "## Who's who, with the names as the articles write them", ""]
    for group in entity_groups(brief):
        out += [f"**{group.heading}**", ""]
        for e in group.entities:
            role = role_in_time(e, brief.date)
            said = f" — {md(role)} {cite(e.role_article_ids or e.article_ids)}" if role else ""
            variants = ", ".join(f"{iso(v.name)} {cite(v.article_ids)}" for v in other_spellings(e))
            line = f"- **{md(e.name_en)}** {cite(e.article_ids)}{said}"
            out.append(f"{line}; also written {variants}" if variants else line)
        out.append("")
    return out
