"""A small, lenient Avro schema model for compatibility checks.

Why a second parser beside the generator's (``generator/avro/loader.py``), decided
when merging was considered: the checker must judge what a registry holds, and the
generator's loader is built to refuse what it cannot generate code for.

- It rejects schemas registries store and peers' conformance cases use: an enum
  default outside its symbols, decimals fastavro cannot write, field defaults that
  do not match their type, duplicate union branches, names outside ``[A-Za-z_]``.
  A compat run must still compare such versions, not stop on them.
- It keeps no field aliases; schema resolution needs them to match renamed fields.
- It loads one folder of files into ONE name registry and refuses a name defined
  twice differently, while a compat run holds the same names in every version (old
  and new definitions side by side) and parses registry texts that have no file.
- Its problems are file:line reports for people; here a bad text is an exception
  naming the JSON path, raised from a registry version or a git revision alike.

fastavro is no option either: it is as strict and also drops aliases. What both
parsers share, the primitive names and the naming rules, comes from
:mod:`gen_topics.registry.avro_names`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gen_topics.registry.avro_names import NAMED_KINDS, PRIMITIVES, defined_namespace, full_name
from generator.compat.findings import SchemaTextError
from generator.suggest import did_you_mean

__all__ = [
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


class AvroSchemaError(SchemaTextError):
    """The text is not an Avro schema; ``path`` is where (``/fields/0/type``)."""


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
class _Named:
    """What every named type has: its short and full name and its full-name aliases."""

    name: str
    fullname: str
    aliases: frozenset[str]


@dataclass(eq=False)
class AvroRecord(_Named):
    """A record (or error) type; ``fields`` is filled after the name is known (recursion)."""

    fields: list[AvroField] = field(default_factory=list)
    type: str = "record"


@dataclass(eq=False)
class AvroEnum(_Named):
    """An enum type."""

    symbols: tuple[str, ...]
    default: str | None
    type: str = "enum"


@dataclass(eq=False)
class AvroFixed(_Named):
    """A fixed-size bytes type."""

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


def _qualify_aliases(raw: Any, namespace: str | None) -> frozenset[str]:
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(full_name(str(alias), namespace) for alias in raw)


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
            raise AvroSchemaError("expected a type name, object or array", path)
        kind = data.get("type")
        if isinstance(kind, (dict, list)):
            # {"type": {...}} wraps a type, as field declarations do.
            return self.parse(kind, namespace, f"{path}/type")
        if not isinstance(kind, str):
            raise AvroSchemaError("missing 'type'", path)
        if kind in PRIMITIVES:
            return AvroPrimitive(kind)
        if kind == "array":
            return AvroArray(self.parse(data.get("items"), namespace, f"{path}/items"))
        if kind == "map":
            return AvroMap(self.parse(data.get("values"), namespace, f"{path}/values"))
        if kind in NAMED_KINDS:
            return self._named(kind, data, namespace, path)
        return self._reference(kind, namespace, path)

    def _reference(self, name: str, namespace: str | None, path: str) -> AvroNode:
        if name in PRIMITIVES:
            return AvroPrimitive(name)
        for candidate in (full_name(name, namespace), name):
            if candidate in self.names:
                return self.names[candidate]
        raise AvroSchemaError(
            f"unknown type {name!r}; expected a primitive or a named type defined before this use"
            + did_you_mean(name, [*PRIMITIVES, *self.names]),
            path,
        )

    def _named(self, kind: str, data: dict[str, Any], namespace: str | None, path: str) -> AvroNode:
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise AvroSchemaError(f"a {kind} needs a 'name'", path)
        own_ns = defined_namespace(name, data.get("namespace"), namespace)
        fullname = full_name(name, own_ns)
        short = fullname.rsplit(".", 1)[-1]
        aliases = _qualify_aliases(data.get("aliases"), own_ns)
        node: AvroNamed
        if kind == "enum":
            symbols = data.get("symbols")
            if not isinstance(symbols, list):
                raise AvroSchemaError(f"enum {fullname} needs 'symbols'", path)
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
                raise AvroSchemaError(f"fixed {fullname} needs an integer 'size'", path)
            node = AvroFixed(short, fullname, aliases, size)
        else:
            node = AvroRecord(short, fullname, aliases)
        # Registered before the fields are parsed so a record can refer to itself.
        self.names[fullname] = node
        if isinstance(node, AvroRecord):
            raw_fields = data.get("fields")
            if not isinstance(raw_fields, list):
                raise AvroSchemaError(f"record {fullname} needs 'fields'", path)
            for i, raw in enumerate(raw_fields):
                if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                    raise AvroSchemaError("a field needs a 'name'", f"{path}/fields/{i}")
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
