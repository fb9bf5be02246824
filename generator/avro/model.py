"""The parsed form of Avro schemas: types, fields and named types, resolved across files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Re-exported: one definition for the project, shared with the compat checker and registry.
from gen_topics.registry.avro_names import NAMED_KINDS as NAMED_KINDS
from gen_topics.registry.avro_names import PRIMITIVES as PRIMITIVES

# Logical types that gen-topics maps to a richer Python type, by base type.
LOGICAL_ON_PRIMITIVE: dict[str, frozenset[str]] = {
    "bytes": frozenset({"decimal"}),
    "string": frozenset({"uuid"}),
    "int": frozenset({"date", "time-millis"}),
    "long": frozenset(
        {
            "time-micros",
            "timestamp-millis",
            "timestamp-micros",
            "local-timestamp-millis",
            "local-timestamp-micros",
        }
    ),
}


@dataclass(frozen=True)
class Primitive:
    """A primitive type, possibly carrying a supported logical type."""

    name: str
    logical: str | None = None
    precision: int = 0
    scale: int = 0


@dataclass(eq=False)
class Ref:
    """A reference to a named type; ``fullname`` is final once the registry is resolved."""

    fullname: str
    fallback: str | None = None
    file: str = ""
    json_path: str = ""


@dataclass(frozen=True)
class ArrayType:
    """``{"type": "array", "items": ...}``."""

    items: AvroType


@dataclass(frozen=True)
class MapType:
    """``{"type": "map", "values": ...}`` (keys are strings)."""

    values: AvroType


@dataclass(frozen=True)
class UnionType:
    """A union; branch order is the schema's."""

    branches: tuple[AvroType, ...]


AvroType = Primitive | Ref | ArrayType | MapType | UnionType


def direct_refs(t: AvroType) -> list[Ref]:
    """The named-type references in ``t``, not looking inside the named types themselves."""
    found: list[Ref] = []
    pending = [t]
    while pending:
        item = pending.pop()
        if isinstance(item, Ref):
            found.append(item)
        elif isinstance(item, ArrayType):
            pending.append(item.items)
        elif isinstance(item, MapType):
            pending.append(item.values)
        elif isinstance(item, UnionType):
            pending.extend(item.branches)
    return found


@dataclass
class Field:
    """A record field."""

    name: str
    type: AvroType
    has_default: bool
    default: Any
    doc: str | None
    json_path: str


@dataclass
class NamedType:
    """A record, enum or fixed, with where it was defined."""

    kind: str  # "record" | "enum" | "fixed" ("error" is parsed as a record)
    fullname: str
    name: str
    namespace: str
    doc: str | None
    aliases: tuple[str, ...]
    file: str
    json_path: str
    definition: dict[str, Any]
    fields: list[Field] = field(default_factory=list)
    symbols: tuple[str, ...] = ()
    enum_default: str | None = None
    size: int = 0
    logical: str | None = None  # "decimal" or "duration" on a fixed
    precision: int = 0
    scale: int = 0


@dataclass
class SchemaFile:
    """One ``.avsc`` file: its text, top-level type and the names it defines and uses."""

    path: str
    text: str
    top: AvroType
    defined: list[str] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)


@dataclass
class AvroRegistry:
    """Every named type of every ``.avsc`` file under the schemas folder, by full name."""

    types: dict[str, NamedType] = field(default_factory=dict)
    files: dict[str, SchemaFile] = field(default_factory=dict)

    def named(self, ref: Ref) -> NamedType:
        """The named type a resolved reference points to."""
        return self.types[ref.fullname]
