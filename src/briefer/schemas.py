"""JSON Schemas generated from the models, for downstream consumers of briefer's JSON."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .model.cache import atomic_write, pretty_json
from .models import ArticleSummary, Brief
from .runreport import RunReport

SCHEMAS: dict[str, type[BaseModel]] = {
    "article.schema.json": ArticleSummary,
    "brief.schema.json": Brief,
    "run.schema.json": RunReport,
}


def schema_text(model: type[BaseModel]) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema()}
    return pretty_json(schema)


def write_schemas(directory: Path, check: bool = False) -> list[str]:
    """Write the schema files, or with `check` only list those that differ. Returns the differing names."""
    stale = []
    for name, model in SCHEMAS.items():
        path = directory / name
        text = schema_text(model)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if not check:
                atomic_write(path, text)
    return stale
