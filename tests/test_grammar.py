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
  checked too, by the realmodel test (its log must hold no "not supported");
- every keyword is one llama.cpp's converter reads (`SchemaConverter.visit`) or an annotation it may ignore:
  any other constraint would be dropped without a word;
- the lists of an article's answer are bounded (maxItems), so a grammar closes a list a looping model keeps
  filling: checked by running an answer through llguidance's matcher, byte by byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from llguidance import LLMatcher, LLTokenizer, TokenizerWrapper, grammar_from
from pydantic import BaseModel

from briefer.brief.merge import BriefDraft, BriefOverview, StoriesDraft
from briefer.models import MAX_ITEMS, ArticleDigest, ArticleExtraction, ArticleSummary, Brief

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


# What llama.cpp's json-schema-to-grammar turns into grammar rules (`SchemaConverter.visit`: $ref, anyOf/oneOf,
# type lists, const, enum, objects with properties/required/additionalProperties, allOf, arrays with items or
# prefixItems and minItems/maxItems, string pattern/format/minLength/maxLength, integer bounds), and the
# annotations that constrain nothing. A keyword outside both sets would be dropped without a word.
LLAMA_CPP_KEYWORDS = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "type", "const", "enum", "properties", "required",
                      "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "pattern", "format",
                      "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
ANNOTATIONS = {"title", "description", "default", "examples"}


def keywords(schema: Any) -> Iterator[str]:
    """Every keyword of a schema, in every subschema (the names of properties are not keywords)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from keywords(sub)
            elif key not in ANNOTATIONS:
                yield from keywords(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from keywords(value)


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


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=lambda m: m.__name__)
def test_every_keyword_is_one_llama_cpp_converts(model: type[BaseModel]) -> None:
    unknown = set(keywords(model.model_json_schema())) - LLAMA_CPP_KEYWORDS - ANNOTATIONS
    assert not unknown


def test_the_keyword_walk_finds_what_llama_cpp_would_drop() -> None:
    schema = {"type": "object", "properties": {"uniqueItems": {"type": "array", "uniqueItems": True,
                                                               "items": {"type": "string", "contentEncoding": "x"}}}}
    assert set(keywords(schema)) - LLAMA_CPP_KEYWORDS - ANNOTATIONS == {"uniqueItems", "contentEncoding"}


@pytest.mark.parametrize("model", [ArticleExtraction, ArticleDigest], ids=lambda m: m.__name__)
def test_every_list_of_an_article_answer_is_bounded(model: type[BaseModel]) -> None:
    properties = model.model_json_schema()["properties"]
    lists = {name: prop.get("maxItems") for name, prop in properties.items() if prop.get("type") == "array"}
    # translation_en's length is the article's paragraph count: no static bound fits every article.
    assert {name: n for name, n in lists.items() if name != "translation_en"} == \
        {name: MAX_ITEMS[name] for name in lists if name != "translation_en"}
    assert all(n for name, n in lists.items() if name != "translation_en")


class _ByteTokenizer:
    """One token per byte (and an end token): enough for llguidance's matcher to check a text."""

    eos_token_id = 256
    bos_token_id = None
    tokens = [bytes([i]) for i in range(256)] + [b"<eos>"]
    special_token_ids = [256]

    def __call__(self, text: str | bytes) -> list[int]:
        return list(text if isinstance(text, bytes) else text.encode("utf-8"))


def _looping_answer(entities: int) -> str:
    entity = {"name_en": "Iraq", "names_original": ["العراق"], "type": "place", "role_en": "the country"}
    point = {"text_en": "A point.", "evidence_quote": "العراق", "attributed_to": None, "single_anonymous_source": False}
    answer = {"language": "ar", "outlet": None, "published": None, "date_basis": "unknown", "date_evidence": None,
              "headline_original": "العراق", "headline_en": "Iraq", "summary_en": "One. Two. Three.",
              "key_points": [point], "entities": [entity] * entities, "claims": [], "events": [],
              "translation_en": ["Iraq."], "topics": ["Iraq"]}
    # In the schema's order, as a grammar has the model write it.
    return json.dumps({name: answer[name] for name in ArticleExtraction.model_fields}, ensure_ascii=False)


def test_the_grammar_closes_a_looping_list_at_its_bound() -> None:
    """A model repeating the same entity is held to MAX_ITEMS["entities"]: the grammar accepts that many,
    and not one more (a server sampling under it must close the list and go on to the next field)."""
    tokenizer = LLTokenizer(TokenizerWrapper(_ByteTokenizer()))
    grammar = grammar_from("json_schema", json.dumps(ArticleExtraction.model_json_schema()))
    bound = MAX_ITEMS["entities"]
    at_bound = tokenizer.tokenize_str(_looping_answer(bound))
    matcher = LLMatcher(tokenizer, grammar)
    assert matcher.validate_tokens(at_bound) == len(at_bound) and not matcher.get_error()
    one_more = tokenizer.tokenize_str(_looping_answer(bound + 1))
    accepted = LLMatcher(tokenizer, grammar).validate_tokens(one_more)
    # Accepted up to the end of the last allowed entity; the comma that would open one more is refused.
    assert accepted < len(one_more)
    assert one_more[accepted: accepted + 1] == tokenizer.tokenize_str(",")
    assert _looping_answer(bound + 1).encode("utf-8")[:accepted].count(b'"name_en"') == bound
