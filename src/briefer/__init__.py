"""briefer: daily news briefs from articles in languages you don't read.

The public API is what the CLI uses, so a notebook or another program can run the same pipeline:

    from briefer import RunConfig, EndpointConfig, summarize_folder
    result = summarize_folder(RunConfig(folder=Path("today"), endpoint=EndpointConfig(model="gpt-4o-mini")))
"""

from __future__ import annotations

__version__ = "0.1.0"

from .llm import EndpointConfig  # noqa: E402
from .pipeline import RunConfig, RunResult, summarize_folder  # noqa: E402

__all__ = ["EndpointConfig", "RunConfig", "RunResult", "summarize_folder", "__version__"]
