"""What brief.md and brief.html both show, worked out once from the Brief and the article summaries.

Both renderers number the sources, cite them, list the quotes briefer could not find and state the
grounding rate in the same words; keeping that here means the two files can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from briefer.models import (
    NOT_DESCRIBED,
    ArticleRef,
    ArticleSummary,
    Brief,
    BriefEntity,
    CarriedCopy,
    CopyDifference,
    EntityType,
    Stats,
    Story,
    Support,
    TimelineEntry,
    Variant,
)
from briefer.plural import plural as plural  # one writer of counts in words
from briefer.text import dates

UNVERIFIED = "⚠ quote not found in the source"
KEPT_IN_PART = "⚠ kept in part"
KEPT_INTRO = ("The model's answer was not valid as a whole (after any re-asks); briefer kept what was valid and "
              "says what it left out or could not check:")


MERGE_KEPT = "kept in part, with warnings, listed under Kept in part"
MERGE_LINE = "Merge answer (title, summary, stories, disagreements)"


def kept_in_part(brief: Brief) -> list[ArticleRef]:
    """The articles kept only in part (with warnings), in source order."""
    return [a for a in brief.articles if a.warnings]


def partial_parts(brief: Brief) -> list[str]:
    """What makes the brief partial, in words: failed items, articles kept in part."""
    out = []
    if brief.failures:
        out.append(f"{len(brief.failures)} item(s) failed and are listed under Failures")
    if kept := kept_in_part(brief):
        out.append(f"{len(kept)} article(s) were kept in part, with warnings, and are listed under Kept in part")
    if brief.merge_warnings:
        out.append(f"the merge answer was {MERGE_KEPT}")
    return out


@dataclass(frozen=True)
class Citations:
    """Source numbers: the brief's articles in order, from 1."""

    number: dict[str, int]

    @classmethod
    def of(cls, brief: Brief) -> Citations:
        return cls({a.id: i for i, a in enumerate(brief.articles, start=1)})

    def numbers(self, ids: Iterable[str]) -> list[int]:
        """The numbers of the cited articles, each once, in ascending order."""
        return sorted({self.number[i] for i in ids})


@dataclass(frozen=True)
class UnverifiedQuote:
    article_id: str
    kind: str  # "key point", "claim by …", "event (…)", "date evidence"
    quote: str


def unverified_quotes(summaries: Sequence[ArticleSummary]) -> list[UnverifiedQuote]:
    """Every evidence quote briefer could not find in its article, article by article."""
    out: list[UnverifiedQuote] = []
    for s in summaries:
        checked = ([("key point", k.evidence_quote, k.verified) for k in s.key_points]
                   + [(f"claim by {c.speaker_en}", c.evidence_quote, c.verified) for c in s.claims]
                   + [(f"event ({e.description_en})", e.evidence_quote, e.verified) for e in s.events])
        if s.date_evidence:
            checked.append(("date evidence", s.date_evidence, bool(s.date_evidence_verified)))
        out += [UnverifiedQuote(s.id, kind, quote) for kind, quote, ok in checked if not ok]
    return out


DATE_MARKS = {"computed": "date computed by briefer", "outside": "date from outside the article"}


SHORT_DATE_MARKS = {"computed": "computed", "outside": "outside"}
DATE_LEGEND = "*computed*: a date briefer worked out from the article's words; *outside*: from the model's knowledge."


def date_mark(basis: str | None, short: bool = False) -> str | None:
    """How a timeline date is marked: computed by briefer, or from outside the article; stated: nothing. `short`:
    one word, for the brief (DATE_LEGEND says what it means)."""
    return (SHORT_DATE_MARKS if short else DATE_MARKS).get(basis or "")


def who_says(attributed_to: str | None, single_anonymous_source: bool, reports: int = 1) -> str | None:
    """Who a line rests on ("according to …"); None when the outlets say it in their own voice."""
    anonymous = "a single anonymous source" if reports == 1 else "each report a single anonymous source"
    if attributed_to and single_anonymous_source:
        return f"according to {attributed_to} ({anonymous})"
    if attributed_to:
        return f"according to {attributed_to}"
    return f"according to {anonymous}" if single_anonymous_source else None


def published_line(published: str | None, basis: str | None) -> str:
    """A publication date as what it is: "September 2024, inferred"; an explicit date plainly."""
    if published is None:
        return "date unknown"
    return dates.show(published) + (f", {basis}" if basis and basis != "explicit" else "")


