"""Python names for JSON Schema files: module paths and root class names.

Names must be stable (they appear in users' imports), so they derive only from the file's
path under the schemas folder and from its ``title``, never from discovery order.
"""

from __future__ import annotations

import keyword
import re
from pathlib import PurePosixPath

__all__ = ["class_name_for", "module_parts_for", "snake_case"]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9A-Za-z]+")
_SCHEMA_SUFFIXES = (".schema", "-schema", "_schema")


def _stem(filename: str) -> str:
    stem = filename[: -len(".json")] if filename.endswith(".json") else filename
    for suffix in _SCHEMA_SUFFIXES:
        # "ContactPoint.schema.json" names the ContactPoint schema, not a "schema" module.
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def snake_case(text: str) -> str:
    """``"ContactPoint"`` / ``"dependabot-2.0"`` -> ``"contact_point"`` / ``"dependabot_2_0"``."""
    words = _NON_WORD.sub(" ", _CAMEL_BOUNDARY.sub(" ", text)).split()
    name = "_".join(word.lower() for word in words) or "schema"
    if name[0].isdigit():
        name = f"schema_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name = f"{name}_"
    return name


def module_parts_for(relative_path: PurePosixPath) -> tuple[str, ...]:
    """The module path (package parts + module name) of a schema file.

    ``relative_path`` is relative to the schemas folder; a leading ``json/`` folder is
    dropped because the generated package is already called ``jsonmodels``.
    """
    parts = list(relative_path.parts)
    if len(parts) > 1 and parts[0] == "json":
        parts = parts[1:]
    *folders, filename = parts
    return (*(snake_case(folder) for folder in folders), snake_case(_stem(filename)))


def class_name_for(title: object, filename: str) -> str:
    """The class name of a schema file's root type: its ``title``, else its file name.

    Words are joined in PascalCase and the case inside a word is kept, so
    ``"ShipmentEvent"``, ``"shipment event"`` and ``shipment_event.json`` all give
    ``ShipmentEvent``.
    """
    source = title if isinstance(title, str) and _NON_WORD.sub("", title) else _stem(filename)
    words = _NON_WORD.sub(" ", source).split()
    name = "".join(word[:1].upper() + word[1:] for word in words) or "Schema"
    if name[0].isdigit():
        name = f"Schema{name}"
    return name
