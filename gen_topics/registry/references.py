"""Resolving schema references into one self-contained Avro schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gen_topics.registry.avro_names import NAMED_KINDS, PRIMITIVES, defined_namespace, full_name

__all__ = ["inline_avro_references"]


def inline_avro_references(schema_text: str, referenced: Mapping[str, str]) -> str:
    """Replace the first use of each referenced named type by its definition.

    ``referenced`` maps an Avro full name to the schema text defining it (itself
    possibly using other entries). The result parses on its own, which is what
    Avro readers such as fastavro need to resolve a writer schema.
    """
    defined: set[str] = set()
    loaded = {name: json.loads(text) for name, text in referenced.items()}

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return node
            full = full_name(node, namespace)
            for candidate in (full, node):
                if candidate in loaded and candidate not in defined:
                    defined.add(candidate)
                    # Defined in the referencing schema's place: its own namespace applies.
                    return walk(loaded[candidate], None)
            return node
        if isinstance(node, list):
            return [walk(item, namespace) for item in node]
        if not isinstance(node, dict):
            return node
        out = dict(node)
        kind = node.get("type")
        if kind in NAMED_KINDS and isinstance(node.get("name"), str):
            name = node["name"]
            own = defined_namespace(name, node.get("namespace"), namespace)
            defined.add(full_name(name, own))
            if kind in ("record", "error"):
                out["fields"] = [
                    {**f, "type": walk(f.get("type"), own)} if isinstance(f, dict) else f
                    for f in node.get("fields", [])
                ]
            return out
        if kind == "array":
            out["items"] = walk(node.get("items"), namespace)
        elif kind == "map":
            out["values"] = walk(node.get("values"), namespace)
        elif isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in PRIMITIVES):
            out["type"] = walk(kind, namespace)
        return out

    return json.dumps(walk(json.loads(schema_text), None))
