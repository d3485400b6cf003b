"""Brief and article summaries to files people read: Markdown and JSON. Computes nothing new.

Every string that came from an article or a model is untrusted: it is Markdown-escaped, and text
in its original script is wrapped in Unicode directional isolates (FSI … PDI) so right-to-left
names cannot reorder the citation numbers around them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from briefer.model.cache import pretty_json
from briefer.models import (
    ArticleRef,
    ArticleSummary,
    Brief,
    BriefEntity,
    Continuation,
    Span,
    Story,
    Support,
    TimelineEntry,
)
from briefer.text import dates

from .common import (
    DATE_LEGEND,
    EVIDENCE_FILE,
    KEPT_IN_PART,
    KEPT_INTRO,
    MERGE_LINE,
    MISSING_TAIL,
    NAMES_ANCHOR,
    UNVERIFIED_ANCHOR,
    UNVERIFIED_SHORT,
    Citations,
    age_line,
    carried_line,
    compact_group,
    date_mark,
    difference_line,
    entity_groups,
    evidence_anchor,
    grounding_line,
    kept_in_part,
    link_target,
    missing_note,
    named_outlets,
    page_differences,
    partial_parts,
    plural,
    published_line,
    role_in_time,
    source_links,
    stale_banner,
    stale_ids,
    statements_to_list,
    story_anchor,
    story_parts,
    summary_unwritten,
    support_note,
    untold_timeline,
    unverified_quotes,
    voices_line,
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


def cite_links(citations: Citations, evidence: str = EVIDENCE_FILE) -> Callable[[list[str]], str]:
    """Citations as links to each source's evidence: `[[1]](evidence.md#evidence-1)`; `evidence=""` for links
    inside evidence.md itself."""
    def cite(ids: list[str]) -> str:
        return "".join(f"[[{n}]]({evidence}#{evidence_anchor(n)})" for n in citations.numbers(ids))
    return cite


def brief_markdown(brief: Brief, summaries: list[ArticleSummary] | None = None) -> str:
    """The brief for a person, read in five minutes: the summary, the stories with their timelines, the
    disagreements, who's who and the sources. Every citation links to its source's evidence in evidence.md
    (`evidence_markdown`): key points, claims and events with their quotes."""
    citations = Citations.of(brief)
    cite = cite_links(citations)
    out: list[str] = [f"# {md(brief.title)}", ""]
    out.append(f"Daily brief for {brief.date} · {plural(len(brief.articles), 'article')} from "
               f"{plural(named_outlets(brief), 'named outlet')} · {age_line(brief)}")
    out.append("")
    out += [f"{grounding_line(brief.stats)} · the evidence: [{EVIDENCE_FILE}]({EVIDENCE_FILE})", ""]
    if brief.partial:
        out += [f"> **Partial brief:** {'; '.join(partial_parts(brief))}.", ""]
    banner = stale_banner(brief)
    if banner:
        out += [f"> **Not today's news:** {banner.text}{' see Stale articles.' if banner.see_stale else ''}", ""]

    out += _missing_note(brief)
    out += _since_section(brief, cite)
    out += ["## Executive summary", ""]
    unwritten = "- (not written: the merge step did not run; see the note above)"
    out += [f"- {md(line.text)} {cite(line.article_ids)}{flag(line.support)}" for line in brief.executive_summary] or [
        unwritten if summary_unwritten(brief) else "- (none)"]
    out.append("")
    out += _stories(brief, cite)
    if brief.disagreements:
        out += ["## Disagreements", ""]
        for d in brief.disagreements:
            out += [f"### {md(d.topic)}", ""]
            out += [f"- {md(p.position)} {cite(p.article_ids)}{flag(p.support)}{_voices(brief, p.article_ids)}"
                    for p in d.positions]
            out.append("")
    untold = [timeline_line(t, cite, short=True) for t in untold_timeline(brief)]
    if brief.stories:
        out += _section("Other dated events (in no story)", untold)
    else:  # no Stories section above to explain the date marks
        out += _section("Timeline", [DATE_LEGEND, "", *untold] if untold else [])
    out += _whos_who(brief, cite)
    out += _section("Stale articles", [f"- {cite([s.article_id])} {md(s.reason)}" for s in brief.stale_articles])
    out += _kept_section(brief, cite)
    out += _section("Failures", [f"- `{md(f.source_path)}`: {md(f.reason)}" for f in brief.failures])
    out += _section("Skipped files", [f"- `{md(s.source_path)}`: {md(s.reason)}" for s in brief.skipped])
    out += _section("Notes on the input", [f"- `{md(n.source_path)}`: {md(n.note)}" for n in brief.notes])
    unverified = unverified_quotes(summaries or [])
    if unverified:
        where = "its source" if len(unverified) == 1 else "their sources"
        out += [f"**{plural(len(unverified), 'quote')} not found in {where}** {UNVERIFIED_SHORT}: listed in "
                f"[{EVIDENCE_FILE}]({EVIDENCE_FILE}#{UNVERIFIED_ANCHOR}).", ""]
    out += statement_lists(brief, summaries or [], cite)
    out += _sources(brief, citations)
    return printable("\n".join(out))


def _stories(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    if not brief.stories:
        return []
    out = ["## Stories", "", DATE_LEGEND, ""]
    told = brief.continuity.stories if brief.continuity else [None] * len(brief.stories)
    for number, (story, cont) in enumerate(zip(brief.stories, told, strict=True), start=1):
        label = f" · *{cont.label}*" if cont else ""
        out += [f"### {md(story.title)} {cite(story.article_ids)}{label}", ""]
        if cont and brief.continuity:
            out += _since_line(cont, brief.continuity.compared_with.date, cite)
        out += [story_summary(story), ""]
        if story.timeline:
            shown, rest = story_parts(brief, story)
            more = (f" ({len(shown)} of {len(story.timeline)}, up to the newest report; all of them: "
                    f"[{EVIDENCE_FILE}]({EVIDENCE_FILE}#{story_anchor(number)}))") if rest else ""
            out += [f"**Timeline**{more}", ""]
            out += [timeline_line(t, cite, short=True) for t in shown]
            out.append("")
        if story.perspectives:
            out += ["**Perspectives**", ""]
            out += [f"- {md(p.view)} {cite(p.article_ids)}{flag(p.support)}{_voices(brief, p.article_ids)}"
                    for p in story.perspectives]
            out.append("")
    return out


def _whos_who(brief: Brief, cite: Callable[[list[str]], str]) -> list[str]:
    """Who's who, compact: each group on one line, the names most articles cite first, people with their role;
    the rest, and every spelling in the articles' own script, in the evidence."""
    if not brief.entities:
        return []
    out = ["## Who's who", ""]
    for group in entity_groups(brief):
        shown, rest = compact_group(group)
        people = group.heading == "People"
        names = [f"{md(e.name_en)} {cite(e.article_ids)}{_role(e, brief.date, cite) if people else ''}" for e in shown]
        more = f" · and {len(rest)} more in [{EVIDENCE_FILE}]({EVIDENCE_FILE}#{NAMES_ANCHOR})" if rest else ""
        out += [f"**{group.heading}:** " + " · ".join(names) + more, ""]
    return out