def grounding_line(stats: Stats) -> str:
    """The header's two figures: quotes found in their sources, and statements checked and supported."""
    if stats.grounding_rate is None:
        quotes = "Grounding: no evidence quotes"
    else:
        quotes = (f"Grounding: {stats.grounding_rate:.0%} of evidence quotes ({stats.quotes_verified} of "
                  f"{stats.quotes}) found in their source text by briefer")
    return f"{quotes} · {support_line(stats)}"


WARNING = "⚠"


def support_line(stats: Stats) -> str:
    """The share of statements (the articles' and the merge's) briefer checked and found supported."""
    if stats.support_rate is None:
        return "Statements: none checked"
    rate = f"{stats.support_rate:.0%}" if stats.support_rate in (0, 1) else f"{stats.support_rate:.1%}"
    return (f"Statements: {rate} checked and supported ({stats.statements_supported} of "
            f"{stats.statements}; {stats.statements_unsupported} unsupported {WARNING}, "
            f"{stats.statements_unchecked} unchecked)")


def support_note(support: Support | None) -> str | None:
    """What the reader is told beside a statement: nothing when supported; the reasons when not."""
    if support is None or support.verdict == "supported":
        return None
    if support.verdict == "unsupported":
        return f"{WARNING} not supported: {'; '.join(support.problems)}"
    return f"unchecked: {'; '.join(p.removeprefix('unchecked: ') for p in support.problems)}"


@dataclass(frozen=True)
class Statement:
    """A statement of the brief that is not supported (or not checked), for the lists at the end."""

    where: str  # "executive summary", "key point 3", ...
    article_ids: list[str]
    text: str
    support: Support


def statements_to_list(brief: Brief, summaries: Sequence[ArticleSummary]) -> tuple[list[Statement], list[Statement]]:
    """Every unsupported statement and every unchecked one, in the brief's order: the merge's, then the
    articles' (claims included, which the brief does not show otherwise)."""
    found: list[Statement] = []
    for n, line in enumerate(brief.executive_summary, 1):
        found.append(Statement(f"executive summary, line {n}", line.article_ids, line.text, _or(line.support)))
    for st in brief.stories:
        for n, x in enumerate(st.sentences, 1):
            found.append(Statement(f"story “{st.title}”, sentence {n}", st.article_ids, x.text, _or(x.support)))
        for n, p in enumerate(st.perspectives, 1):
            found.append(Statement(f"story “{st.title}”, perspective {n}", p.article_ids, p.view, _or(p.support)))
    for d in brief.disagreements:
        for n, pos in enumerate(d.positions, 1):
            found.append(Statement(f"disagreement “{d.topic}”, position {n}", pos.article_ids, pos.position,
                                   _or(pos.support)))
    for s in sorted(summaries, key=lambda s: s.id):
        for kind, items in (("key point", [(k.text_en, k.support) for k in s.key_points]),
                            ("claim", [(f"{c.speaker_en}: {c.claim_en}", c.support) for c in s.claims]),
                            ("event", [(e.description_en, e.support) for e in s.events])):
            for n, (text, support) in enumerate(items, 1):
                found.append(Statement(f"{kind} {n}", [s.id], text, _or(support)))
    return ([x for x in found if x.support.verdict == "unsupported"],
            [x for x in found if x.support.verdict == "unchecked"])


def _or(support: Support | None) -> Support:
    return support or Support(verdict="unchecked", problems=["not checked by this version of briefer"])


def named_outlets(brief: Brief) -> int:
    return len({a.outlet for a in brief.articles if a.outlet})


def stale_ids(brief: Brief) -> set[str]:
    return {s.article_id for s in brief.stale_articles}


def other_spellings(entity: BriefEntity) -> list[Variant]:
    """An entity's spellings other than its English name (shown as "also written")."""
    return [v for v in entity.variants if v.name != entity.name_en]


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


@dataclass(frozen=True)
class StaleBanner:
    """The "Not today's news" warning: its text, and whether it points the reader to the stale articles."""

    text: str
    see_stale: bool


def stale_banner(brief: Brief) -> StaleBanner | None:
    """The warning that articles are not today's news, measured against the brief's date as well as
    against the newest article, so it never implies that old news is current."""
    older = len(brief.stale_articles)
    total = len(brief.articles)
    n = brief.newest_age_days
    if n is not None and n > brief.stale_after_days and brief.date_range:
        rest = f" {older} of them {'is' if older == 1 else 'are'} older still than the newest;" if older else ""
        return StaleBanner(f"the newest article ({dates.show(brief.date_range[-1])}) is at least {age(n)} older "
                           f"than this brief's date ({brief.date}), so none of the {total} articles is today's "
                           f"news.{rest}", see_stale=bool(older))
    if older:
        verb = "is" if older == 1 else "are"
        return StaleBanner(f"{older} of {plural(total, 'article')} {verb} older than the newest one by more than "
                           f"{brief.stale_after_days} days;", see_stale=True)
    return None


