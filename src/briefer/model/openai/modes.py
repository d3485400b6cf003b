"""The structured-output modes, one row each (ModeSpec): instructor's mode, the help text, the mode to try when
a server rejects this one, whether instructor sends the messages as given, and the words of a server's refusal.

Plain data, no SDK. The command modules may not import model/ (cli/ stays thin: tests/test_cli_options.py), so
briefer.defaults.MODES, which --mode's help, settings and EndpointConfig read, is held to this table by
tests/test_modes.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModeSpec:
    name: str
    instructor: str  # the member of instructor.Mode
    help: str
    fallback: str  # suggested when the server rejects this mode
    messages_as_given: bool  # instructor's request handler leaves the messages alone (json, md_json add the schema)
    rejected_words: tuple[str, ...]  # words of a 400 that rejects the mode (with "not supported", "invalid", ...)


SPECS: tuple[ModeSpec, ...] = (
    ModeSpec("tools", "TOOLS", "a forced tool call: OpenAI, vLLM", "json_schema", True, ("tool",)),
    ModeSpec("json_schema", "JSON_SCHEMA", "response_format with the schema: OpenAI, llama.cpp, vLLM", "json",
             True, ("json_schema", "response_format", "structured")),
    ModeSpec("json", "JSON", "JSON object mode, the schema in the messages", "md_json", False,
             ("json_object", "response_format")),
    ModeSpec("md_json", "MD_JSON", "JSON in a Markdown block: any chat model", "json",
             False, ()),
)
MODE_SPECS = {spec.name: spec for spec in SPECS}
MODES = {spec.name: spec.instructor for spec in SPECS}  # mode name -> instructor.Mode member
OTHER_MODES = {spec.name: spec.fallback for spec in SPECS}
MODE_NAMES = tuple(MODES)
