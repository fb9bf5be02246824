"""JSON Schema compatibility, following Confluent Schema Registry's rules.

Confluent compares an original (old) and an updated (new) schema and lists typed
differences (``TYPE_NARROWED``, ``OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL``
...); the update is backward compatible when every difference is in its set of
compatible changes. This module reproduces that walk and those difference names,
so a finding names the same rule a Confluent registry would apply.

Content models: an object (or tuple array) is *open* when it allows additional
members with no schema, *closed* when it forbids them, and *partially open* when
patternProperties or an additionalProperties/additionalItems schema cover them.
Adding a property to an open model is incompatible (old data may hold that name
with any value); removing one from an open model is compatible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from generator.compat.findings import Finding
from generator.compat.jsonschema_model import JsonNode

__all__ = ["COMPATIBLE_CHANGES", "diff_json_schemas"]

COMPATIBLE_CHANGES = frozenset(
    {
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "MAX_CONTAINS_INCREASED",
        "MAX_CONTAINS_REMOVED",
        "MIN_CONTAINS_DECREASED",
        "MIN_CONTAINS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)

_MESSAGES = {
    "TYPE_CHANGED": "the type changed; old data of the previous type no longer validates",
    "TYPE_NARROWED": "the type was narrowed (number -> integer)",
    "SCHEMA_ADDED": "a schema was added where any value was allowed",
    "REQUIRED_ATTRIBUTE_ADDED": "the property became required; old data may lack it",
    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL": "a new required property has no default",
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": (
        "a property was added to an open content model: old data may already hold this name "
        "with another type (close the model with additionalProperties: false first)"
    ),
    "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL": (
        "a property was removed from a closed content model: old data holding it is rejected"
    ),
    "ADDITIONAL_PROPERTIES_REMOVED": "additional properties are no longer allowed",
    "ADDITIONAL_PROPERTIES_NARROWED": "additional properties are now restricted by a schema",
    "ADDITIONAL_ITEMS_REMOVED": "additional items are no longer allowed",
    "ADDITIONAL_ITEMS_NARROWED": "additional items are now restricted by a schema",
    "COMBINED_TYPE_CHANGED": "the combination keyword (allOf/anyOf/oneOf) changed incompatibly",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED": "a sub-schema of the combination has no compatible match",
    "SUM_TYPE_NARROWED": "an alternative was removed from anyOf/oneOf",
    "PRODUCT_TYPE_EXTENDED": "a constraint was added to allOf",
    "NOT_TYPE_EXTENDED": "the 'not' schema now excludes more values",
    "ENUM_ARRAY_NARROWED": "enum values were removed",
    "ENUM_ARRAY_CHANGED": "enum/const values changed",
}


def _message(rule: str) -> str:
    if rule in _MESSAGES:
        return _MESSAGES[rule]
    return rule.lower().replace("_", " ")


@dataclass
class _Context:
    path: list[str] = field(default_factory=list)
    changes: list[tuple[str, str]] = field(default_factory=list)
    # (original, update) pairs on the current walk: a recursive $ref stops here.
    stack: set[tuple[int, int]] = field(default_factory=set)

    def add(self, rule: str, *extra: str) -> None:
        self.changes.append((rule, "#/" + "/".join([*self.path, *extra])))

    def sub(self) -> _Context:
        return _Context(list(self.path), [], self.stack)

    @property
    def compatible(self) -> bool:
        return all(rule in COMPATIBLE_CHANGES for rule, _ in self.changes)


class _Path:
    def __init__(self, ctx: _Context, *parts: str) -> None:
        self.ctx = ctx
        self.parts = parts

    def __enter__(self) -> None:
        self.ctx.path.extend(self.parts)

    def __exit__(self, *exc: object) -> None:
        del self.ctx.path[len(self.ctx.path) - len(self.parts) :]


def _dedup(nodes: list[JsonNode]) -> list[JsonNode]:
    out: list[JsonNode] = []
    for node in nodes:
        if not any(node.same_as(kept) for kept in out):
            out.append(node)
    return out


def _compare(ctx: _Context, original: JsonNode | None, update: JsonNode | None) -> None:
    if original is None and update is None:
        return
    if original is None:
        ctx.add("SCHEMA_ADDED")
        return
    if update is None:
        ctx.add("SCHEMA_REMOVED")
        return
    original = original.resolve()
    update = update.resolve()

    if original.kind != "combined" and update.kind == "combined":
        subs = _dedup(update.subschemas)
        if len(subs) == 1:
            if _adopt_if_compatible(ctx, original, subs[0]):
                return
        elif update.criterion in ("anyOf", "oneOf") and any(
            _adopt_if_compatible(ctx, original, c, "SUM_TYPE_EXTENDED") for c in subs
        ):
            return
    elif original.kind == "combined" and update.kind != "combined":
        subs = _dedup(original.subschemas)
        if len(subs) == 1:
            if _adopt_if_compatible(ctx, subs[0], update):
                return
        elif original.criterion == "allOf" and any(
            _adopt_if_compatible(ctx, c, update, "PRODUCT_TYPE_NARROWED") for c in subs
        ):
            return

    if original.kind != update.kind:
        # Anything may become the empty schema; nothing was valid under false.
        if original.kind == "false" or update.kind == "empty":
            return
        ctx.add("TYPE_CHANGED")
        return

    key = (id(original), id(update))
    if key in ctx.stack:
        return
    ctx.stack.add(key)
    try:
        _compare_same_kind(ctx, original, update)
    finally:
        ctx.stack.discard(key)


def _adopt_if_compatible(
    ctx: _Context, original: JsonNode, update: JsonNode, rule: str | None = None
) -> bool:
    """Compare in a scratch context; when compatible, keep its changes (and ``rule``)."""
    sub = ctx.sub()
    _compare(sub, original, update)
    if not sub.compatible:
        return False
    ctx.changes += sub.changes
    if rule is not None:
        ctx.add(rule)
    return True


def _compare_same_kind(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    for keyword, rule in (
        ("$id", "ID_CHANGED"),
        ("title", "TITLE_CHANGED"),
        ("description", "DESCRIPTION_CHANGED"),
        ("default", "DEFAULT_CHANGED"),
    ):
        if original.keywords.get(keyword) != update.keywords.get(keyword):
            ctx.add(rule)
    kind = original.kind
    if kind == "string":
        _bounds(ctx, original, update, "maxLength", "minLength")
        _keyword_change(ctx, original, update, "pattern", lambda old, new: "PATTERN_CHANGED")
    elif kind == "number":
        _number(ctx, original, update)
    elif kind in ("enum", "const"):
        _enum(ctx, original, update)
    elif kind == "combined":
        _combined(ctx, original, update)
    elif kind == "not":
        with _Path(ctx, "not"):
            sub = ctx.sub()
            # Reversed: the new 'not' may exclude less than the old one.
            _compare(sub, update.subschemas[0], original.subschemas[0])
            if sub.changes:
                ctx.add("NOT_TYPE_NARROWED" if sub.compatible else "NOT_TYPE_EXTENDED")
    elif kind == "object":
        _object(ctx, original, update)
    elif kind == "array":
        _array(ctx, original, update)


def _rule_prefix(keyword: str) -> str:
    """Confluent's difference prefix: ``exclusiveMaximum`` -> ``EXCLUSIVE_MAXIMUM``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", keyword).upper()


