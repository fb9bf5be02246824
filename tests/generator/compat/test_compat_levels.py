"""Compatibility levels, JSON Schema directions, references and robustness of the checker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.compat import CompatibilityLevel, InvalidLevelError, check_compatibility, parse_level
from generator.compat.avro_schema import AvroSchemaError
from generator.compat.jsonschema import diff_json_schemas
from generator.compat.jsonschema_model import JsonSchemaParseError, load_json_schema_data
from tests.paths import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "compat"


def _closed(*names: str) -> str:
    return json.dumps(
        {
            "type": "object",
            "properties": {n: {"type": "string"} for n in names},
            "additionalProperties": False,
        }
    )


@pytest.mark.parametrize(
    ("level", "compatible"),
    [("BACKWARD", True), ("FORWARD", False), ("FULL", False), ("NONE", True)],
)
def test_json_levels_apply_both_directions(level: str, compatible: bool) -> None:
    # Adding an optional property to a closed model: old data still validates (backward),
    # but old readers reject new data carrying it (forward).
    report = check_compatibility("JSON", _closed("a", "b"), [_closed("a")], level)
    assert report.compatible is compatible
    if not compatible:
        assert {f.direction for f in report.findings} == {"FORWARD"}
        assert report.findings[0].rule == "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
        assert report.findings[0].path == "#/properties/b"


def test_transitive_checks_every_version_newest_first() -> None:
    v1 = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    v2 = json.dumps(
        {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 0}]}
    )
    v3 = json.dumps({"type": "record", "name": "R", "fields": []})
    # v3 drops 'a': fine for readers of v3; v2 readers have a default, v1 readers do not.
    assert check_compatibility("AVRO", v3, [v1, v2], "FORWARD").compatible
    report = check_compatibility("AVRO", v3, [v1, v2], "FORWARD_TRANSITIVE")
    assert not report.compatible
    assert report.checked == ("v2", "v1")
    assert [f.version for f in report.findings] == ["v1"]
    assert report.findings[0].rule == "READER_FIELD_MISSING_DEFAULT_VALUE"


def test_avro_references_define_named_types() -> None:
    money = json.dumps({"type": "fixed", "name": "Money", "namespace": "x", "size": 8})
    uses = json.dumps({"type": "record", "name": "P", "fields": [{"name": "m", "type": "x.Money"}]})
    assert check_compatibility("AVRO", uses, [uses], references=[money]).compatible
    with pytest.raises(AvroSchemaError, match=r"unknown type 'x\.Money'"):
        check_compatibility("AVRO", uses, [uses])


def test_json_external_refs_resolve_through_documents() -> None:
    address_v1 = {
        "$id": "https://ex/address.json",
        "type": "object",
        "properties": {"z": {"type": "string"}},
    }
    address_v2 = {**address_v1, "properties": {"z": {"type": "integer"}}}
    user = json.dumps(
        {"$id": "https://ex/user.json", "properties": {"home": {"$ref": "address.json"}}}
    )
    report = check_compatibility(
        "JSON",
        user,
        [user],
        new_documents={"https://ex/address.json": address_v2},
        history_documents={"https://ex/address.json": address_v1},
    )
    assert [(f.rule, f.path) for f in report.findings] == [
        ("TYPE_CHANGED", "#/properties/home/properties/z")
    ]
    with pytest.raises(JsonSchemaParseError, match="no schema document found"):
        check_compatibility("JSON", user, [user])


def test_recursive_json_schema_terminates() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            }
        },
        "$ref": "#/$defs/node",
    }
    assert diff_json_schemas(load_json_schema_data(tree), load_json_schema_data(tree)) == []


def test_levels_parse() -> None:
    assert parse_level("full_transitive") is CompatibilityLevel.FULL_TRANSITIVE
    assert CompatibilityLevel.FULL.backward and CompatibilityLevel.FULL.forward
    with pytest.raises(InvalidLevelError, match="BACKWARD_TRANSITIVE"):
        parse_level("strict")


def _karapace() -> list[Any]:
    path = CORPUS / "jsonschema_compat_cases_karapace.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("case", _karapace(), ids=lambda c: str(c["source"]).split("/", 1)[-1])
def test_karapace_json_cases_load_and_diff(case: dict[str, Any]) -> None:
    """Karapace's corpus disagrees with Confluent on some verdicts (we follow Confluent),
    but every schema in it must load and diff without an error."""
    findings = diff_json_schemas(
        load_json_schema_data(case["old"]), load_json_schema_data(case["new"])
    )
    assert all(f.rule.isupper() and f.path.startswith("#/") for f in findings)
