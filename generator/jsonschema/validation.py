"""Check JSON Schema files before datamodel-code-generator reads them.

datamodel-code-generator compiles what it does not understand into ``Any`` (``"type":
"strng"``) and copies constraints into models that only fail when they are imported
(``"pattern": "([a-z"``). Each schema file a topic uses is therefore validated against its
draft's meta-schema (with the ``jsonschema`` library), and every regular expression is
compiled with the engine the generated pydantic models use, so both become ``file:line``
errors at compile time.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag

from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from generator.errors import Problem
from generator.json_lines import line_of_parts
from generator.jsonschema.index import DATA_KEYWORDS, SchemaFile
from generator.suggest import did_you_mean

__all__ = ["schema_problems"]

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
# Without "$schema", a document may be written for any draft datamodel-code-generator reads.
_DRAFTS: tuple[type[Validator], ...] = (Draft202012Validator, Draft7Validator, Draft4Validator)
# Keywords whose value maps names (not keywords) to subschemas.
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_MAX_PROBLEMS = 10


def schema_problems(schema: SchemaFile) -> list[Problem]:
    """What is wrong with ``schema`` (parsed already), at its file and lines; ``[]`` if fine."""
    document = schema.require_document()
    problems = _meta_schema_problems(schema, document)
    problems.extend(_pattern_problems(schema, document))
    return problems[:_MAX_PROBLEMS]


def _meta_validators(document: dict[str, Any]) -> tuple[type[Validator], ...]:
    declared = document.get("$schema")
    if not isinstance(declared, str):
        return _DRAFTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unknown $schema warns; it is checked as any draft
        cls: type[Validator] = validator_for(document, default=Draft202012Validator)
    meta_id = cls.META_SCHEMA.get("$id", cls.META_SCHEMA.get("id", ""))
    known = urldefrag(str(meta_id))[0] == urldefrag(declared)[0]
    return (cls,) if known else _DRAFTS


def _meta_errors(cls: type[Validator], document: dict[str, Any]) -> list[ValidationError]:
    # No format checker: "pattern" is checked below with pydantic's engine, not Python's re.
    meta_cls: type[Validator] = validator_for(cls.META_SCHEMA, default=cls)
    return list(meta_cls(cls.META_SCHEMA).iter_errors(document))


def _meta_schema_problems(schema: SchemaFile, document: dict[str, Any]) -> list[Problem]:
    best: list[ValidationError] | None = None
    for cls in _meta_validators(document):
        errors = _meta_errors(cls, document)
        if not errors:
            return []
        if best is None or len(errors) < len(best):
            best = errors
    assert best is not None
    # One problem per place in the document, the most relevant error for it.
    by_place: dict[tuple[str | int, ...], list[ValidationError]] = {}
    for error in best:
        by_place.setdefault(tuple(error.absolute_path), []).append(error)
    problems: list[Problem] = []
    for place, errors in sorted(by_place.items(), key=lambda item: [str(p) for p in item[0]]):
        error = best_match(errors)
        problems.append(
            Problem(
                str(schema.path),
                line_of_parts(schema.text, list(place)),
                f"{_describe(place, error)} (at {_pointer(place)})",
            )
        )
    return problems


def _describe(place: tuple[str | int, ...], error: ValidationError) -> str:
    value = error.instance
    is_type_keyword = (
        bool(place) and place[-1] == "type" and (len(place) < 2 or place[-2] not in _NAME_MAPS)
    )
    if is_type_keyword and isinstance(value, str | list):
        names = value if isinstance(value, list) else [value]
        unknown = [n for n in names if not isinstance(n, str) or n not in JSON_TYPES]
        if unknown:
            first = unknown[0]
            hint = did_you_mean(first, JSON_TYPES) if isinstance(first, str) else ""
            return f"unknown type {first!r}; expected one of {', '.join(JSON_TYPES)}{hint}"
    return f"not a valid JSON Schema: {error.message}"


def _pointer(place: tuple[str | int, ...]) -> str:
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in place)
    return "#/" + "/".join(escaped) if place else "#"


def _patterns(
    node: Any, place: tuple[str | int, ...]
) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Every regular expression of a schema: ``pattern`` values, ``patternProperties`` keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*place, key)
            if key in DATA_KEYWORDS and (not place or place[-1] not in _NAME_MAPS):
                continue
            if key == "pattern" and isinstance(value, str):
                yield value, here
            elif key == "patternProperties" and isinstance(value, dict):
                for regex in value:
                    yield regex, here
                yield from _patterns(value, here)
            else:
                yield from _patterns(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _patterns(item, (*place, index))


def _regex_error(pattern: str) -> str | None:
    from pydantic_core import SchemaError, SchemaValidator, core_schema

    try:
        SchemaValidator(core_schema.str_schema(pattern=pattern))
    except SchemaError as exc:
        # "Error building ... regex parse error: <pattern> <caret> error: <what>"
        return " ".join(str(exc).split()).rsplit("error: ", 1)[-1]
    return None


def _pattern_problems(schema: SchemaFile, document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for pattern, place in _patterns(document, ()):
        error = _regex_error(pattern)
        if error is not None:
            problems.append(
                Problem(
                    str(schema.path),
                    line_of_parts(schema.text, list(place)),
                    f"regular expression {pattern!r} is not valid for pydantic's regex engine "
                    f"(Rust regex), which the generated model compiles on import: {error} "
                    f"(at {_pointer(place)})",
                )
            )
    return problems
