"""The version, in one place: pyproject.toml reads it from here (hatch), the package and the recordings print it."""

__version__ = "0.1.0"
