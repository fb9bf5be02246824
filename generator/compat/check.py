"""Compatibility of a new schema against earlier versions, per registry level.

BACKWARD: the new schema reads data written with the old one. FORWARD: the old
schema reads data written with the new one. FULL: both. Plain levels compare
with the latest earlier version only; ``*_TRANSITIVE`` levels with every
earlier version, newest first, as Confluent's registry does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from generator.compat.avro import check_reader_writer
from generator.compat.avro_schema import AvroNamed, AvroNode, parse_avro
from generator.compat.findings import CompatibilityLevel, Finding, SchemaTextError, parse_level
from generator.compat.jsonschema import diff_json_schemas
from generator.compat.jsonschema_model import JsonNode, load_json_schema

__all__ = ["NEW", "CompatibilityReport", "UnsupportedSchemaType", "check_compatibility"]


class UnsupportedSchemaType(ValueError):
    """The schema type has no local checker (only AVRO and JSON do)."""


@dataclass(frozen=True)
class CompatibilityReport:
    """The outcome: ``findings`` are the incompatibilities; ``notes`` compatible changes."""

    level: CompatibilityLevel
    findings: tuple[Finding, ...]
    notes: tuple[Finding, ...] = ()
    checked: tuple[str, ...] = ()

    @property
    def compatible(self) -> bool:
        """True when no incompatible change was found."""
        return not self.findings


def _avro(text: str, references: Sequence[str]) -> AvroNode:
    known: dict[str, AvroNamed] = {}
    for ref in references:
        _, known = parse_avro(ref, known)
    root, _ = parse_avro(text, known)
    return root


#: The ``source`` of a :class:`SchemaTextError` raised for the new schema.
NEW = "new schema"

_N = TypeVar("_N")


def _read(source: str, parse: Callable[[], _N]) -> _N:
    """``parse()``, its error saying which compared schema could not be read."""
    try:
        return parse()
    except SchemaTextError as exc:
        raise exc.in_source(source) from None


def _compare_avro(old: AvroNode, new: AvroNode, direction: str, version: str) -> list[Finding]:
    # Avro asks whether a reader reads a writer's data: BACKWARD reads old data with new.
    reader, writer = (new, old) if direction == "BACKWARD" else (old, new)
    return check_reader_writer(reader, writer, direction=direction, version=version)


def _compare_json(old: JsonNode, new: JsonNode, direction: str, version: str) -> list[Finding]:
    # Confluent diffs an original against an update: BACKWARD updates old to new.
    original, update = (old, new) if direction == "BACKWARD" else (new, old)
    return diff_json_schemas(original, update, direction=direction, version=version)


def check_compatibility(
    schema_type: str,
    new: str,
    history: Sequence[str],
    level: CompatibilityLevel | str = CompatibilityLevel.BACKWARD,
    *,
    labels: Sequence[str] | None = None,
    references: Sequence[str] = (),
    new_base: str = "",
    new_documents: Mapping[str, Any] | None = None,
    history_bases: Sequence[str] | None = None,
    history_documents: Mapping[str, Any] | None = None,
) -> CompatibilityReport:
    """Check ``new`` against ``history`` (oldest first) at ``level``.

    ``schema_type`` is ``AVRO`` or ``JSON``; ``labels`` names each history entry
    in findings (default ``v1``, ``v2`` ...); ``references`` are Avro schema texts
    defining named types the schemas use. For JSON Schema, ``new_base`` /
    ``history_bases`` are the documents' URIs and ``*_documents`` map URIs to the
    documents their external ``$ref``s name. Raises the parser's error
    (:class:`~generator.compat.avro_schema.AvroSchemaError` or
    :class:`~generator.compat.jsonschema_model.JsonSchemaParseError`) on invalid input.
    """
    lvl = level if isinstance(level, CompatibilityLevel) else parse_level(level)
    names = list(labels) if labels is not None else [f"v{i + 1}" for i in range(len(history))]
    if lvl is CompatibilityLevel.NONE or not history:
        return CompatibilityReport(lvl, ())
    indexes = list(range(len(history)))
    against = indexes[::-1] if lvl.transitive else indexes[-1:]
    kind = schema_type.upper()
    new_node: Any
    old_nodes: list[Any]
    compare: Callable[[Any, Any, str, str], list[Finding]]
    if kind == "AVRO":
        new_node = _read(NEW, lambda: _avro(new, references))
        old_nodes = [_read(names[i], partial(_avro, history[i], references)) for i in against]
        compare = _compare_avro
    elif kind == "JSON":
        new_node = _read(NEW, lambda: load_json_schema(new, base=new_base, documents=new_documents))
        old_nodes = [
            _read(
                names[i],
                partial(
                    load_json_schema,
                    history[i],
                    base=history_bases[i] if history_bases else "",
                    documents=history_documents,
                ),
            )
            for i in against
        ]
        compare = _compare_json
    else:
        raise UnsupportedSchemaType(
            f"no local compatibility checker for schema type {schema_type!r}; expected AVRO or JSON"
        )
    directions = [d for d, on in (("BACKWARD", lvl.backward), ("FORWARD", lvl.forward)) if on]
    found: list[Finding] = []
    for i, old_node in zip(against, old_nodes, strict=True):
        for direction in directions:
            found += compare(old_node, new_node, direction, names[i])
    findings = [f for f in found if not f.compatible]
    notes = [f for f in found if f.compatible]
    return CompatibilityReport(lvl, tuple(findings), tuple(notes), tuple(names[i] for i in against))
