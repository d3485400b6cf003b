"""A deterministic stand-in model for the test server: it answers any briefer request from the
request itself, so tests and benchmarks can run articles nobody wrote recordings for.

Its answers are schema-valid and honest about being synthetic: each "translation" is the
paragraph marked as untranslated, quotes are copied verbatim from the paragraphs (so grounding
passes), and the merge answer gives one summary line per article. Never used for fixtures.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PARA = re.compile(r"^\[(\d+)\] (.*)$")


def _schema_name(body: dict[str, Any]) -> str:
    if body.get("tools"):
        return str(body["tools"][0]["function"]["name"])
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"])
    text = json.dumps(body["messages"], ensure_ascii=False)
    for name in ("ArticleDigest", "StoriesDraft", "BriefOverview", "BriefDraft", "ArticleExtraction"):
        if name in text:
            return name
    raise AssertionError("cannot tell which answer is asked for")


def _user(body: dict[str, Any]) -> str:
    # The request's own user turn (the first one; re-asks append more turns after it).
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def _between_boundaries(text: str) -> str:
    m = re.search(r"<<<(DATA-[0-9a-f]+)\n(.*)\n\1>>>", text, re.S)
    assert m, "no delimited data in the request"
    return m.group(2)


def _words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


def extraction(body: dict[str, Any]) -> dict[str, Any]:
    data = _between_boundaries(_user(body))
    lines = data.split("\n")
    headline = lines[0].removeprefix("HEADLINE: ")
    paragraphs = [m.group(2) for ln in lines if (m := _PARA.match(ln))]
    first = paragraphs[0] if paragraphs else headline
    return {
        "language": "ar",
        "outlet": None,
        "published": None,
        "date_basis": "unknown",
        "date_evidence": None,
        "headline_original": headline,
        "headline_en": f"[synthetic] {_words(headline, 8)}",
        "summary_en": "This is a synthetic answer. It was made by the test model. It is not a summary.",
        "key_points": [{"text_en": "[synthetic] the first words of the text", "evidence_quote": _words(first, 6),
                        "attributed_to": None, "single_anonymous_source": False}],
        "entities": [{"name_en": "Synthetic Entity", "names_original": [_words(headline, 1)], "type": "other",
                      "role_en": "test"}],
        "claims": [],
        "events": [],
        "translation_en": [f"[untranslated] {p}" for p in paragraphs],
        "topics": ["synthetic"],
    }


def digest(body: dict[str, Any]) -> dict[str, Any]:
    parts = json.loads(_between_boundaries(_user(body)))["parts"]
    return {
        "language": "ar",
        "outlet": None,
        "published": None,
        "date_basis": "unknown",
        "date_evidence": None,
        "headline_en": parts[0]["headline_en"],
        "summary_en": "This is a synthetic digest. It joins the parts. It is not a summary.",
        "key_points": [kp for part in parts for kp in part["key_points"]][:6],
        "topics": ["synthetic"],
    }


def brief(body: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(_between_boundaries(_user(body)))
    ids = [a["id"] for a in payload["articles"]]
    return {
        "title": "Synthetic brief",
        "executive_summary": [{"text": f"Article {i} was summarised.", "article_ids": [i]} for i in ids],
        "stories": [{"title": f"Story {n}", "summary": "Synthetic.", "article_ids": g["article_ids"],
                     "perspectives": []} for n, g in enumerate(payload["story_groups"], 1)],
        "disagreements": [],
    }


def stories(body: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(_between_boundaries(_user(body)))
    return {
        "stories": [{"title": f"Story of {g['article_ids'][0]}", "summary": "Synthetic.",
                     "article_ids": g["article_ids"], "perspectives": []}
                    for g in payload["story_groups"]],
        "disagreements": [],
    }


def overview(body: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(_between_boundaries(_user(body)))
    return {
        "title": "Synthetic brief",
        "executive_summary": [{"text": f"{st['title']} ({len(st['article_ids'])} articles).",
                               "article_ids": st["article_ids"]} for st in payload["stories"][:7]],
        "disagreements": [],
    }


def respond(body: dict[str, Any]) -> dict[str, Any]:
    name = _schema_name(body)
    if name == "ArticleExtraction":
        return extraction(body)
    if name == "ArticleDigest":
        return digest(body)
    if name == "BriefDraft":
        return brief(body)
    if name == "StoriesDraft":
        return stories(body)
    if name == "BriefOverview":
        return overview(body)
    raise AssertionError(f"unexpected response model {name}")
