"""JSON Schema documents loaded into the typed nodes the diff compares.

Mirrors how the Everit validator (which Confluent's checker runs on) sees a
schema: ``type`` keywords become typed nodes (a list of types becomes ``anyOf``),
keywords without ``type`` still imply their kind (``properties`` -> object), and a
schema combining several kinds (``type: string`` + ``enum``) becomes an implied
``allOf``. Local ``$ref`` (``#/definitions/x``, ``#/$defs/x``, any JSON pointer) is
resolved lazily so recursive schemas load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin

from generator.compat.findings import SchemaTextError

__all__ = ["JsonNode", "JsonSchemaParseError", "load_json_schema", "load_json_schema_data"]


class JsonSchemaParseError(SchemaTextError):
    """The text is not a JSON Schema the checker can read; the message names the pointer."""


_STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_OBJECT_KEYS = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "unevaluatedProperties",
)
_ARRAY_KEYS = (
    "items",
    "additionalItems",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
)


@dataclass(eq=False)
class JsonNode:
    """One schema as the diff sees it.

    ``kind`` is one of ``empty`` (``{}`` / ``true``), ``false``, ``string``, ``number``,
    ``boolean``, ``null``, ``object``, ``array``, ``enum``, ``const``, ``not``,
    ``combined``. ``raw`` is the source JSON (used for equality); keywords the kind
    uses are in ``keywords``; sub-schemas are nodes.
    """

    kind: str
    raw: Any
    keywords: dict[str, Any] = field(default_factory=dict)
    integer: bool = False
    criterion: str = ""  # allOf / anyOf / oneOf for combined nodes
    subschemas: list[JsonNode] = field(default_factory=list)
    properties: dict[str, JsonNode] = field(default_factory=dict)
    pattern_properties: dict[str, JsonNode] = field(default_factory=dict)
    additional: JsonNode | None = None  # schema of additional properties / items
    permits_additional: bool = True
    all_items: JsonNode | None = None
    item_list: list[JsonNode] = field(default_factory=list)
    contains: JsonNode | None = None
    dependency_arrays: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dependency_schemas: dict[str, JsonNode] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # canonical JSON of enum/const values
    target: Callable[[], JsonNode] | None = None  # a $ref, resolved on demand
    has_default: bool = False

    def resolve(self) -> JsonNode:
        """Follow ``$ref`` chains to the schema they name."""
        node = self
        hops = 0
        while node.target is not None:
            node = node.target()
            hops += 1
            if hops > 64:
                raise JsonSchemaParseError("$ref chain loops without reaching a schema")
        return node

    def same_as(self, other: JsonNode | None) -> bool:
        """Structural equality: same kind read from the same source JSON."""
        return (
            other is not None
            and (self.kind, self.integer, self.criterion)
            == (other.kind, other.integer, other.criterion)
            and _canonical(self.raw) == _canonical(other.raw)
        )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _Loader:
    def __init__(
        self,
        root: Any,
        bases: Sequence[str] = (),
        documents: Mapping[str, Any] | None = None,
        shared: dict[str, _Loader] | None = None,
    ) -> None:
        self.root = root
        self.bases = list(bases)
        own_id = root.get("$id") if isinstance(root, dict) else None
        if isinstance(own_id, str) and "://" in own_id:
            self.bases.insert(0, own_id)
        self.documents = documents or {}
        self.shared = shared if shared is not None else {}
        self.cache: dict[str, JsonNode] = {}

    def _external(self, ref: str) -> JsonNode:
        tried = []
        for base in self.bases or [""]:
            uri = urljoin(base, ref)
            doc_uri, _, fragment = uri.partition("#")
            tried.append(doc_uri)
            if doc_uri in self.shared:
                return self.shared[doc_uri].pointer("#" + fragment)
            if doc_uri in self.documents:
                loader = _Loader(self.documents[doc_uri], [doc_uri], self.documents, self.shared)
                self.shared[doc_uri] = loader
                return loader.pointer("#" + fragment)
        raise JsonSchemaParseError(
            f"$ref {ref!r}: no schema document found (looked for {', '.join(tried)}); "
            "put the referenced file in the same schemas folder or give it that $id"
        )

    def pointer(self, ref: str) -> JsonNode:
        if ref in self.cache:
            return self.cache[ref]
        if not ref.startswith("#"):
            node = self._external(ref)
            self.cache[ref] = node
            return node
        target: Any = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, list) and key.isdigit():
                target = target[int(key)]
            elif isinstance(target, dict) and key in target:
                target = target[key]
            else:
                raise JsonSchemaParseError(f"$ref {ref!r} does not point into the schema")
        node = self.load(target, ref)
        self.cache[ref] = node
        return node

    def load(self, data: Any, where: str) -> JsonNode:
        if data is True:
            return JsonNode("empty", data)
        if data is False:
            return JsonNode("false", data)
        if not isinstance(data, dict):
            raise JsonSchemaParseError("a schema must be an object or a boolean", where)
        if isinstance(data.get("$ref"), str):
            ref = data["$ref"]
            return JsonNode("ref", data, target=lambda: self.pointer(ref))
        parts = self._kinds(data, where)
        if not parts:
            node = JsonNode("empty", data)
        elif len(parts) == 1:
            node = parts[0]
        else:
            node = JsonNode("combined", data, criterion="allOf", subschemas=parts)
        # Annotations belong to the schema as a whole.
        for key in ("$id", "id", "title", "description", "default"):
            if key in data:
                node.keywords.setdefault(key, data[key])
        node.has_default = "default" in data
        return node

    def _kinds(self, data: dict[str, Any], where: str) -> list[JsonNode]:
        parts: list[JsonNode] = []
        declared = data.get("type")
        if isinstance(declared, list):
            typed = [self._typed(str(t), data, where) for t in declared]
            parts.append(JsonNode("combined", data, criterion="anyOf", subschemas=typed))
        elif isinstance(declared, str):
            parts.append(self._typed(declared, data, where))
        else:
            if any(k in data for k in _STRING_KEYS):
                parts.append(self._typed("string", data, where))
            if any(k in data for k in _NUMBER_KEYS):
                parts.append(self._typed("number", data, where))
            if any(k in data for k in _OBJECT_KEYS):
                parts.append(self._typed("object", data, where))
            if any(k in data for k in _ARRAY_KEYS):
                parts.append(self._typed("array", data, where))
        if "enum" in data and isinstance(data["enum"], list):
            values = tuple(sorted(_canonical(v) for v in data["enum"]))
            parts.append(JsonNode("enum", {"enum": data["enum"]}, values=values))
        if "const" in data:
            parts.append(
                JsonNode("const", {"const": data["const"]}, values=(_canonical(data["const"]),))
            )
        if "not" in data:
            inner = self.load(data["not"], f"{where}/not")
            parts.append(JsonNode("not", {"not": data["not"]}, subschemas=[inner]))
        for criterion in ("allOf", "anyOf", "oneOf"):
            if isinstance(data.get(criterion), list):
                subs = [
                    self.load(sub, f"{where}/{criterion}/{i}")
                    for i, sub in enumerate(data[criterion])
                ]
                parts.append(
                    JsonNode(
                        "combined",
                        {criterion: data[criterion]},
                        criterion=criterion,
                        subschemas=subs,
                    )
                )
        return parts

    def _typed(self, kind: str, data: dict[str, Any], where: str) -> JsonNode:
        if kind == "integer":
            node = JsonNode("number", data, integer=True)
        elif kind in ("string", "number", "boolean", "null", "object", "array"):
            node = JsonNode(kind, data)
        else:
            raise JsonSchemaParseError(
                f"unknown type {kind!r}; expected string, number, integer, boolean, null, "
                "object or array",
                f"{where}/type",
            )
        keys = {"string": _STRING_KEYS, "number": _NUMBER_KEYS}.get(node.kind, ())
        for key in keys:
            if key in data:
                node.keywords[key] = data[key]
        if node.kind == "object":
            self._object(node, data, where)
        elif node.kind == "array":
            self._array(node, data, where)
        return node

    def _object(self, node: JsonNode, data: dict[str, Any], where: str) -> None:
        for key in ("minProperties", "maxProperties"):
            if key in data:
                node.keywords[key] = data[key]
        props = data.get("properties")
        if isinstance(props, dict):
            node.properties = {
                name: self.load(sub, f"{where}/properties/{name}") for name, sub in props.items()
            }
        patterns = data.get("patternProperties")
        if isinstance(patterns, dict):
            node.pattern_properties = {
                pattern: self.load(sub, f"{where}/patternProperties/{pattern}")
                for pattern, sub in patterns.items()
            }
        # unevaluatedProperties (2019-09+) closes the content model like additionalProperties.
        for key in ("additionalProperties", "unevaluatedProperties"):
            if key in data:
                extra = data[key]
                if extra is False:
                    node.permits_additional = False
                elif extra is not True:
                    node.additional = self.load(extra, f"{where}/{key}")
                break
        required = data.get("required")
        if isinstance(required, list):
            node.required = tuple(str(r) for r in required)
        deps: dict[str, Any] = {}
        for key in ("dependencies", "dependentRequired", "dependentSchemas"):
            if isinstance(data.get(key), dict):
                deps.update(data[key])
        for name, dep in deps.items():
            if isinstance(dep, list):
                node.dependency_arrays[name] = tuple(str(d) for d in dep)
            else:
                node.dependency_schemas[name] = self.load(dep, f"{where}/dependencies/{name}")

    def _array(self, node: JsonNode, data: dict[str, Any], where: str) -> None:
        for key in ("minItems", "maxItems", "uniqueItems", "minContains", "maxContains"):
            if key in data:
                node.keywords[key] = data[key]
        items = data.get("items")
        prefix = data.get("prefixItems")
        extra_key = None
        if isinstance(prefix, list):
            # 2020-12: prefixItems is the tuple, items is what follows it.
            node.item_list = [
                self.load(s, f"{where}/prefixItems/{i}") for i, s in enumerate(prefix)
            ]
            extra_key = "items" if "items" in data else None
        elif isinstance(items, list):
            node.item_list = [self.load(s, f"{where}/items/{i}") for i, s in enumerate(items)]
            extra_key = "additionalItems" if "additionalItems" in data else None
        elif items is False:
            node.permits_additional = False
        elif isinstance(items, dict):
            node.all_items = self.load(items, f"{where}/items")
        if extra_key is None and "unevaluatedItems" in data:
            extra_key = "unevaluatedItems"
        if extra_key is None and "additionalItems" in data and not isinstance(prefix, list):
            extra_key = "additionalItems"
        if extra_key is not None:
            extra = data[extra_key]
            if extra is False:
                node.permits_additional = False
            elif extra is not True:
                node.additional = self.load(extra, f"{where}/{extra_key}")
        if "contains" in data:
            node.contains = self.load(data["contains"], f"{where}/contains")


def load_json_schema_data(
    data: Any, *, base: str = "", documents: Mapping[str, Any] | None = None
) -> JsonNode:
    """Load an already-parsed JSON Schema document.

    ``base`` is the document's own URI (e.g. ``file:///.../x.json``); ``documents`` maps
    the URIs (file URIs and ``$id``s) of other documents that ``$ref`` may name.
    """
    return _Loader(data, [base] if base else [], documents).load(data, "#")


def load_json_schema(
    text: str, *, base: str = "", documents: Mapping[str, Any] | None = None
) -> JsonNode:
    """Load JSON Schema text; raise :class:`JsonSchemaParseError` if it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JsonSchemaParseError(f"not JSON: {exc}") from exc
    return load_json_schema_data(data, base=base, documents=documents)
