"""One ModeSpec table describes every structured-output mode; the rest of briefer reads it or is held to it."""

from __future__ import annotations

import instructor

from briefer import defaults
from briefer.cli import options
from briefer.model.openai.failures import mode_rejected
from briefer.model.openai.modes import MODE_SPECS, MODES, OTHER_MODES, SPECS


def test_every_list_of_modes_is_the_table() -> None:
    names = tuple(spec.name for spec in SPECS)
    assert defaults.MODES == names  # settings and EndpointConfig check --mode against this tuple
    assert tuple(options.MODES) == names  # what `briefer --help` lists
    assert list(MODES) == list(OTHER_MODES) == list(MODE_SPECS) == list(names)


def test_each_mode_names_a_mode_instructor_has_and_a_fallback_briefer_has() -> None:
    for spec in SPECS:
        assert getattr(instructor.Mode, spec.instructor).name == spec.instructor
        assert spec.fallback in MODE_SPECS and spec.fallback != spec.name
        assert spec.help and not spec.help.endswith(".")
        assert spec.name in options.Mode.__metadata__[0].help  # --help lists it (cli/ may not import model/)


def test_a_server_rejecting_a_mode_is_told_from_other_400s() -> None:
    assert mode_rejected("tools", "tool_choice is not supported by this model")
    assert mode_rejected("json_schema", "response_format json_schema is unsupported")
    assert mode_rejected("json", "'response_format.type' json_object: invalid value")
    assert not mode_rejected("tools", "the model is not supported")  # nothing about tools
    assert not mode_rejected("md_json", "response_format is not supported")  # md_json sends no response_format
