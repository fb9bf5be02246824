"""Finding schemas: descriptor references, cross-file $refs, ids, naming and errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from generator.errors import GeneratorError
from generator.jsonschema import JsonSchemaCompiler, JsonSchemaError
from generator.jsonschema.naming import class_name_for, module_parts_for
from generator.jsonschema.staging import InvalidDefaultWarning


def write(root: Path, relative: str, document: Any) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


OBJECT = {"type": "object", "properties": {"a": {"type": "string"}}}


@pytest.mark.parametrize(
    ("relative", "parts"),
    [
        ("json/shipments/shipment_event.json", ("shipments", "shipment_event")),
        ("json/ContactPoint.schema.json", ("contact_point",)),
        ("events/dependabot-2.0.json", ("events", "dependabot_2_0")),
        ("json/class.json", ("class_",)),
        ("json/2fa.json", ("schema_2fa",)),
        ("json.json", ("json",)),
    ],
)
def test_module_names_come_from_the_path(relative: str, parts: tuple[str, ...]) -> None:
    assert module_parts_for(PurePosixPath(relative)) == parts


@pytest.mark.parametrize(
    ("title", "filename", "name"),
    [
        ("ShipmentEvent", "x.json", "ShipmentEvent"),
        ("shipment event", "x.json", "ShipmentEvent"),
        ("JSON schema for Babel 6", "x.json", "JSONSchemaForBabel6"),
        (None, "shipment_key.json", "ShipmentKey"),
        ("", "URI.schema.json", "URI"),
        (None, "3d-point.json", "Schema3dPoint"),
    ],
)
def test_class_names_come_from_title_else_file_name(
    title: object, filename: str, name: str
) -> None:
    assert class_name_for(title, filename) == name


def test_resolve_by_relative_path_and_by_id(tmp_path: Path) -> None:
    write(tmp_path, "json/a.json", {"$id": "https://x.example/a.json", "title": "Alpha", **OBJECT})
    descriptor = tmp_path / "topics" / "t.topic.yaml"
    compiler = JsonSchemaCompiler(tmp_path)
    by_path = compiler.resolve("../json/a.json", descriptor, 4)
    by_id = compiler.resolve("https://x.example/a.json", descriptor, 5)
    assert by_path == by_id
    assert (by_path.module, by_path.class_name) == ("jsonmodels.a", "Alpha")
    assert by_path.source == (tmp_path / "json/a.json").resolve()


def test_unknown_reference_names_descriptor_and_line(tmp_path: Path) -> None:
    write(tmp_path, "json/a.json", OBJECT)
    descriptor = tmp_path / "t.topic.yaml"
    with pytest.raises(JsonSchemaError) as caught:
        JsonSchemaCompiler(tmp_path).resolve("json/b.json", descriptor, 7)
    assert caught.value.path == descriptor and caught.value.line == 7
    assert str(caught.value).startswith(f"{descriptor}:7: 'json/b.json' is neither")
    assert isinstance(caught.value, GeneratorError)


def test_a_file_that_is_not_a_schema_is_reported_when_used(tmp_path: Path) -> None:
    write(tmp_path, "json/list.json", "[1, 2]")
    write(tmp_path, "json/broken.json", "{nope")
    write(tmp_path, "json/ok.json", OBJECT)
    compiler = JsonSchemaCompiler(tmp_path)
    compiler.resolve("json/ok.json", tmp_path / "t.topic.yaml", 1)  # others do not matter
    with pytest.raises(JsonSchemaError, match="top level is a list, expected an object"):
        compiler.resolve("json/list.json", tmp_path / "t.topic.yaml", 2)
    with pytest.raises(JsonSchemaError, match="invalid JSON"):
        compiler.resolve("json/broken.json", tmp_path / "t.topic.yaml", 3)


def test_dangling_cross_file_ref_names_the_schema_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "json/a.json",
        {"type": "object", "properties": {"b": {"$ref": "missing/b.json#/$defs/B"}}},
    )
    with pytest.raises(JsonSchemaError) as caught:
        JsonSchemaCompiler(tmp_path).resolve("json/a.json", tmp_path / "t.topic.yaml", 1)
    assert caught.value.path == path
    assert caught.value.line == 5
    assert "'missing/b.json#/$defs/B' points to no schema file" in str(caught.value)


def test_refs_resolve_by_path_absolute_id_and_registry_style_id(tmp_path: Path) -> None:
    write(
        tmp_path,
        "json/common/money.json",
        {"$id": "https://x.example/money.json", "title": "Money", **OBJECT},
    )
    write(tmp_path, "json/common/user.json", {"$id": "common/user.json", "title": "User", **OBJECT})
    write(tmp_path, "json/common/tag.json", {"title": "Tag", **OBJECT})
    write(
        tmp_path,
        "json/orders/order.json",
        {
            "$id": "orders$order",  # a registry-style id, as in GitHub's webhook schemas
            "title": "Order",
            "type": "object",
            "properties": {
                "price": {"$ref": "https://x.example/money.json"},
                "buyer": {"$ref": "common/user.json"},
                "tag": {"$ref": "../common/tag.json"},
            },
            "required": ["price"],
        },
    )
    compiler = JsonSchemaCompiler(tmp_path)
    compiler.resolve("json/orders/order.json", tmp_path / "t.topic.yaml", 1)
    out = compiler.render()
    order = out["jsonmodels/orders/order.py"]
    assert "from ..common.money import Money" in order
    assert "from ..common.user import User" in order
    assert "from ..common.tag import Tag" in order
    assert "    price: Money\n" in order


def test_module_name_clash_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "json/a.json", {"type": "object", "properties": {"b": {"$ref": "../a.json"}}})
    write(tmp_path, "a.json", OBJECT)
    compiler = JsonSchemaCompiler(tmp_path)
    compiler.resolve("json/a.json", tmp_path / "t.topic.yaml", 1)
    with pytest.raises(JsonSchemaError, match=r"both become module jsonmodels\.a"):
        compiler.render()


def test_invalid_default_is_dropped_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path,
        "json/a.json",
        {
            "title": "A",
            "type": "object",
            "properties": {
                "n": {"type": "integer", "default": None},
                "m": {"anyOf": [{"type": "boolean"}, {"const": ["auto"]}], "default": "auto"},
                "ok": {"type": "integer", "default": 3},
            },
        },
    )
    compiler = JsonSchemaCompiler(tmp_path)
    compiler.resolve("json/a.json", tmp_path / "t.topic.yaml", 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = compiler.render()["jsonmodels/a.py"]
    messages = [str(w.message) for w in caught if issubclass(w.category, InvalidDefaultWarning)]
    assert len(messages) == 2
    assert any("/properties/n" in m for m in messages)
    assert "n: int | MISSING = MISSING" in source
    assert "ok: int = 3" in source


def test_non_object_root_becomes_a_usable_alias(tmp_path: Path) -> None:
    write(tmp_path, "json/sku.json", {"title": "Sku", "type": "string", "pattern": "^[A-Z]+$"})
    compiler = JsonSchemaCompiler(tmp_path)
    resolved = compiler.resolve("json/sku.json", tmp_path / "t.topic.yaml", 1)
    source = compiler.render()["jsonmodels/sku.py"]
    assert resolved.class_name == "Sku"
    assert 'Sku = TypeAliasType("Sku"' in source
