"""Avro schema resolution compatibility: can a reader schema read a writer's data?

Follows the Avro specification's resolution rules as Apache Avro's Java
``SchemaCompatibility`` applies them (and Confluent and Karapace reuse): type
promotions int->long->float->double and string<->bytes, named types matched by
unqualified name or reader alias, fixed sizes, enum symbols (a reader default
covers missing ones), unions branch by branch, record fields matched by name or
alias with reader-only fields needing a default. Recursive schemas terminate
because a pair already being compared is assumed compatible.
"""

from __future__ import annotations

from generator.compat.avro_schema import (
    AvroArray,
    AvroEnum,
    AvroField,
    AvroFixed,
    AvroMap,
    AvroNode,
    AvroPrimitive,
    AvroRecord,
    AvroUnion,
)
from generator.compat.findings import Finding

__all__ = ["check_reader_writer"]

# writer types each reader type accepts besides its own (Avro spec, "Schema Resolution").
_PROMOTIONS: dict[str, frozenset[str]] = {
    "long": frozenset({"int"}),
    "float": frozenset({"int", "long"}),
    "double": frozenset({"int", "long", "float"}),
    "bytes": frozenset({"string"}),
    "string": frozenset({"bytes"}),
}


def _location(parts: list[str]) -> str:
    return "/" + "/".join(parts)


class _Checker:
    def __init__(self, direction: str, version: str | None) -> None:
        self.direction = direction
        self.version = version
        # Pairs being compared or already compared; a pair met again while in
        # progress is a recursion and is assumed compatible (as Avro's Java does).
        self.seen: dict[tuple[int, int], list[Finding]] = {}

    def finding(self, rule: str, loc: list[str], message: str) -> Finding:
        return Finding(
            rule=rule,
            path=_location(loc),
            message=message,
            direction=self.direction,
            version=self.version,
        )

    def check(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Finding]:
        key = (id(reader), id(writer))
        if key in self.seen:
            return self.seen[key]
        self.seen[key] = []
        result = self._check(reader, writer, loc)
        self.seen[key] = result
        return result

    def _check(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Finding]:
        if reader.type == writer.type:
            return self._same_type(reader, writer, loc)
        if isinstance(writer, AvroUnion):
            # Every branch the writer may have used must be readable.
            out: list[Finding] = []
            for i, branch in enumerate(writer.branches):
                out += self.check(reader, branch, [*loc, str(i)])
            return out
        if isinstance(reader, AvroUnion):
            for branch in reader.branches:
                if not self.check(reader=branch, writer=writer, loc=loc):
                    return []
            return [
                self.finding(
                    "MISSING_UNION_BRANCH",
                    loc,
                    f"reader union lacking writer type: {writer.type}",
                )
            ]
        if writer.type in _PROMOTIONS.get(reader.type, frozenset()):
            return []
        return [self._mismatch(reader, writer, loc)]

    def _mismatch(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> Finding:
        return self.finding(
            "TYPE_MISMATCH",
            loc,
            f"reader type: {reader.type} not compatible with writer type: {writer.type}",
        )

    def _same_type(self, reader: AvroNode, writer: AvroNode, loc: list[str]) -> list[Finding]:
        if isinstance(reader, AvroPrimitive):
            return []
        if isinstance(reader, AvroArray) and isinstance(writer, AvroArray):
            return self.check(reader.items, writer.items, [*loc, "items"])
        if isinstance(reader, AvroMap) and isinstance(writer, AvroMap):
            return self.check(reader.values, writer.values, [*loc, "values"])
        if isinstance(reader, AvroUnion) and isinstance(writer, AvroUnion):
            out: list[Finding] = []
            for i, branch in enumerate(writer.branches):
                out += self.check(reader, branch, [*loc, str(i)])
            return out
        if isinstance(reader, AvroFixed) and isinstance(writer, AvroFixed):
            out = self._names(reader, writer, loc)
            if reader.size != writer.size:
                out.append(
                    self.finding(
                        "FIXED_SIZE_MISMATCH",
                        [*loc, "size"],
                        f"expected: {writer.size}, found: {reader.size}",
                    )
                )
            return out
        if isinstance(reader, AvroEnum) and isinstance(writer, AvroEnum):
            out = self._names(reader, writer, loc)
            missing = [s for s in writer.symbols if s not in reader.symbols]
            if missing and reader.default is None:
                out.append(
                    self.finding(
                        "MISSING_ENUM_SYMBOLS",
                        [*loc, "symbols"],
                        "[" + ", ".join(missing) + "]",
                    )
                )
            return out
        if isinstance(reader, AvroRecord) and isinstance(writer, AvroRecord):
            return self._names(reader, writer, loc) + self._fields(reader, writer, loc)
        return [self._mismatch(reader, writer, loc)]

    def _names(
        self,
        reader: AvroRecord | AvroEnum | AvroFixed,
        writer: AvroRecord | AvroEnum | AvroFixed,
        loc: list[str],
    ) -> list[Finding]:
        # Unqualified names are compared (namespaces may move); a reader alias
        # naming the writer's full name also matches.
        if reader.name == writer.name or writer.fullname in reader.aliases:
            return []
        return [self.finding("NAME_MISMATCH", [*loc, "name"], f"expected: {writer.fullname}")]

    def _fields(self, reader: AvroRecord, writer: AvroRecord, loc: list[str]) -> list[Finding]:
        by_name = {f.name: f for f in writer.fields}
        out: list[Finding] = []
        for i, reader_field in enumerate(reader.fields):
            writer_field = _writer_field(by_name, reader_field)
            if writer_field is None:
                if not reader_field.has_default:
                    out.append(
                        self.finding(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            [*loc, "fields", str(i)],
                            reader_field.name,
                        )
                    )
                continue
            out += self.check(
                reader_field.type, writer_field.type, [*loc, "fields", str(i), "type"]
            )
        return out


def _writer_field(by_name: dict[str, AvroField], reader_field: AvroField) -> AvroField | None:
    found = by_name.get(reader_field.name)
    if found is not None:
        return found
    for alias in reader_field.aliases:
        if alias in by_name:
            return by_name[alias]
    return None


def check_reader_writer(
    reader: AvroNode, writer: AvroNode, *, direction: str = "BACKWARD", version: str | None = None
) -> list[Finding]:
    """Every reason ``reader`` cannot read data written with ``writer`` (empty: compatible)."""
    return _Checker(direction, version).check(reader, writer, [])
