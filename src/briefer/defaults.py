"""Defaults that both the library and the command line show, written once. Nothing is imported here, so the
CLI can print them in `--help` without loading the pipeline."""

DEFAULT_MODEL = "gpt-4o-mini"

# The structured-output modes: model/openai/modes.py's ModeSpec table describes each (tests/test_modes.py).
MODES = ("tools", "json_schema", "json", "md_json")
