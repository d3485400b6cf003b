"""briefer: daily news briefs from articles in languages you don't read.

The public API is what the CLI uses, so a notebook, a web server or another program can run the same
pipeline. `asummarize_folder` is the entry point, to be awaited inside a running event loop;
`summarize_folder` is its synchronous wrapper:

    from briefer import RunConfig, EndpointConfig, summarize_folder
    result = summarize_folder(RunConfig(folder=Path("today"), endpoint=EndpointConfig(model="gpt-4o-mini")))

    result = await asummarize_folder(RunConfig(folder=Path("today")))   # inside Jupyter, FastAPI, asyncio.run()

The names below are loaded on first use, so `import briefer` (and `briefer --help`) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = [
    "ArticleSummary",
    "Brief",
    "BrieferError",
    "DryRun",
    "EndpointConfig",
    "RunConfig",
    "RunResult",
    "__version__",
    "asummarize_folder",
    "dry_run",
    "summarize_folder",
]

if TYPE_CHECKING:
    from .errors import BrieferError
    from .model.endpoint import EndpointConfig
    from .models import ArticleSummary, Brief
    from .pipeline import DryRun, RunConfig, RunResult, asummarize_folder, dry_run, summarize_folder

_LAZY = {
    "ArticleSummary": "models",
    "Brief": "models",
    "BrieferError": "errors",
    "DryRun": "pipeline",
    "EndpointConfig": "model.endpoint",
    "RunConfig": "pipeline",
    "RunResult": "pipeline",
    "asummarize_folder": "pipeline",
    "dry_run": "pipeline",
    "summarize_folder": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'briefer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
