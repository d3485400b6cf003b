"""The command line: parse options, call the library, map errors to exit codes (app.py registers the commands)."""

from .app import app, main

__all__ = ["app", "main"]