def _keyword_change(
    ctx: _Context,
    original: JsonNode,
    update: JsonNode,
    keyword: str,
    changed: Callable[[Any, Any], str],
) -> None:
    """Record ``<KEYWORD>_ADDED`` / ``_REMOVED``, or ``changed(old, new)`` when both have it."""
    old = original.keywords.get(keyword)
    new = update.keywords.get(keyword)
    if old == new:
        return
    with _Path(ctx, keyword):
        prefix = _rule_prefix(keyword)
        if old is None:
            ctx.add(f"{prefix}_ADDED")
        elif new is None:
            ctx.add(f"{prefix}_REMOVED")
        else:
            ctx.add(changed(old, new))


def _bounds(ctx: _Context, original: JsonNode, update: JsonNode, *keywords: str) -> None:
    for keyword in keywords:
        if isinstance(original.keywords.get(keyword), bool) or isinstance(
            update.keywords.get(keyword), bool
        ):
            # Draft 4's boolean exclusiveMaximum/Minimum modify maximum/minimum; no bound.
            continue
        _keyword_change(ctx, original, update, keyword, partial(_bound_change, keyword))


def _bound_change(keyword: str, old: float, new: float) -> str:
    return f"{_rule_prefix(keyword)}_{'INCREASED' if new > old else 'DECREASED'}"


def _multiple_of_change(old: float, new: float) -> str:
    if _divides(new, old):
        # Every old multiple is still a multiple of the new, smaller step.
        return "MULTIPLE_OF_REDUCED"
    if _divides(old, new):
        return "MULTIPLE_OF_EXPANDED"
    return "MULTIPLE_OF_CHANGED"