@dataclass(frozen=True)
class EntityGroup:
    heading: str
    entities: list[BriefEntity]
    inline: bool  # names only, on one line (places: who's who is about people and organisations)


def entity_groups(brief: Brief) -> list[EntityGroup]:
    """Who's who in reading order: people, organisations, places (names only), then anything else."""
    order: list[tuple[EntityType, str, bool]] = [("person", "People", False), ("organization", "Organisations", False),
                                                 ("place", "Places", True), ("other", "Other", False)]
    groups = [EntityGroup(heading, [e for e in brief.entities if e.type == kind], inline)
              for kind, heading, inline in order]
    return [g for g in groups if g.entities]


_PART_NAMES = {"title": "the title", "executive_summary": "the executive summary",
               "story_summaries": "the stories' own summaries", "perspectives": "their perspectives",
               "disagreements": "the disagreements"}
MISSING_TAIL = ("The stories below are grouped automatically by shared entities and dates, each told by its newest "
                "article; who's who, the timeline, stale articles and sources are complete.")


@dataclass(frozen=True)
class MissingNote:
    parts: str  # "the title, the executive summary and the disagreements"
    reason: str  # why, as the run recorded it (may quote an error: escape it)


def missing_note(brief: Brief) -> MissingNote | None:
    """Which parts the merge step did not write, and why; None when it ran."""
    if not brief.missing_parts:
        return None
    names = [_PART_NAMES[m.part] for m in brief.missing_parts]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return MissingNote(listed, "; ".join(dict.fromkeys(m.reason for m in brief.missing_parts)))


def summary_unwritten(brief: Brief) -> bool:
    """The executive summary is empty because the merge step did not run (not because there was nothing)."""
    return any(m.part == "executive_summary" for m in brief.missing_parts)


def role_in_time(entity: BriefEntity, brief_date: str) -> str | None:
    """An entity's role as the reporting it comes from gives it: "Prime Minister of Iraq, in July 2021
    reporting" when the brief is dated after that reporting, so a past role is never shown as current."""
    if not entity.role_en:
        return None
    if entity.role_as_of and dates.latest(entity.role_as_of) < dates.earliest(brief_date):
        return f"{entity.role_en}, in {dates.show(entity.role_as_of)} reporting"
    return entity.role_en


# ---------------------------------------------------------------- two reading depths

EVIDENCE_FILE = "evidence.md"  # beside brief.md: every article's key points, claims and events with their quotes
STORY_TIMELINE_SHOWN = 2  # a story's newest timeline entries in the brief; the rest one link away, in the evidence


UNVERIFIED_ANCHOR = "quotes-not-found"
UNVERIFIED_SHORT = "(⚠)"


def story_anchor(n: int) -> str:
    """The anchor of story n's whole timeline in the evidence."""
    return f"story-{n}"


def evidence_anchor(n: int) -> str:
    """The anchor of source n's evidence (in evidence.md and in brief.html alike)."""
    return f"evidence-{n}"


NAMES_ANCHOR = "names"
# Names per group of the brief's who's who (the most cited first); all of them in the evidence.
WHO_SHOWN = {"People": 5, "Organisations": 4, "Places": 3}


def compact_group(group: EntityGroup) -> tuple[list[BriefEntity], list[BriefEntity]]:
    """A who's who group as the brief shows it: the names most articles cite (in the group's order among equals),
    and the rest, left for the evidence."""
    ranked = sorted(group.entities, key=lambda e: -len(e.article_ids))
    shown = WHO_SHOWN.get(group.heading, 5)
    return ranked[:shown], ranked[shown:]


def untold_timeline(brief: Brief) -> list[TimelineEntry]:
    """The brief's timeline entries that no story tells: those of articles in no story (each story's timeline holds
    every dated event of its articles, so an event is told once)."""
    in_stories = {aid for st in brief.stories for aid in st.article_ids}
    return [t for t in brief.timeline if in_stories.isdisjoint(t.article_ids)]


def story_timeline(entries: list[TimelineEntry], newest: str | None = None) -> tuple[list[TimelineEntry],
                                                                                 list[TimelineEntry]]:
    """A story's timeline as the brief shows it, and the entries left for the evidence (a story of months would
    otherwise be most of the brief). Shown: the latest entries up to `newest` (the story's newest report: what has
    happened, not the deadlines it announces), topped up with the first ones after it; both lists in date order."""
    if len(entries) <= STORY_TIMELINE_SHOWN:
        return list(entries), []
    past = [i for i, t in enumerate(entries) if newest is None or dates.earliest(t.date) <= dates.latest(newest)]
    chosen = set(past[-STORY_TIMELINE_SHOWN:])
    after = [i for i in range(len(entries)) if i not in chosen]
    chosen.update(after[:STORY_TIMELINE_SHOWN - len(chosen)])
    return [t for i, t in enumerate(entries) if i in chosen], [t for i, t in enumerate(entries) if i not in chosen]