def _role(entity: BriefEntity, brief_date: str, cite: Callable[[list[str]], str]) -> str:
    """A person's role in the who's who, in its time, citing only the articles that give it."""
    role = role_in_time(entity, brief_date)
    return f" ({md(role)} {cite(entity.role_article_ids or entity.article_ids)})" if role else ""


def _sources(brief: Brief, citations: Citations) -> list[str]:
    """Each source: its headline linked to the original, the original headline, outlet, date, language, and its
    evidence; where the file's own title or date disagrees with the model's, said beneath."""
    out = ["## Sources", ""]
    stale = stale_ids(brief)
    seen = set(brief.continuity.already_reported) if brief.continuity else set()
    seen_note = f"already in the brief of {brief.continuity.compared_with.date}" if brief.continuity else ""
    for a in brief.articles:
        n = citations.number[a.id]
        # An outlet with its description ("not described" without an entry); an unknown one has none to give.
        meta = " · ".join(x for x in (f"{md(a.outlet)} ({md(a.outlet_description)})" if a.outlet else "outlet unknown",
                                      published_line(a.published, a.date_basis), a.language,
                                      "**stale**" if a.id in stale else "",
                                      f"**{KEPT_IN_PART}**" if a.warnings else "",
                                      seen_note if a.id in seen else "") if x)
        links = source_links(a)
        headline = f"**{md(a.headline_en)}**"
        if links:
            headline = f"[{headline}]({md_url(links[0].url)})"
        more = "".join(f" · [{link.label}]({md_url(link.url)})" for link in links[1:])
        out.append(f"{n}. {headline} — {iso(a.headline_original)} ({meta}) · "
                   f"[evidence]({EVIDENCE_FILE}#{evidence_anchor(n)}){more}")
        out += [f"   - ⚠ {md(d)}" for d in page_differences(a)]
        out += _copies(a)
    out.append("")
    return out


