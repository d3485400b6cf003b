"""Day after day: today's brief compared with an earlier one (`--since`).

Deterministic throughout; the merge model only writes the "since" lines:
- the earlier brief is read through the `Brief` model; one that is missing or unreadable is one warning,
  and the brief stands alone;
- articles the earlier brief already had (same content hash) are listed, not told again as news;
- the earlier brief's entities seed the join, so their names and joins carry over;
- each story is matched to the earlier stories on shared articles, entities and dates, and labelled
  new, developing (newer articles than the earlier story had) or continuing (nothing newer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from briefer.extract import dates
from briefer.extract.textnorm import match_key
from briefer.model.cache import read_regular
from briefer.models import (
    ArticleSummary,
    Brief,
    BriefEntity,
    Continuation,
    Continuity,
    EarlierBrief,
    EarlierStory,
    Since,
    SinceDraft,
    Story,
)

from .aliases import Aliases, name_key

BRIEF_FILE = "brief.json"
MIN_SHARED_ENTITIES = 2  # named people/organisations/things a story shares with an earlier one
UNDATED_MIN_SHARED_ENTITIES = 3  # when either side's dates are unknown
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")  # a folder per day: briefs/2026-11-30/
WINDOW_DAYS = 21  # today's story must start within this many days of the earlier story's newest article


@dataclass(frozen=True)
class Earlier:
    """An earlier brief, as read from its folder."""

    folder: Path
    brief: Brief
    hashes: dict[str, str]  # content_sha256 -> the earlier brief's article id

    @property
    def ref(self) -> EarlierBrief:
        return EarlierBrief(path=str(self.folder), date=self.brief.date, title=self.brief.title)


def _date_of(folder: Path) -> str | None:
    try:
        value = json.loads(read_regular(folder / BRIEF_FILE)).get("date")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and _is_date(value) else None


def _is_date(value: str) -> bool:
    try:
        dates.earliest(value)
    except ValueError:
        return False
    return True


def find_earlier(out: Path, date: str) -> Path | None:
    """The default: when `out` is a folder per day (named by its date, as briefs/2026-11-30/), the sibling
    day folder holding the newest brief dated before `date`. Any other --out compares with nothing unless
    --since is given: a folder beside it holding some brief is not the analyst's yesterday."""
    here = out.resolve()
    parent = here.parent
    if not _DAY.match(here.name) or not parent.is_dir() or not _is_date(date):
        return None
    found: list[tuple[object, str, Path]] = []
    try:
        folders = [p for p in parent.iterdir() if _DAY.match(p.name) and p.is_dir() and p.resolve() != here]
    except OSError:
        return None
    for folder in folders:
        when = _date_of(folder)
        if when is not None and dates.latest(when) < dates.earliest(date):
            found.append((dates.timeline_key(when), folder.name, out.parent / folder.name))  # as --out was given
    return max(found, key=lambda f: (f[0], f[1]))[2] if found else None


def load_earlier(folder: Path, warn: Callable[[str], None]) -> Earlier | None:
    """The earlier brief in `folder` (or the brief.json file given), or None with one warning line."""
    path = folder if folder.suffix == ".json" else folder / BRIEF_FILE
    try:
        brief = Brief.model_validate_json(read_regular(path))
    except OSError as exc:
        warn(f"--since {folder}: cannot read {path.name} ({exc.strerror or exc}); this brief stands alone")
        return None
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        warn(f"--since {folder}: {path.name} is not a brief briefer can read ({first}); this brief stands alone")
        return None
    hashes: dict[str, str] = {}
    for a in brief.articles:
        sha = a.content_sha256 or _sha_from_article_file(path.parent / "articles" / f"{a.id}.json")
        if sha:
            hashes[sha] = a.id
    return Earlier(path.parent, brief, hashes)