def _number(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    _bounds(ctx, original, update, "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum")
    _keyword_change(ctx, original, update, "multipleOf", _multiple_of_change)
    if original.integer != update.integer:
        ctx.add("TYPE_EXTENDED" if original.integer else "TYPE_NARROWED")


def _divides(step: float, value: float) -> bool:
    if step == 0:
        return False
    quotient = value / step
    return math.isclose(quotient, round(quotient))


def _enum(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    if original.values == update.values:
        return
    with _Path(ctx, original.kind):
        old, new = set(original.values), set(update.values)
        if old < new:
            ctx.add("ENUM_ARRAY_EXTENDED")
        elif new < old:
            ctx.add("ENUM_ARRAY_NARROWED")
        else:
            ctx.add("ENUM_ARRAY_CHANGED")


def _criteria(original: JsonNode, update: JsonNode, old_size: int, new_size: int) -> str | None:
    if original.criterion == update.criterion:
        return None
    if update.criterion == "anyOf" or original.criterion == "allOf":
        return "COMBINED_TYPE_EXTENDED"
    # A single alternative means the same under every criterion.
    if old_size == 1 and (new_size == 1 or update.criterion == "oneOf"):
        return "COMBINED_TYPE_EXTENDED"
    return "COMBINED_TYPE_CHANGED"


def _combined(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    old_subs = _dedup(original.subschemas)
    new_subs = _dedup(update.subschemas)
    change = _criteria(original, update, len(old_subs), len(new_subs))
    if change is not None:
        ctx.add(change)
        if change == "COMBINED_TYPE_CHANGED":
            return
    if len(old_subs) < len(new_subs):
        ctx.add("PRODUCT_TYPE_EXTENDED" if update.criterion == "allOf" else "SUM_TYPE_EXTENDED")
    elif len(old_subs) > len(new_subs):
        ctx.add("PRODUCT_TYPE_NARROWED" if original.criterion == "allOf" else "SUM_TYPE_NARROWED")

    compatible_pairs: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for i, old in enumerate(old_subs):
        for j, new in enumerate(new_subs):
            sub = ctx.sub()
            with _Path(sub, original.criterion, str(i)):
                _compare(sub, old, new)
            if sub.compatible:
                compatible_pairs[(i, j)] = sub.changes
    matching = _max_matching(len(old_subs), len(new_subs), compatible_pairs)
    if len(matching) < min(len(old_subs), len(new_subs)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")
        return
    for pair in sorted(matching):
        ctx.changes += compatible_pairs[pair]


def _max_matching(
    rows: int, cols: int, edges: dict[tuple[int, int], list[tuple[str, str]]]
) -> list[tuple[int, int]]:
    """Maximum bipartite matching of old to new sub-schemas (Kuhn's augmenting paths)."""
    match_of_col: dict[int, int] = {}

    def augment(row: int, visited: set[int]) -> bool:
        for col in range(cols):
            if (row, col) in edges and col not in visited:
                visited.add(col)
                if col not in match_of_col or augment(match_of_col[col], visited):
                    match_of_col[col] = row
                    return True
        return False

    for row in range(rows):
        augment(row, set())
    return [(row, col) for col, row in match_of_col.items()]


def _is_open(node: JsonNode) -> bool:
    return node.permits_additional and node.additional is None and not node.pattern_properties


def _partial_schema(node: JsonNode, name: str) -> JsonNode | None:
    for pattern, schema in node.pattern_properties.items():
        try:
            if re.search(pattern, name):
                return schema
        except re.error:
            continue
    return node.additional


def _object(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    _bounds(ctx, original, update, "maxProperties", "minProperties")
    with _Path(ctx, "additionalProperties"):
        _additional(ctx, original, update, "ADDITIONAL_PROPERTIES")
    _dependencies(ctx, original, update)
    _required(ctx, original, update)
    for name in dict.fromkeys([*original.properties, *update.properties]):
        with _Path(ctx, "properties", name):
            _property(ctx, original, update, name)


def _additional(ctx: _Context, original: JsonNode, update: JsonNode, prefix: str) -> None:
    if original.permits_additional != update.permits_additional:
        ctx.add(f"{prefix}_REMOVED" if original.permits_additional else f"{prefix}_ADDED")
    elif original.additional is None and update.additional is not None:
        ctx.add(f"{prefix}_NARROWED")
    elif original.additional is not None and update.additional is None:
        ctx.add(f"{prefix}_EXTENDED")
    elif original.additional is not None and not original.additional.same_as(update.additional):
        _compare(ctx, original.additional, update.additional)


def _dependencies(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    names = dict.fromkeys(
        [
            *original.dependency_arrays,
            *update.dependency_arrays,
            *original.dependency_schemas,
            *update.dependency_schemas,
        ]
    )
    for name in names:
        with _Path(ctx, "dependencies", name):
            old_arr = original.dependency_arrays.get(name)
            new_arr = update.dependency_arrays.get(name)
            if old_arr is not None or new_arr is not None:
                if old_arr is None:
                    ctx.add("DEPENDENCY_ARRAY_ADDED")
                elif new_arr is None:
                    ctx.add("DEPENDENCY_ARRAY_REMOVED")
                elif set(old_arr) != set(new_arr):
                    if set(new_arr) < set(old_arr):
                        ctx.add("DEPENDENCY_ARRAY_NARROWED")
                    elif set(new_arr) > set(old_arr):
                        ctx.add("DEPENDENCY_ARRAY_EXTENDED")
                    else:
                        ctx.add("DEPENDENCY_ARRAY_CHANGED")
            old_schema = original.dependency_schemas.get(name)
            new_schema = update.dependency_schemas.get(name)
            if old_schema is not None or new_schema is not None:
                if old_schema is None:
                    ctx.add("DEPENDENCY_SCHEMA_ADDED")
                elif new_schema is None:
                    ctx.add("DEPENDENCY_SCHEMA_REMOVED")
                else:
                    _compare(ctx, old_schema, new_schema)


def _required(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    old, new = set(original.required), set(update.required)
    for name in dict.fromkeys([*original.required, *update.required]):
        if name in new and name not in old and name in original.properties:
            prop = update.properties.get(name)
            with_default = prop is not None and prop.resolve().has_default
            rule = (
                "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                if with_default
                else "REQUIRED_ATTRIBUTE_ADDED"
            )
            ctx.add(rule, "required", name)
        elif name in old and name not in new:
            ctx.add("REQUIRED_ATTRIBUTE_REMOVED", "required", name)


def _covered(ctx: _Context, old: JsonNode, new: JsonNode, prefix: str) -> None:
    sub = ctx.sub()
    _compare(sub, old, new)
    ctx.changes += sub.changes
    ctx.add(
        f"{prefix}_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        if sub.compatible
        else f"{prefix}_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    )


def _property(ctx: _Context, original: JsonNode, update: JsonNode, name: str) -> None:
    old = original.properties.get(name)
    new = update.properties.get(name)
    if old is not None and new is not None:
        _compare(ctx, old, new)
    elif new is None and old is not None:
        if _is_open(update):
            ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
            return
        partial = _partial_schema(update, name)
        if partial is not None:
            _covered(ctx, old, partial, "PROPERTY_REMOVED")
        elif old.resolve().kind == "false":
            ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
        else:
            ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    elif new is not None:
        if _is_open(original):
            if new.resolve().kind == "empty":
                ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
            elif name in update.required:
                ctx.add("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
            else:
                ctx.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
            return
        partial = _partial_schema(original, name)
        if partial is not None:
            _covered(ctx, partial, new, "PROPERTY_ADDED")
        if name in update.required:
            ctx.add(
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
                if new.resolve().has_default
                else "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            )
        else:
            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")


def _array(ctx: _Context, original: JsonNode, update: JsonNode) -> None:
    _bounds(ctx, original, update, "maxItems", "minItems", "maxContains", "minContains")
    old_unique = bool(original.keywords.get("uniqueItems"))
    new_unique = bool(update.keywords.get("uniqueItems"))
    if old_unique != new_unique:
        with _Path(ctx, "uniqueItems"):
            ctx.add("UNIQUE_ITEMS_REMOVED" if old_unique else "UNIQUE_ITEMS_ADDED")
    with _Path(ctx, "additionalItems"):
        _additional(ctx, original, update, "ADDITIONAL_ITEMS")
    with _Path(ctx, "items"):
        _compare(ctx, original.all_items, update.all_items)
    if original.contains is not None or update.contains is not None:
        with _Path(ctx, "contains"):
            _compare(ctx, original.contains, update.contains)
    for i in range(max(len(original.item_list), len(update.item_list))):
        with _Path(ctx, "items", str(i)):
            _item(ctx, original, update, i)


def _item(ctx: _Context, original: JsonNode, update: JsonNode, i: int) -> None:
    old = original.item_list[i] if i < len(original.item_list) else None
    new = update.item_list[i] if i < len(update.item_list) else None
    if old is not None and new is not None:
        _compare(ctx, old, new)
    elif old is not None:
        if update.permits_additional and update.additional is None:
            ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
        elif update.additional is not None:
            _covered(ctx, old, update.additional, "ITEM_REMOVED")
        elif old.resolve().kind == "false":
            ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
        else:
            ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    elif new is not None:
        if original.permits_additional and original.additional is None:
            if new.resolve().kind == "empty":
                ctx.add("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
            else:
                ctx.add("ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
        elif original.additional is not None:
            _covered(ctx, original.additional, new, "ITEM_ADDED")
        else:
            ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")


def diff_json_schemas(
    original: JsonNode,
    update: JsonNode,
    *,
    direction: str = "BACKWARD",
    version: str | None = None,
) -> list[Finding]:
    """Every difference from ``original`` to ``update``, incompatible ones marked.

    The update is backward compatible with the original when no finding has
    ``compatible=False``.
    """
    ctx = _Context()
    _compare(ctx, original, update)
    return [
        Finding(
            rule=rule,
            path=path,
            message=_message(rule),
            compatible=rule in COMPATIBLE_CHANGES,
            direction=direction,
            version=version,
        )
        for rule, path in ctx.changes
    ]
