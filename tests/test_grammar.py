"""The response schemas convert to grammars as they are, in the converters local servers use.

A server in json_schema mode turns the schema into a grammar that constrains sampling. What it cannot
convert it drops silently: llama.cpp logs "pattern ... is not supported (unsupported escape: \\d),
accepting any string" and the model may then write "published": "explicit". So every schema briefer
sends must convert whole:

- llguidance (the structured-output engine of vLLM and SGLang, a library on PyPI) compiles it with no
  error and no warning;
- every `pattern` passes the rules of llama.cpp's json-schema-to-grammar (common/json-schema-to-grammar.cpp,
  `_pattern_to_rule`), re-stated below: anchored with ^ and $, no anchors inside, no look-around or named
  groups, and no escapes GBNF lacks (\\d, \\w, \\s, \\b ...: write [0-9] and the like). The real server is
  checked too, by the realmodel test (its log must hold no "not supported").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from llguidance import LLMatcher, grammar_from
from pydantic import BaseModel

from briefer.brief.merge import BriefDraft, BriefOverview, StoriesDraft
from briefer.models import ArticleDigest, ArticleExtraction, ArticleSummary, Brief

RESPONSE_MODELS: list[type[BaseModel]] = [ArticleExtraction, ArticleDigest, BriefDraft, StoriesDraft, BriefOverview]
PUBLISHED: list[type[BaseModel]] = [ArticleSummary, Brief]  # schemas/*.json, for people who constrain with them

# Escapes llama.cpp copies into GBNF as they are (gbnf_escape_length) or takes literally.
_GBNF_ESCAPES = re.compile(r"\\(?:[nrt\\\]\[\"-]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
_LITERAL_ESCAPES = set("^$.[]()|{}*+?")


def llama_cpp_pattern_problem(pattern: str) -> str | None:
    """Why llama.cpp would give up on this pattern ('accepting any string'), or None if it converts."""
    if len(pattern) < 2 or not pattern.startswith("^") or not pattern.endswith("$"):
        return "not anchored with '^' and '$'"
    body = pattern[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1: i + 2]
            if nxt in _LITERAL_ESCAPES:
                i += 2
                continue
            m = _GBNF_ESCAPES.match(body, i)
            if not m:
                return f"unsupported escape: {body[i:i + 2]}"
            i = m.end()
            continue
        if c in "^$":
            return "anchor inside the pattern"
        if c == "(" and body[i + 1: i + 2] == "?" and body[i + 2: i + 3] != ":":
            return "unsupported group syntax"
        i += 1
    return None


def patterns(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from patterns(value)


@pytest.mark.parametrize("model", RESPONSE_MODELS + PUBLISHED, ids=lambda m: m.__name__)
def test_schema_converts_whole_in_llguidance(model: type[BaseModel]) -> None:
    grammar = grammar_from("json_schema", json.dumps(model.model_json_schema()))
    is_error, messages = LLMatcher.validate_grammar_with_warnings(grammar)
    assert not is_error and messages == [], messages


@pytest.mark.parametrize("model", RESPONSE_MODELS + PUBLISHED, ids=lambda m: m.__name__)
def test_every_pattern_converts_in_llama_cpp(model: type[BaseModel]) -> None:
    found = list(patterns(model.model_json_schema()))
    problems = {p: llama_cpp_pattern_problem(p) for p in found}
    assert not {p: why for p, why in problems.items() if why}, problems


def test_the_rules_reject_what_llama_cpp_rejects() -> None:
    """The re-stated rules catch the patterns llama.cpp logged as unsupported, and pass what it converts."""
    assert llama_cpp_pattern_problem(r"^\d{4}(-(0[1-9]|1[0-2]))?$") == r"unsupported escape: \d"
    assert llama_cpp_pattern_problem(r"^\w+$") == r"unsupported escape: \w"
    assert llama_cpp_pattern_problem(r"[a-z]{2}") == "not anchored with '^' and '$'"
    assert llama_cpp_pattern_problem(r"^(?=a)b$") == "unsupported group syntax"
    assert llama_cpp_pattern_problem(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$") is None
    assert llama_cpp_pattern_problem(r"^[a-z]{2}$") is None
    assert llama_cpp_pattern_problem(r"^a\.b\n$") is None
