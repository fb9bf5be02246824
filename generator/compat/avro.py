"""Avro schema resolution compatibility: can a reader schema read a writer's data?

Follows the Avro specification's resolution rules as Apache Avro's Java
``SchemaCompatibility`` applies them (and Confluent and Karapace reuse): type
promotions int->long->float->double and string<->bytes, named types matched by
unqualified name or reader alias, fixed sizes, enum symbols (a reader default
covers missing ones), unions branch by branch, record fields matched by name or
alias with reader-only fields needing a default. Recursive schemas terminate
because a pair already being compared is assumed compatible.

Where Java reports only ``MISSING_UNION_BRANCH`` for a writer record that no reader
union branch reads, and a branch has the writer's name (the one Avro resolution picks),
the reasons that branch cannot read it are reported instead, inside the branch: the
verdict is the same, the finding names the field. Each finding names the innermost
reader record (or enum, fixed) and field it is in.
"""

from __future__ import annotations

from dataclasses import replace

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

    def finding(
        self, rule: str, loc: list[str], message: str, *, record: str | None = None
    ) -> Finding:
        return Finding(
            rule=rule,
            path=_location(loc),
            message=message,
            direction=self.direction,
            version=self.version,
            record=record,
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
            return self._into_union(reader, writer, loc, loc)
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
                if isinstance(branch, AvroUnion):
                    out += self.check(reader, branch, [*loc, str(i)])
                else:
                    out += self._into_union(reader, branch, loc, [*loc, str(i)])
            return out
        if isinstance(reader, AvroFixed) and isinstance(writer, AvroFixed):
            out = self._names(reader, writer, loc)
            if reader.size != writer.size:
                out.append(
                    self.finding(
                        "FIXED_SIZE_MISMATCH",
                        [*loc, "size"],
                        f"expected: {writer.size}, found: {reader.size}",
                        record=reader.fullname,
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
                        record=reader.fullname,
                    )
                )
            return out
        if isinstance(reader, AvroRecord) and isinstance(writer, AvroRecord):
            return self._names(reader, writer, loc) + self._fields(reader, writer, loc)
        return [self._mismatch(reader, writer, loc)]

    def _into_union(
        self, reader: AvroUnion, writer: AvroNode, loc: list[str], missing_at: list[str]
    ) -> list[Finding]:
        """Why no branch of ``reader`` reads ``writer`` (empty when one does).

        ``loc`` is the reader union's location; ``missing_at`` where Java reports a missing
        branch (the writer's branch index inside a writer union).
        """
        tried = [
            self.check(branch, writer, [*loc, str(j)]) for j, branch in enumerate(reader.branches)
        ]
        if not all(tried):
            return []
        if isinstance(writer, (AvroRecord, AvroEnum, AvroFixed)):
            for j, branch in enumerate(reader.branches):
                if type(branch) is type(writer) and _same_name(branch, writer):
                    return tried[j]
        named = (
            f" {writer.fullname}" if isinstance(writer, (AvroRecord, AvroEnum, AvroFixed)) else ""
        )
        return [
            self.finding(
                "MISSING_UNION_BRANCH",
                missing_at,
                f"reader union lacking writer type: {writer.type}{named}",
            )
        ]

    def _names(
        self,
        reader: AvroRecord | AvroEnum | AvroFixed,
        writer: AvroRecord | AvroEnum | AvroFixed,
        loc: list[str],
    ) -> list[Finding]:
        if _same_name(reader, writer):
            return []
        return [
            self.finding(
                "NAME_MISMATCH",
                [*loc, "name"],
                f"expected: {writer.fullname}",
                record=reader.fullname,
            )
        ]

    def _fields(self, reader: AvroRecord, writer: AvroRecord, loc: list[str]) -> list[Finding]:
        by_name = {f.name: f for f in writer.fields}
        out: list[Finding] = []
        for i, reader_field in enumerate(reader.fields):
            writer_field = _writer_field(by_name, reader_field)
            if writer_field is None:
                if not reader_field.has_default:
                    missing = self.finding(
                        "READER_FIELD_MISSING_DEFAULT_VALUE",
                        [*loc, "fields", str(i)],
                        reader_field.name,
                        record=reader.fullname,
                    )
                    out.append(replace(missing, field=reader_field.name))
                continue
            found = self.check(
                reader_field.type, writer_field.type, [*loc, "fields", str(i), "type"]
            )
            # Findings inside a nested named type already name it; the others are this field's.
            out += [
                f if f.record else replace(f, record=reader.fullname, field=reader_field.name)
                for f in found
            ]
        return out


def _same_name(
    reader: AvroRecord | AvroEnum | AvroFixed, writer: AvroRecord | AvroEnum | AvroFixed
) -> bool:
    # Unqualified names are compared (namespaces may move); a reader alias naming the
    # writer's full name also matches.
    return reader.name == writer.name or writer.fullname in reader.aliases


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
    """Every reason ``reader`` cannot read data written with ``writer`` (empty: compatible).

    A named type used in several places is compared once: its findings are listed once.
    """
    return list(dict.fromkeys(_Checker(direction, version).check(reader, writer, [])))
