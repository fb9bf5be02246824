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
    return SchemaTexts(registry).text(t)


class SchemaTexts:
    """:func:`schema_text` of many top-level types of one registry.

    Each named type's JSON is built once and reused wherever it is inlined again: at
    thousands of topics the same records (a shared header, a chain of nested records) are
    inlined into one standalone schema after another.
    """

    def __init__(self, registry: AvroRegistry) -> None:
        self.registry = registry
        # (full name, whether it states its namespace) -> the type's JSON as inlined when
        # none of the types it reaches was written before, and the names of those types.
        self._inlined: dict[tuple[str, bool], tuple[Any, frozenset[str]]] = {}
        self._building: set[tuple[str, bool]] = set()

    def text(self, t: AvroType) -> str:
        """The text to embed and register for top-level type ``t``."""
        return self.parsed(t)[0]

    def parsed(self, t: AvroType) -> tuple[str, Any]:
        """:meth:`text` and what ``json.loads`` gives for it (not to be modified: its parts
        are shared with other schemas)."""
        registry = self.registry
        if isinstance(t, Ref):
            nt = registry.types[t.fullname]
            sf = registry.files[nt.file]
            if nt.json_path == "$" and sf.referenced <= set(sf.defined):
                return sf.text, json.loads(sf.text)
        seen: set[str] = set()
        if isinstance(t, UnionType):
            schema: Any = [self._type(b, "", seen) for b in t.branches]
        else:
            schema = self._type(t, "", seen)
        return json.dumps(schema, ensure_ascii=False, separators=(",", ":")), schema

    def _type(self, t: AvroType, ns: str, seen: set[str]) -> Any:
        if isinstance(t, Ref):
            return self._named(t.fullname, ns, seen)
        # Non-named top-level types (primitives, arrays, maps) are rendered from the model.
        if isinstance(t, Primitive):
            if t.logical is None:
                return t.name
            out: dict[str, Any] = {"type": t.name, "logicalType": t.logical}
            if t.logical == "decimal":
                out.update(precision=t.precision, scale=t.scale)
            return out
        if isinstance(t, ArrayType):
            return {"type": "array", "items": self._type(t.items, ns, seen)}
        if isinstance(t, MapType):
            return {"type": "map", "values": self._type(t.values, ns, seen)}
        return [self._type(b, ns, seen) for b in t.branches]

    def _named(self, fullname: str, ns: str, seen: set[str]) -> Any:
        """The named type as written at this point: in full the first time, else by name."""
        if fullname in seen:
            return fullname
        # The enclosing namespace only decides whether the type states its own.
        key = (fullname, self.registry.types[fullname].namespace != ns)
        known = self._inlined.get(key)
        if known is None:
            if key in self._building:  # a recursive type, met again inside itself
                return self._definition(fullname, ns, seen)
            # Written as if first in its schema: every type it reaches is then inlined
            # once, so ``reached`` ends up holding exactly those types.
            self._building.add(key)
            reached: set[str] = set()
            known = (self._definition(fullname, ns, reached), frozenset(reached))
            self._building.discard(key)
            self._inlined[key] = known
        schema, reaches = known
        if reaches.isdisjoint(seen):
            # None of them written yet: this spot writes them just as the first one did.
            seen |= reaches
            return schema
        return self._definition(fullname, ns, seen)

    def _definition(self, fullname: str, ns: str, seen: set[str]) -> dict[str, Any]:
        seen.add(fullname)
        nt = self.registry.types[fullname]
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
                        k: (self._json(v, nt.namespace, seen) if k == "type" else v)
                        for k, v in f.items()
                    }
                    for f in value
                ]
            else:
                out[key] = value
        return out

    def _json(self, s: Any, ns: str, seen: set[str]) -> Any:
        """Rewrite an original JSON type: names become full names, named types inlined once."""
        if isinstance(s, str):
            if s in PRIMITIVES:
                return s
            return self._named(_resolve(s, ns, self.registry), ns, seen)
        if isinstance(s, list):
            return [self._json(b, ns, seen) for b in s]
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
            return self._named(full, ns, seen)
        out = dict(s)
        if isinstance(kind, (dict, list)):
            out["type"] = self._json(kind, ns, seen)
        if kind == "array" and "items" in s:
            out["items"] = self._json(s["items"], ns, seen)
        if kind == "map" and "values" in s:
            out["values"] = self._json(s["values"], ns, seen)
        return out


def _resolve(name: str, ns: str, registry: AvroRegistry) -> str:
    if "." in name or not ns:
        return name
    qualified = f"{ns}.{name}"
    return qualified if qualified in registry.types else name
