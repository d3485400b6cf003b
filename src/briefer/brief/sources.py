"""The brief's sources as a reader can weigh them: each outlet with the user's description of it
(outlets.toml, or "not described"), and the syndicated copies of a story cited with the copy the brief
was written from ("Reuters, as carried by Mawazin News and Al Mayadeen"), with what they say differently.

Deterministic: no model is asked anything here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Literal, cast
from urllib.parse import urlsplit

from briefer.fetch.copies import differences
from briefer.ingest.folder import Article
from briefer.models import ArticleRef, Brief, CarriedCopy, CopyDifference, OutletRef

from .outlets import Outlets, describe

# Agencies whose credit line marks a story as theirs, as outlets write it (a few scripts). Only a name
# found in every copy is taken as the story's origin.
AGENCIES = {
    "Reuters": ("reuters", "رويترز", "رویترز", "路透社"),
    "AFP": ("afp", "agence france-presse", "فرانس برس", "فرانس پرس", "法新社"),
    "AP": ("associated press", "أسوشيتد برس", "美联社"),
    "Xinhua": ("xinhua", "شينخوا", "新华社"),
    "IRNA": ("irna", "ایرنا", "إرنا"),
    "SANA": ("sana", "سانا"),
    "Anadolu": ("anadolu", "الأناضول"),
}


def describe_sources(brief: Brief, outlets: Outlets, copies: Mapping[str, tuple[Article, ...]],
                     similarity: Mapping[str, float], chosen: Mapping[str, Article]) -> Brief:
    """The brief with each source's outlet described and its syndicated copies attached."""
    refs = []
    for a in brief.articles:
        entry = outlets.find((a.url, a.canonical_url), (a.site_name, a.outlet))
        update: dict[str, object] = {"outlet_description": describe(entry), "outlet_entry": entry}
        if entry is not None or (a.outlet is None and a.site_name):
            update["outlet"] = entry.name if entry else a.site_name
        group = copies.get(a.id, ())
        if group and a.id in chosen:
            update["carried_by"] = [_copy(chosen[a.id], c, outlets, similarity.get(c.id, 0.0)) for c in group]
            update["origin"] = _origin((chosen[a.id], *group))
        refs.append(a.model_copy(update=update))
    return brief.model_copy(update={"articles": refs, "outlets": _outlets(refs)})


def _outlets(refs: list[ArticleRef]) -> list[OutletRef]:
    found: dict[str, OutletRef] = {}
    for ref in refs:
        carriers = [(ref.outlet or ref.site_name, ref.outlet_description),
                    *[(c.outlet, c.outlet_description) for c in ref.carried_by]]
        for name, description in carriers:
            if name:
                entry = found.setdefault(name, OutletRef(name=name, description=description, article_ids=[]))
                if ref.id not in entry.article_ids:
                    entry.article_ids.append(ref.id)
    return list(found.values())


def _copy(mine: Article, copy: Article, outlets: Outlets, similarity: float) -> CarriedCopy:
    entry = outlets.find((copy.url, copy.canonical_url), (copy.site_name, copy.site))
    host = (urlsplit(copy.url).hostname or "").removeprefix("www.") if copy.url else None
    kinds = [CopyDifference(kind=cast(Literal["number", "name", "date"], d.kind), chosen=d.chosen,
                            copy_says=d.copy, context=d.context)
             for d in differences(mine.clean_text, copy.clean_text)]
    outlet = entry.name if entry else (copy.site_name or copy.site or host)
    return CarriedCopy(source_path=copy.source_path, outlet=outlet, url=copy.url, outlet_description=describe(entry),
                       similarity=similarity, differences=kinds)


def _origin(members: tuple[Article, ...]) -> str | None:
    """The agency every copy credits (by author, else by a credit in the text), if there is one."""
    authors = Counter(a.author for a in members if a.author)
    if authors:
        author, n = authors.most_common(1)[0]
        if n == len(members):
            return author
    texts = [a.clean_text[:2000].casefold() for a in members]
    for name, spellings in AGENCIES.items():
        if all(any(re.search(rf"(?<!\w){re.escape(s)}(?!\w)", t) for s in spellings) for t in texts):
            return name
    return None


def source_outlets(ref: ArticleRef) -> list[str]:
    """Every outlet that carried a source: its own, then its copies'."""
    own = ref.outlet or ref.site_name or "outlet unknown"
    return [own, *[c.outlet or "outlet unknown" for c in ref.carried_by]]
