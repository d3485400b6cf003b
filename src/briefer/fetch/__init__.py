"""Feeds and pages into a folder (`briefer fetch`), and syndicated copies found before any model call.

Nothing in this package calls a model. Its modules are imported on first use: a run that fetches
nothing does not load the HTTP client or feedparser.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"CopyGroup": "copies", "group_copies": "copies", "set_copies_aside": "copies",
          "FetchOptions": "run", "FetchReport": "run", "fetch_sources": "run",
          "Source": "sources", "parse_sources": "sources", "read_sources": "sources", "Limits": "http"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'briefer.fetch' has no attribute '{name}'")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
