"""Stage schema files for datamodel-code-generator: one folder laid out like the output.

Each staged copy has its cross-file ``$ref``s rewritten to relative paths between staged
files and its ``$id``s removed, so datamodel-code-generator never fetches anything remote
and the module tree depends only on our naming rules. Defaults that contradict their own
schema (``"type": "integer", "default": null``) are dropped with a warning, since a model
cannot hold them and a type checker rejects them.
"""

from __future__ import annotations

import copy
import json
import posixpath
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.jsonschema.index import DATA_KEYWORDS, SchemaFile, SchemaIndex, split_ref
from generator.jsonschema.naming import class_name_for, module_parts_for

__all__ = ["InvalidDefaultWarning", "ModulePlan", "plan_module", "stage_files"]

PACKAGE = "jsonmodels"
_JSON_TYPES: dict[str, Callable[[object], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class InvalidDefaultWarning(UserWarning):
    """A schema's ``default`` does not match the schema it sits in; it was ignored."""


class ModulePlan:
    """Where a schema file's models go, and the name of its root type."""

    __slots__ = ("class_name", "parts")

    def __init__(self, parts: tuple[str, ...], class_name: str) -> None:
        self.parts = parts
        self.class_name = class_name

    @property
    def dotted(self) -> str:
        """``jsonmodels.shipments.shipment_event``: relative to the output package."""
        return ".".join((PACKAGE, *self.parts))

    @property
    def module_key(self) -> tuple[str, ...]:
        """The module's file as path parts under the package: ``("common", "address.py")``."""
        return (*self.parts[:-1], self.parts[-1] + ".py")


def plan_module(schema: SchemaFile) -> ModulePlan:
    """The module and root class name a schema file gets."""
    document = schema.require_document()
    return ModulePlan(
        module_parts_for(schema.relative), class_name_for(document.get("title"), schema.path.name)
    )


def _matches(value: object, schema: object, depth: int = 0) -> bool:
    """A shallow check of ``value`` against type/enum/const/anyOf/oneOf/allOf.

    Anything it does not understand (``$ref``, formats, bounds) counts as a match: the
    point is to catch defaults that cannot fit the field's Python type, not to validate.
    """
    if not isinstance(schema, dict) or depth > 20:
        return True
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else declared
    if isinstance(types, list) and types:
        checks = [_JSON_TYPES[t] for t in types if isinstance(t, str) and t in _JSON_TYPES]
        if checks and not any(check(value) for check in checks):
            return False
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    for keyword in ("anyOf", "oneOf"):
        branches = schema.get(keyword)
        if (
            isinstance(branches, list)
            and branches
            and not any(_matches(value, branch, depth + 1) for branch in branches)
        ):
            return False
    branches = schema.get("allOf")
    if isinstance(branches, list):
        return all(_matches(value, branch, depth + 1) for branch in branches)
    return True


def _default_is_valid(node: dict[str, Any]) -> bool:
    return _matches(node["default"], {k: v for k, v in node.items() if k != "default"})


def _rewrite(node: Any, rewrite_ref: Callable[[str], str], where: str, pointer: str) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, rewrite_ref, where, f"{pointer}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = rewrite_ref(value)
        elif key == "$id" and isinstance(value, str):
            continue
        elif key == "default" and not _default_is_valid(node):
            warnings.warn(
                f"{where}: default {json.dumps(value)} at {pointer or '/'} does not match its "
                "schema (type, enum, const or anyOf/oneOf); it is ignored",
                InvalidDefaultWarning,
                stacklevel=2,
            )
        elif key in DATA_KEYWORDS:
            out[key] = copy.deepcopy(value)
        else:
            escaped = key.replace("~", "~0").replace("/", "~1")
            out[key] = _rewrite(value, rewrite_ref, where, f"{pointer}/{escaped}")
    return out


def _staged_document(
    schema: SchemaFile, index: SchemaIndex, plans: dict[str, ModulePlan]
) -> dict[str, Any]:
    plan = plans[schema.file_uri]
    here = posixpath.join(*plan.parts[:-1]) if len(plan.parts) > 1 else "."

    def rewrite_ref(ref: str) -> str:
        base, fragment = split_ref(ref)
        if not base:
            return ref
        target = index.locate(base, schema)
        if target is None:  # closure() has already reported it
            return ref
        target_path = posixpath.join(*plans[target.file_uri].parts) + ".json"
        relative = posixpath.relpath(target_path, here)
        return f"{relative}#{fragment}" if fragment else relative

    document: dict[str, Any] = _rewrite(
        schema.require_document(), rewrite_ref, str(schema.path), ""
    )
    if isinstance(document.get("id"), str):  # draft-4 spelling of $id
        del document["id"]
    # The root's class name is ours (see naming.py), whatever the title says.
    document["title"] = plan.class_name
    return document


def stage_files(
    staging: Path, files: list[SchemaFile], index: SchemaIndex, plans: dict[str, ModulePlan]
) -> None:
    """Write the staged copy of each file under ``staging``, at its module's path."""
    for schema in files:
        plan = plans[schema.file_uri]
        target = staging.joinpath(*plan.parts).with_suffix(".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        document = _staged_document(schema, index, plans)
        target.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")
