"""briefer: daily news briefs from articles in languages you don't read.

The public API is what the CLI uses, so a notebook or another program can run the same pipeline:

    from briefer import RunConfig, EndpointConfig, summarize_folder
    result = summarize_folder(RunConfig(folder=Path("today"), endpoint=EndpointConfig(model="gpt-4o-mini")))

The names below are loaded on first use, so `import briefer` (and `briefer --help`) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["EndpointConfig", "RunConfig", "RunResult", "summarize_folder", "__version__"]

if TYPE_CHECKING:
    from .model.llm import EndpointConfig
    from .pipeline import RunConfig, RunResult, summarize_folder

_LAZY = {
    "EndpointConfig": "model.llm",
    "RunConfig": "pipeline",
    "RunResult": "pipeline",
    "summarize_folder": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'briefer' has no attribute {name!r}")