def story_parts(brief: Brief, story: Story) -> tuple[list[TimelineEntry], list[TimelineEntry]]:
    """`story_timeline` of a story of the brief, up to its newest report."""
    return story_timeline(story.timeline, story_newest(brief, story.article_ids))


def story_newest(brief: Brief, article_ids: Iterable[str]) -> str | None:
    """The publication date of a story's newest article, as known (None: none is dated)."""
    published = [a.published for a in brief.articles if a.id in set(article_ids) and a.published]
    return max(published, key=dates.timeline_key) if published else None


_ISO_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
_SAFE_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f<>\"`\\]+$", re.IGNORECASE)


def link_target(url: str | None) -> str | None:
    """An address a brief may link to: http(s) only, with no spaces, quotes or control characters (a file's
    `javascript:` or `file:` URL is shown as text, never as a link); None otherwise."""
    if not url or len(url) > 2000 or not _SAFE_URL.match(url):
        return None
    return url


@dataclass(frozen=True)
class SourceLink:
    label: str  # "original", "canonical"
    url: str


def source_links(a: ArticleRef) -> list[SourceLink]:
    """Where a source can be opened: its URL, and its canonical URL when that is another address."""
    out = []
    url, canonical = link_target(a.url), link_target(a.canonical_url)
    if url:
        out.append(SourceLink("original", url))
    if canonical and canonical != url:
        out.append(SourceLink("canonical" if url else "original", canonical))
    return out


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def page_differences(a: ArticleRef) -> list[str]:
    """Where the file's own title and date disagree with the model's headline and date, in words (empty when they
    agree, or the file gives none). A page title that holds the headline (with the site's name around it) agrees."""
    out = []
    if a.page_title:
        page, model = _norm(a.page_title), _norm(a.headline_original)
        if page not in model and model not in page:
            out.append(f"the page's own title is “{a.page_title}”")
    if a.page_published and _ISO_DATE.match(a.page_published):
        given, model_date = a.page_published, a.published
        if model_date is None:
            out.append(f"the page is dated {dates.show(given)}; the model found no date in the text")
        elif not (given.startswith(model_date) or model_date.startswith(given)):
            out.append(f"the page is dated {dates.show(given)}, the model dates it {dates.show(model_date)}")
    return out


def outlet_voices(brief: Brief, ids: list[str]) -> list[tuple[str, str]]:
    """(outlet, description) for each outlet that carried the cited articles, in citation order, once each:
    how perspectives and disagreement positions name who holds them."""
    refs = {a.id: a for a in brief.articles}
    out: dict[str, str] = {}
    for i in ids:
        ref = refs.get(i)
        if ref is None:
            continue
        out.setdefault(ref.outlet or ref.site_name or "outlet unknown", ref.outlet_description)
        for c in ref.carried_by:
            out.setdefault(c.outlet or "outlet unknown", c.outlet_description)
    return list(out.items())


def voices_line(brief: Brief, ids: list[str]) -> str:
    """"Al Mayadeen (Lebanon; aligned with Hezbollah); Mawazin News (not described)": who holds a perspective or
    position, where the user's outlets file describes at least one of them; "" where it describes none (the
    sources list says "not described" for each, and a perspective need not say it again)."""
    voices = outlet_voices(brief, ids)
    if all(description == NOT_DESCRIBED for _, description in voices):
        return ""
    return "; ".join(name if name == "outlet unknown" else f"{name} ({description})" for name, description in voices)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def carried_line(ref: ArticleRef) -> str | None:
    """"Reuters, as carried by Mawazin News and Al Mayadeen" for a story told once for several outlets."""
    if not ref.carried_by:
        return None
    names = list(dict.fromkeys([ref.outlet or ref.site_name or "outlet unknown",
                                *[c.outlet or "outlet unknown" for c in ref.carried_by]]))
    return f"{ref.origin}, as carried by {_and(names)}" if ref.origin else f"carried by {_and(names)}"


def difference_line(ref: ArticleRef, copy: CarriedCopy, d: CopyDifference) -> str:
    """One difference between two copies, in words (the caller escapes it)."""
    mine = ref.outlet or ref.site_name or "the copy summarised"
    theirs = copy.outlet or copy.source_path
    return f"{d.kind} differs: {mine} has “{d.chosen}”, {theirs} has “{d.copy_says}” (“{d.context}”)"
