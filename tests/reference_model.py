"""A model that answers like the reference recordings, paragraph by paragraph, for any article built from the seed
articles' paragraphs: a seed article gets its recording back, a long article made of many of them (read in parts)
gets, for each part, the recordings' translation of each of its paragraphs and the recorded items whose quotes are
in that part's text, at the recordings' full size. A paragraph repeated with a prefix "(N) " (to build an article
longer than the seed's five together) is translated with the same prefix. Other requests (the reduce of a long
article's parts, the merge) are answered by echo_model."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import echo_model
from briefer.ingest.folder import read_folder
from briefer.models import MAX_ITEMS
from conftest import FIXTURES

_PREFIX = re.compile(r"^\((\d+)\) ")
_LISTS = ("key_points", "claims", "events")


@cache
def _seed() -> tuple[dict[str, tuple[str, int]], dict[str, dict[str, Any]]]:
    """Each seed paragraph's (article id, index), and each seed article's recorded answer."""
    where: dict[str, tuple[str, int]] = {}
    for article in read_folder(FIXTURES / "articles").articles:
        for n, paragraph in enumerate(article.paragraphs):
            where[paragraph] = (article.id, n)
    answers = {}
    for path in sorted((FIXTURES / "recordings" / "extract").glob("*.json")):
        answers[path.stem] = json.loads(path.read_text(encoding="utf-8"))["response"]
    return where, answers


def extraction(body: dict[str, Any]) -> dict[str, Any]:
    where, answers = _seed()
    lines = echo_model._between_boundaries(echo_model._user(body)).split("\n")
    headline = lines[0].removeprefix("HEADLINE: ")
    paragraphs = [m.group(2) for ln in lines if (m := echo_model._PARA.match(ln))]
    text = "\n".join([headline, *paragraphs])
    translation, order, repeated = [], [], False
    for paragraph in paragraphs:
        prefix = _PREFIX.match(paragraph)
        aid, n = where[paragraph[prefix.end():] if prefix else paragraph]
        translation.append((prefix.group(0) if prefix else "") + answers[aid]["translation_en"][n])
        repeated = repeated or prefix is not None
        if aid not in order:
            order.append(aid)
    first = answers[order[0]]
    out: dict[str, Any] = {"language": "ar", "outlet": first["outlet"], "published": None, "date_basis": "unknown",
                           "date_evidence": None, "headline_original": headline,
                           "headline_en": next((a["headline_en"] for a in answers.values()
                                                if a["headline_original"] == headline), first["headline_en"]),
                           "translation_en": translation, "summary_en": first["summary_en"]}
    dated = next((answers[a] for a in order if answers[a]["date_evidence"] and answers[a]["date_evidence"] in text),
                 None)
    if dated is not None:
        out.update(published=dated["published"], date_basis=dated["date_basis"], date_evidence=dated["date_evidence"])
    items: dict[str, list[Any]] = {name: [] for name in (*_LISTS, "entities", "topics")}
    if not repeated:  # a repeated paragraph's items are the ones its first reading gave
        for aid in order:
            for name in _LISTS:
                items[name] += [x for x in answers[aid][name] if x["evidence_quote"] in text]
            items["entities"] += [e for e in answers[aid]["entities"] if any(v in text for v in e["names_original"])
                                  and e["name_en"] not in {x["name_en"] for x in items["entities"]}]
            items["topics"] += [t for t in answers[aid]["topics"] if t not in items["topics"]]
    if not items["key_points"]:  # a part of repeated paragraphs: one point, quoted from its first paragraph
        quote = " ".join(paragraphs[0].split()[1:9])
        items["key_points"] = [{"text_en": translation[0].split(". ")[0] + ".", "evidence_quote": quote,
                                "attributed_to": None, "single_anonymous_source": False}]
        items["topics"] = list(first["topics"])
    out.update({name: values[:MAX_ITEMS[name]] for name, values in items.items()})
    return out


def respond(body: dict[str, Any]) -> dict[str, Any]:
    if echo_model._schema_name(body) == "ArticleExtraction":
        return extraction(body)
    return echo_model.respond(body)
