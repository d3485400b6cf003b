"""What can be kept of a model's answer that is not valid as a whole, once the re-asks are spent.

A small model rarely satisfies every rule at once: it writes two summary sentences instead of three,
repeats an entity until the token limit, or stops short of the last paragraph's translation. Failing
the whole article for that throws away what is right. These helpers read what the answer holds:

- `parse_partial`: the JSON object in the model's text, even when it was cut off (an unfinished string,
  item or object at the end is dropped, never completed by guessing);
- `keep_items`: the items of one list that are valid on their own, without exact repeats.

Which problems are soft (kept, with a warning) and which are hard (the answer fails) is the response
model's decision (`keep_valid` on the model, e.g. `ArticleExtraction`); the gateway only calls it. No
model-specific knowledge lives here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import from_json

MISSING: Any = object()  # a field the answer does not have (cut off before it, or left out)


def parse_partial(raw: str) -> dict[str, Any] | None:
    """The JSON object an answer holds, from its first `{`: complete, or as far as it goes when it was cut off
    (jiter's partial mode; an unfinished string or value at the end is left out). None when there is no object."""
    start = raw.find("{")
    if start < 0:
        return None
    try:
        # Trailing whitespace is never part of an answer, and inside an unfinished string a raw newline would
        # make the text unreadable as JSON.
        value = from_json(raw[start:].rstrip(), allow_partial=True)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


@dataclass(frozen=True)
class KeptItems:
    items: list[Any]
    invalid: int  # items dropped because they break the schema
    repeated: int  # exact repeats of an earlier item, dropped


def keep_items(item_type: Any, items: list[Any], *, prefix_only: bool = False) -> KeptItems:
    """The items that validate as `item_type` on their own, each once (exact repeats dropped).

    Keys an item's model does not know are left out rather than failing it. `prefix_only`: keep items
    up to the first invalid one (a list whose positions mean something, such as a paragraph-aligned
    translation, cannot lose an item in the middle)."""
    adapter: TypeAdapter[Any] = TypeAdapter(item_type)
    known = set(item_type.model_fields) if isinstance(item_type, type) and issubclass(item_type, BaseModel) else None
    kept: list[Any] = []
    seen: set[str] = set()
    invalid = repeated = 0
    for n, item in enumerate(items):
        if known is not None and isinstance(item, dict):
            item = {k: v for k, v in item.items() if k in known}
        try:
            value = adapter.validate_python(item)
        except ValidationError:
            if prefix_only:
                invalid += len(items) - n
                break
            invalid += 1
            continue
        key = json.dumps(adapter.dump_python(value, mode="json"), ensure_ascii=False, sort_keys=True)
        if key in seen and not prefix_only:
            repeated += 1
            continue
        seen.add(key)
        kept.append(value)
    return KeptItems(kept, invalid, repeated)


def valid_value(annotation: Any, value: Any) -> bool:
    """Whether one field's value is valid as the field's (annotated) type."""
    if value is MISSING:
        return False
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True
