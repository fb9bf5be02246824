"""Avro schemas as AsyncAPI's Avro schema (``avroSchema_v1.json``) accepts them.

That schema is stricter than the Avro specification: a ``name`` must be a simple name (Avro
also takes a full name there), aliases must be simple names, and there is no ``error`` type.
:func:`asyncapi_view` rewrites a schema into an equivalent one that passes: a full name is
split into ``namespace`` and ``name`` (the same full name, and the same default namespace
for the types inside), an ``error`` is written as a ``record``, and aliases that are not
simple names are left out (the exported document then also carries the exact text).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["asyncapi_view"]

_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAMED = ("record", "error", "enum", "fixed")


def asyncapi_view(schema: Any) -> Any:
    """An equivalent Avro schema that AsyncAPI's Avro schema accepts (a new object)."""
    if isinstance(schema, list):
        return [asyncapi_view(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    kind = schema.get("type")
    for key, value in schema.items():
        if key == "type":
            out[key] = "record" if value == "error" else asyncapi_view(value)
        elif key in ("items", "values"):
            out[key] = asyncapi_view(value)
        elif key == "fields" and isinstance(value, list):
            out[key] = [_field(f) for f in value]
        elif key == "aliases" and isinstance(value, list):
            out[key] = [a for a in value if isinstance(a, str) and _SIMPLE.match(a)]
            if not out[key]:
                del out[key]
        else:
            out[key] = value
    name = schema.get("name")
    if kind in _NAMED and isinstance(name, str) and "." in name:
        namespace, short = name.rsplit(".", 1)
        rebuilt: dict[str, Any] = {}
        for key, value in out.items():
            if key == "name":
                rebuilt["name"] = short
                rebuilt["namespace"] = namespace
            elif key != "namespace":
                rebuilt[key] = value
        out = rebuilt
    return out


def _field(field: Any) -> Any:
    if not isinstance(field, dict):
        return field
    out = dict(field)
    if "type" in out:
        out["type"] = asyncapi_view(out["type"])
    aliases = out.get("aliases")
    if isinstance(aliases, list):
        kept = [a for a in aliases if isinstance(a, str) and _SIMPLE.match(a)]
        if kept:
            out["aliases"] = kept
        else:
            del out["aliases"]
    return out
