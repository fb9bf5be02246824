"""A small, lenient Avro schema model for compatibility checks.

fastavro's parser rejects schemas that registries accept (an enum default outside
its symbols, for one), and it drops aliases we need for resolution, so the checker
parses schemas itself: only what schema resolution looks at is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PRIMITIVES",
    "AvroArray",
    "AvroEnum",
    "AvroField",
    "AvroFixed",
    "AvroMap",
    "AvroNode",
    "AvroPrimitive",
    "AvroRecord",
    "AvroSchemaError",
    "AvroUnion",
    "parse_avro",
    "parse_avro_data",
]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class AvroSchemaError(ValueError):
    """The text is not an Avro schema; the message names the JSON path."""


@dataclass(eq=False)
class AvroPrimitive:
    """A primitive type (logical types are resolved by their underlying type)."""

    type: str


@dataclass(eq=False)
class AvroField:
    """A record field: name, aliases, type and whether it has a default."""

    name: str
    type: AvroNode
    has_default: bool
    aliases: tuple[str, ...] = ()


@dataclass(eq=False)
class AvroRecord:
    """A record (or error) type; ``fields`` is filled after the name is known (recursion)."""

    name: str
    fullname: str
    aliases: frozenset[str]
    fields: list[AvroField] = field(default_factory=list)
    type: str = "record"


@dataclass(eq=False)
class AvroEnum:
    """An enum type."""

    name: str
    fullname: str
    aliases: frozenset[str]
    symbols: tuple[str, ...]
    default: str | None
    type: str = "enum"


@dataclass(eq=False)
class AvroFixed:
    """A fixed-size bytes type."""

    name: str
    fullname: str
    aliases: frozenset[str]
    size: int
    type: str = "fixed"


@dataclass(eq=False)
class AvroArray:
    """An array type."""

    items: AvroNode
    type: str = "array"


@dataclass(eq=False)
class AvroMap:
    """A map type (string keys)."""

    values: AvroNode
    type: str = "map"


@dataclass(eq=False)
class AvroUnion:
    """A union; its branches in declaration order."""

    branches: list[AvroNode]
    type: str = "union"


AvroNode = AvroPrimitive | AvroRecord | AvroEnum | AvroFixed | AvroArray | AvroMap | AvroUnion
AvroNamed = AvroRecord | AvroEnum | AvroFixed


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _qualify_aliases(raw: Any, namespace: str | None) -> frozenset[str]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(_fullname(str(alias), namespace) for alias in raw)


class _Parser:
    def __init__(self, known: Mapping[str, AvroNamed]) -> None:
        self.names: dict[str, AvroNamed] = dict(known)

    def parse(self, data: Any, namespace: str | None, path: str) -> AvroNode:
        if isinstance(data, str):
            return self._reference(data, namespace, path)
        if isinstance(data, list):
            return AvroUnion(
                [self.parse(branch, namespace, f"{path}/{i}") for i, branch in enumerate(data)]
            )
        if not isinstance(data, dict):
            raise AvroSchemaError(f"{path or '/'}: expected a type name, object or array")
        kind = data.get("type")
        if isinstance(kind, (dict, list)):
            # {"type": {...}} wraps a type, as field declarations do.
            return self.parse(kind, namespace, f"{path}/type")
        if not isinstance(kind, str):
            raise AvroSchemaError(f"{path or '/'}: missing 'type'")
        if kind in PRIMITIVES:
            return AvroPrimitive(kind)
        if kind == "array":
            return AvroArray(self.parse(data.get("items"), namespace, f"{path}/items"))
        if kind == "map":
            return AvroMap(self.parse(data.get("values"), namespace, f"{path}/values"))
        if kind in ("record", "error", "enum", "fixed"):
            return self._named(kind, data, namespace, path)
        return self._reference(kind, namespace, path)

    def _reference(self, name: str, namespace: str | None, path: str) -> AvroNode:
        if name in PRIMITIVES:
            return AvroPrimitive(name)
        for candidate in (_fullname(name, namespace), name):
            if candidate in self.names:
                return self.names[candidate]
        raise AvroSchemaError(f"{path or '/'}: unknown type {name!r}")

    def _named(self, kind: str, data: dict[str, Any], namespace: str | None, path: str) -> AvroNode:
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise AvroSchemaError(f"{path or '/'}: a {kind} needs a 'name'")
        own_ns = data.get("namespace", namespace) if "." not in name else name.rsplit(".", 1)[0]
        own_ns = own_ns or None
        fullname = _fullname(name, own_ns)
        short = fullname.rsplit(".", 1)[-1]
        aliases = _qualify_aliases(data.get("aliases"), own_ns)
        node: AvroNamed
        if kind == "enum":
            symbols = data.get("symbols")
            if not isinstance(symbols, list):
                raise AvroSchemaError(f"{path or '/'}: enum {fullname} needs 'symbols'")
            default = data.get("default")
            node = AvroEnum(
                short,
                fullname,
                aliases,
                tuple(str(s) for s in symbols),
                default if isinstance(default, str) else None,
            )
        elif kind == "fixed":
            size = data.get("size")
            if not isinstance(size, int):
                raise AvroSchemaError(f"{path or '/'}: fixed {fullname} needs an integer 'size'")
            node = AvroFixed(short, fullname, aliases, size)
        else:
            node = AvroRecord(short, fullname, aliases)
        # Registered before the fields are parsed so a record can refer to itself.
        self.names[fullname] = node
        if isinstance(node, AvroRecord):
            raw_fields = data.get("fields")
            if not isinstance(raw_fields, list):
                raise AvroSchemaError(f"{path or '/'}: record {fullname} needs 'fields'")
            for i, raw in enumerate(raw_fields):
                if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                    raise AvroSchemaError(f"{path}/fields/{i}: a field needs a 'name'")
                field_aliases = raw.get("aliases")
                node.fields.append(
                    AvroField(
                        name=raw["name"],
                        type=self.parse(raw.get("type"), own_ns, f"{path}/fields/{i}/type"),
                        has_default="default" in raw,
                        aliases=tuple(field_aliases) if isinstance(field_aliases, list) else (),
                    )
                )
        return node


def parse_avro(
    text: str, known: Mapping[str, AvroNamed] | None = None
) -> tuple[AvroNode, dict[str, AvroNamed]]:
    """Parse Avro schema text; raise :class:`AvroSchemaError` if it is not JSON or not Avro.

    ``known`` supplies named types defined elsewhere (schema references). Returns the
    root node and every named type by full name (including ``known``).
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AvroSchemaError(f"not JSON: {exc}") from exc
    return parse_avro_data(data, known)


def parse_avro_data(
    data: Any, known: Mapping[str, AvroNamed] | None = None
) -> tuple[AvroNode, dict[str, AvroNamed]]:
    """Like :func:`parse_avro` for an already-loaded JSON value."""
    parser = _Parser(known or {})
    root = parser.parse(data, None, "")
    return root, parser.names
