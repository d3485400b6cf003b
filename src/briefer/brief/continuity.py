"""Day after day: today's brief compared with an earlier one (`--since`).

Deterministic throughout; the merge model only writes the "since" lines:
- the earlier brief is read as input (`PreviousBrief`: what the comparison uses, size and strings capped,
  article ids that are file names); one that is missing, too large or unreadable is one warning, and the
  brief stands alone (history.py finds it: `--since`, or the same input folder's newest earlier brief);
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
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from briefer.models import (
    ArticleSummary,
    Brief,
    BriefEntity,
    Continuation,
    Continuity,
    EarlierBrief,
    EarlierStory,
    PartialDate,
    Since,
    SinceDraft,
    Story,
)
from briefer.text import dates
from briefer.text.textnorm import match_key

from .aliases import Aliases, name_key
from .history import TITLE_CHARS, cap, read_capped

BRIEF_FILE = "brief.json"
MIN_SHARED_ENTITIES = 2  # named people/organisations/things a story shares with an earlier one
UNDATED_MIN_SHARED_ENTITIES = 3  # when either side's dates are unknown
WINDOW_DAYS = 21  # today's story must start within this many days of the earlier story's newest article
MAX_BRIEF_BYTES = 32 * 2**20  # an earlier brief.json (a brief of thousands of articles is a few MB)
MAX_ARTICLE_BYTES = 16 * 2**20  # an earlier articles/<id>.json, read only for its content hash
SUMMARY_CHARS = 4000  # an earlier story's summary, as shown to the merge model and listed as "no new reporting"
NAME_CHARS = 200  # an earlier entity's name or spelling, as it seeds today's join
_ARTICLE_ID = re.compile(r"[^\W_][\w.-]{0,199}")  # ingest/ids.py: a file name, never a path (no '/', no '..')


def _capped(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda v: cap(v, limit) if isinstance(v, str) else v)


def _article_id(value: object) -> object:
    if isinstance(value, str) and not (_ARTICLE_ID.fullmatch(value) and ".." not in value):
        raise ValueError(f"'{cap(value, 80)}' is not an article id")
    return value


ArticleId = Annotated[str, BeforeValidator(_article_id)]
Line = Annotated[str, _capped(TITLE_CHARS), StringConstraints(min_length=1)]
Text = Annotated[str, _capped(SUMMARY_CHARS), StringConstraints(min_length=1)]
Name = Annotated[str, _capped(NAME_CHARS), StringConstraints(min_length=1)]


class _Read(BaseModel):
    """Read from an earlier brief.json: only what the comparison uses, strings capped, ids checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PreviousArticle(_Read):
    id: ArticleId
    published: PartialDate | None = None
    content_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class PreviousVariant(_Read):
    name: Name


class PreviousEntity(_Read):
    name_en: Name
    type: Annotated[str, StringConstraints(max_length=40)]
    variants: list[PreviousVariant] = Field(default_factory=list)
    article_ids: list[ArticleId] = Field(default_factory=list)


class PreviousStory(_Read):
    title: Line
    summary: Text
    article_ids: list[ArticleId] = Field(default_factory=list)


class PreviousBrief(_Read):
    date: PartialDate
    title: Line
    stories: list[PreviousStory] = Field(default_factory=list)
    entities: list[PreviousEntity] = Field(default_factory=list)
    articles: list[PreviousArticle] = Field(default_factory=list)


@dataclass(frozen=True)
class Earlier:
    """An earlier brief, as read from its folder."""

    folder: Path
    brief: PreviousBrief
    hashes: dict[str, str]  # content_sha256 -> the earlier brief's article id

    @property
    def ref(self) -> EarlierBrief:
        return EarlierBrief(path=str(self.folder), date=self.brief.date, title=self.brief.title)


def load_earlier(folder: Path, warn: Callable[[str], None]) -> Earlier | None:
    """The earlier brief in `folder` (or the brief.json file given), or None with one warning line. Read as
    input: at most MAX_BRIEF_BYTES, strings capped, article ids that are file names (never paths)."""
    path = folder if folder.suffix == ".json" else folder / BRIEF_FILE
    try:
        brief = PreviousBrief.model_validate_json(read_capped(path, MAX_BRIEF_BYTES))
    except OSError as exc:
        warn(f"--since {folder}: cannot read {path.name} ({exc.strerror or exc}); this brief stands alone")
        return None
    except (ValueError, ValidationError) as exc:
        first = _first_error(exc)
        warn(f"--since {folder}: {path.name} is not a brief briefer can read ({first}); this brief stands alone")
        return None
    hashes: dict[str, str] = {}
    articles = path.parent / "articles"
    for a in brief.articles:
        sha = a.content_sha256 or _sha_from_article_file(articles, a.id)
        if sha:
            hashes[sha] = a.id
    return Earlier(path.parent, brief, hashes)


def _first_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        return cap(f"{where}: {e['msg']}" if where else e["msg"], 300)
    return cap(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 300)


def _sha_from_article_file(articles: Path, article_id: str) -> str | None:
    """An older brief.json has no hashes in its article list; its articles/<id>.json has. The file must lie
    inside `articles/` once resolved (no link out of it) and be at most MAX_ARTICLE_BYTES."""
    path = articles / f"{article_id}.json"
    try:
        if path.resolve().parent != articles.resolve():
            return None
        value = json.loads(read_capped(path, MAX_ARTICLE_BYTES)).get("content_sha256")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) else None


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


def _keys(e: BriefEntity | PreviousEntity) -> set[str]:
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


def compared_note(brief: Brief) -> str:
    """The closing line's last part, on the earlier brief ("" when there was none), e.g. `; compared with the brief
    of 2024-09-17 in briefs/2024-09-17 (--since chooses another, --no-since none)`."""
    if brief.continuity is None:
        return ""
    ref = brief.continuity.compared_with
    return f"; compared with the brief of {ref.date} in {ref.path} (--since chooses another, --no-since none)"


def merge_advice(ref: EarlierBrief) -> str:
    """Said with a merge that failed while an earlier brief was in play: its input depends on that brief."""
    return (f"; the merge's input includes the earlier brief of {ref.date} ({ref.path}): --since names another, "
            "--no-since writes a brief that stands alone")
