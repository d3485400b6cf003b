"""Defaults that both the library and the command line show, written once. Nothing is imported here, so the
CLI can print them in `--help` without loading the pipeline."""

DEFAULT_MODEL = "gpt-4o-mini"

# The structured-output modes (model/llm.py's MODES maps them to instructor's; a test holds the two equal).
MODES = ("tools", "json_schema", "json", "md_json")
