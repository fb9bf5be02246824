"""The schema text embedded in (and registered from) a generated topic module.

A type whose file is self-contained keeps its file's original text byte for byte. A type
that uses names from other files gets a standalone schema: the original definitions with
every referenced named type inlined at its first use and referenced by full name after,
as schema registries expect for a schema without references.
"""

from __future__ import annotations

import json
from typing import Any

from generator.avro.model import (
    PRIMITIVES,
    ArrayType,
    AvroRegistry,
    AvroType,
    MapType,
    Primitive,
    Ref,
    UnionType,
)


def schema_text(t: AvroType, registry: AvroRegistry) -> str:
    """The text to embed and register for top-level type ``t``."""
    if isinstance(t, Ref):
        nt = registry.types[t.fullname]
        sf = registry.files[nt.file]
        if nt.json_path == "$" and sf.referenced <= set(sf.defined):
            return sf.text
    return json.dumps(_standalone(t, registry), ensure_ascii=False, separators=(",", ":"))


def _standalone(t: AvroType, registry: AvroRegistry) -> Any:
    seen: set[str] = set()
    if isinstance(t, UnionType):
        return [_emit_type(b, registry, "", seen) for b in t.branches]
    return _emit_type(t, registry, "", seen)


def _emit_type(t: AvroType, registry: AvroRegistry, ns: str, seen: set[str]) -> Any:
    if isinstance(t, Ref):
        return _emit_named(t.fullname, registry, ns, seen)
    # Non-named top-level types (primitives, arrays, maps) are rendered from the model.

    if isinstance(t, Primitive):
        if t.logical is None:
            return t.name
        out: dict[str, Any] = {"type": t.name, "logicalType": t.logical}
        if t.logical == "decimal":
            out.update(precision=t.precision, scale=t.scale)
        return out
    if isinstance(t, ArrayType):
        return {"type": "array", "items": _emit_type(t.items, registry, ns, seen)}
    if isinstance(t, MapType):
        return {"type": "map", "values": _emit_type(t.values, registry, ns, seen)}
    return [_emit_type(b, registry, ns, seen) for b in t.branches]


def _resolve(name: str, ns: str, registry: AvroRegistry) -> str:
    if "." in name or not ns:
        return name
    qualified = f"{ns}.{name}"
    return qualified if qualified in registry.types else name


def _emit_named(fullname: str, registry: AvroRegistry, ns: str, seen: set[str]) -> Any:
    if fullname in seen:
        return fullname
    seen.add(fullname)
    nt = registry.types[fullname]
    out: dict[str, Any] = {}
    for key, value in nt.definition.items():
        if key == "name":
            out["name"] = nt.name
            if nt.namespace != ns:
                out["namespace"] = nt.namespace
        elif key == "namespace":
            continue
        elif key == "fields" and isinstance(value, list):
            out["fields"] = [
                {
                    k: (_emit_json(v, registry, nt.namespace, seen) if k == "type" else v)
                    for k, v in f.items()
                }
                for f in value
            ]
        else:
            out[key] = value
    return out


def _emit_json(s: Any, registry: AvroRegistry, ns: str, seen: set[str]) -> Any:
    """Rewrite an original JSON type: names become full names, named types inlined once."""
    if isinstance(s, str):
        if s in PRIMITIVES:
            return s
        return _emit_named(_resolve(s, ns, registry), registry, ns, seen)
    if isinstance(s, list):
        return [_emit_json(b, registry, ns, seen) for b in s]
    if not isinstance(s, dict):
        return s
    kind = s.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        name = s["name"]
        if "." in name:
            full = name
        else:
            own = s.get("namespace", ns)
            full = f"{own}.{name}" if own else name
        return _emit_named(full, registry, ns, seen)
    out = dict(s)
    if isinstance(kind, (dict, list)):
        out["type"] = _emit_json(kind, registry, ns, seen)
    if kind == "array" and "items" in s:
        out["items"] = _emit_json(s["items"], registry, ns, seen)
    if kind == "map" and "values" in s:
        out["values"] = _emit_json(s["values"], registry, ns, seen)
    return out