def _sha_from_article_file(path: Path) -> str | None:
    """An older brief.json has no hashes in its article list; its articles/<id>.json has."""
    try:
        value = json.loads(read_regular(path)).get("content_sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def already_reported(summaries: Iterable[ArticleSummary], earlier: Earlier | None) -> list[str]:
    """Ids of today's articles whose content the earlier brief already had."""
    if earlier is None:
        return []
    return sorted(s.id for s in summaries if s.content_sha256 in earlier.hashes)


def seeded(aliases: Aliases, earlier: Earlier | None) -> Aliases:
    """The alias rules plus the earlier brief's entities, each one [[entity]] under its earlier name with
    its earlier spellings, so a name joined yesterday is joined and named the same way today. The
    analyst's own file comes first: where both name a spelling, the file wins."""
    if earlier is None:
        return aliases
    names = list(aliases.names)
    alias_of = list(aliases.alias_of)
    for e in earlier.brief.entities:
        n = len(names)
        names.append(e.name_en)
        keys = dict.fromkeys(name_key(s) for s in (e.name_en, *(v.name for v in e.variants)))
        alias_of += [(k, n) for k in keys if k]
    return Aliases(tuple(names), tuple(alias_of), aliases.never)


# ---------------------------------------------------------------- matching stories


def _keys(e: BriefEntity) -> set[str]:
    return {k for k in (match_key(e.name_en), *(name_key(v.name) for v in e.variants)) if k}


@dataclass(frozen=True)
class _Side:
    """A story's features for matching: its articles' hashes, its named entities' keys, its dates."""

    hashes: set[str]
    entities: list[set[str]]  # one key set per entity (places left out: they say little about a story)
    first: str | None
    last: str | None


def _span(published: Sequence[str | None]) -> tuple[str | None, str | None]:
    known = [p for p in published if p]
    if not known:
        return None, None
    return min(known, key=dates.earliest), max(known, key=dates.latest)


def _earlier_sides(earlier: Earlier) -> list[_Side]:
    b = earlier.brief
    refs = {a.id: a for a in b.articles}
    sha_of = {aid: sha for sha, aid in earlier.hashes.items()}
    out = []
    for st in b.stories:
        ids = set(st.article_ids)
        first, last = _span([refs[i].published for i in ids if i in refs])
        out.append(_Side({sha_of[i] for i in ids if i in sha_of},
                         [_keys(e) for e in b.entities if e.type != "place" and ids & set(e.article_ids)],
                         first, last))
    return out


def _today_side(ids: Iterable[str], by_id: dict[str, ArticleSummary], entities: Sequence[BriefEntity]) -> _Side:
    ids = set(ids)
    first, last = _span([by_id[i].published for i in ids if i in by_id])
    return _Side({by_id[i].content_sha256 for i in ids if i in by_id},
                 [_keys(e) for e in entities if e.type != "place" and ids & set(e.article_ids)], first, last)


def _matches(today: _Side, before: _Side) -> bool:
    if today.hashes & before.hashes:
        return True
    shared = sum(1 for keys in before.entities if any(keys & k for k in today.entities))
    if today.first is None or before.last is None:
        return shared >= UNDATED_MIN_SHARED_ENTITIES
    gap = (dates.earliest(today.first) - dates.latest(before.last)).days
    return shared >= MIN_SHARED_ENTITIES and gap <= WINDOW_DAYS


class Matcher:
    """Matches sets of today's articles (a story group, a story) to the earlier brief's stories."""

    def __init__(self, earlier: Earlier, summaries: Sequence[ArticleSummary],
                 entities: Sequence[BriefEntity]) -> None:
        self.earlier = earlier
        self.by_id = {s.id: s for s in summaries}
        self.entities = entities
        self.sides = _earlier_sides(earlier)

    def match(self, ids: Iterable[str]) -> list[int]:
        """Indices of the earlier stories these articles continue."""
        today = _today_side(ids, self.by_id, self.entities)
        return [n for n, side in enumerate(self.sides) if _matches(today, side)]

    def payload(self, ids: Iterable[str]) -> tuple[tuple[str, str, str], ...]:
        """The matched earlier stories as the merge model sees them: title, summary, the earlier brief's date."""
        stories = self.earlier.brief.stories
        return tuple((stories[n].title, stories[n].summary, self.earlier.brief.date) for n in self.match(ids))


def continuity(stories: Sequence[Story], related: Sequence[list[str]], matcher: Matcher, seen: list[str],
               lines: Sequence[SinceDraft | None]) -> Continuity:
    """Each story labelled against the earlier brief. `related[i]` are story i's articles plus the already
    reported articles grouped with them (they are not in the story, but they tie it to the earlier one);
    `lines[i]` the merge model's since line for it, if any."""
    earlier = matcher.earlier
    sides = matcher.sides
    used: set[int] = set()
    out: list[Continuation] = []
    for story, ids, line in zip(stories, related, lines, strict=True):
        hits = matcher.match(ids)
        used.update(hits)
        if not hits:
            out.append(Continuation(label="new", earlier_titles=[], since=None))
            continue
        known = [last for n in hits if (last := sides[n].last)]
        newest = max(known, key=dates.latest) if known else None
        newer = [i for i in story.article_ids if _newer(matcher.by_id[i].published, newest)]
        titles = [earlier.brief.stories[n].title for n in hits]
        if not newer:
            out.append(Continuation(label="continuing", earlier_titles=titles, since=None))
            continue
        if line is not None:
            since = Since(text=line.text, article_ids=line.article_ids, written_by="model")
        else:
            since = Since(text="new reporting: " + "; ".join(f"“{matcher.by_id[i].headline_en}”" for i in newer),
                          article_ids=newer, written_by="briefer")
        out.append(Continuation(label="developing", earlier_titles=titles, since=since))
    quiet = [EarlierStory(title=st.title, summary=st.summary)
             for n, st in enumerate(earlier.brief.stories) if n not in used]
    return Continuity(compared_with=earlier.ref, already_reported=seen, stories=out, no_new_reporting=quiet)


def _newer(published: str | None, than: str | None) -> bool:
    """Whether an article may be newer than the earlier story's newest article (unknown dates may be)."""
    if published is None or than is None:
        return True
    return dates.latest(published) > dates.latest(than)