# C0 and C1 control characters but tab and newline, and DEL: `cat brief.md` must not clear the terminal.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The Markdown as written: control characters (but tab and newline) removed, and each line's directional
    controls balanced as brief.html balances them (a stray override never reorders the `[n]` after it)."""
    text = _CONTROLS.sub("", text)
    if not _BIDI.search(text):
        return text
    from .html import bidi_balanced

    return "\n".join(bidi_balanced(line) for line in text.split("\n"))


def md_url(url: str) -> str:
    """A link target for Markdown: the characters that would end or break `(...)` percent-encoded."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def flag(support: Support | None) -> str:
    """Beside a statement: ⚠ and why when briefer found it unsupported, "unchecked" and why; nothing when supported."""
    note = support_note(support)
    return f" **{md(note)}**" if note and note.startswith("⚠") else (f" *({md(note)})*" if note else "")


def story_summary(story: Story) -> str:
    """A story's summary, each sentence with its mark when it is not supported by what it cites."""
    if not story.sentences:
        return md(story.summary)
    return " ".join(f"{md(x.text)}{flag(x.support)}" for x in story.sentences)


def statement_lists(brief: Brief, summaries: list[ArticleSummary], cite: Callable[[list[str]], str]) -> list[str]:
    """Every statement briefer found unsupported (⚠, with why), then every one it could not check (with why)."""
    unsupported, unchecked = statements_to_list(brief, summaries)
    out = _section("Statements not supported by their evidence", [
        f"- ⚠ {cite(x.article_ids)} {md(x.where)}: {md(x.text)} — {md('; '.join(x.support.problems))}"
        for x in unsupported])
    # Each is marked where it stands, with its reason; the list says where to look (the whole text is there).
    out += _section("Statements briefer could not check", [
        f"- {md(x.where)} — {md('; '.join(x.support.problems))}" for x in unchecked])
    return out


def _voices(brief: Brief, ids: list[str]) -> str:
    voices = voices_line(brief, ids)
    return f" — {md(voices)}" if voices else ""


def _copies(a: ArticleRef) -> list[str]:
    """The syndicated copies a source stands for, with what they say differently."""
    carried = carried_line(a)
    if carried is None:
        return []
    out = [f"   - {md(carried)}"]
    for c in a.carried_by:
        target = link_target(c.url)
        link = f" · [original]({md_url(target)})" if target else ""
        out.append(f"   - copy: {md(c.outlet or 'outlet unknown')} ({md(c.outlet_description)}; similarity "
                   f"{c.similarity:.2f}; file `{md(c.source_path)}`){link}")
        out += [f"     - {md(difference_line(a, c, d))}" for d in c.differences]
    return out


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


def in_english(s: ArticleSummary, span: Span | None) -> list[str]:
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


def timeline_line(t: TimelineEntry, cite: Callable[[list[str]], str], short: bool = False) -> str:
    """A timeline entry: its date as what it is (marked when computed or from outside the article; `short`: in one
    word, as DATE_LEGEND says), what happened, who says so, and its sources."""
    mark = f" *({m})*" if (m := date_mark(t.date_basis, short)) else ""
    who = according(t.attributed_to, t.single_anonymous_source, len(t.article_ids))
    if t.reports:  # the reports give the date at different precisions: each with its own
        when = "; ".join(f"{dates.show(r.date)} {cite([r.article_id])}" for r in t.reports)
        return f"- {when}{mark} — {md(t.event)}{who}"
    return f"- {dates.show(t.date)}{mark} — {md(t.event)}{who} {cite(t.article_ids)}"
