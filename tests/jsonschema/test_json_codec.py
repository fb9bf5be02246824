"""JsonModelCodec on the generated example models: encoding, decoding, error paths."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gen_topics import DecodeError, EncodeError
from gen_topics.json_codec import JsonDecodeError, JsonEncodeError, JsonModelCodec, field_path
from generator.jsonschema import JsonSchemaCompiler
from tests.jsonschema.conftest import SCHEMAS, write_package

EVENT_SCHEMA = (SCHEMAS / "json/shipments/shipment_event.json").read_text(encoding="utf-8")


def cancelled(events: ModuleType, **overrides: Any) -> Any:
    """A valid ShipmentEvent whose detail is a cancellation."""
    fields: dict[str, Any] = {
        "event_id": uuid.UUID("5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e001"),
        "shipment_id": uuid.UUID("5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e002"),
        "occurred_at": dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC),
        "detail": events.ShipmentCancelled(kind="cancelled", reason=events.Reason.OUT_OF_STOCK),
    }
    fields.update(overrides)
    return events.ShipmentEvent(**fields)


def created_record() -> dict[str, Any]:
    """A valid ShipmentEvent record as JSON data, with a cross-file address and contact."""
    return {
        "event_id": "5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e001",
        "shipment_id": "5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e002",
        "occurred_at": "2026-11-26T20:00:00Z",
        "source": "carrier",
        "detail": {
            "kind": "created",
            "order_id": "o-1",
            "ship_to": {
                "name": "Ada",
                "street": "1 Loop Rd",
                "city": "London",
                "postal_code": "N1 9GU",
                "country": "GB",
                "phone": None,
            },
            "contact": {"email": "ada@example.org", "locale": "en-GB"},
            "parcels": [{"sku": "SKU-0001", "quantity": 2, "weight_kg": 1.5}],
        },
    }


@pytest.fixture
def codec(events: ModuleType) -> JsonModelCodec[Any]:
    return JsonModelCodec(events.ShipmentEvent, EVENT_SCHEMA)


def test_codec_describes_its_schema(codec: JsonModelCodec[Any]) -> None:
    assert codec.schema_type == "JSON"
    assert codec.schema_text == EVENT_SCHEMA
    assert codec.name == "json:ShipmentEvent"


def test_encode_writes_defaults_and_omits_absent_properties(
    codec: JsonModelCodec[Any], events: ModuleType
) -> None:
    data = json.loads(codec.encode(cancelled(events)))
    # Required-with-default properties are written, so non-pydantic readers get them.
    assert data["source"] == "warehouse"
    assert data["attempt"] == 1
    assert data["detail"] == {"kind": "cancelled", "reason": "out-of-stock", "refund_cents": 0}
    # Optional properties never set are absent, not null (the schema forbids null for tags).
    assert "tags" not in data
    assert "note" not in data
    assert data["occurred_at"] == "2026-11-26T20:00:00Z"


def test_absent_and_null_stay_distinct(codec: JsonModelCodec[Any], events: ModuleType) -> None:
    with_null = cancelled(events, note=None)
    assert json.loads(codec.encode(with_null))["note"] is None
    assert codec.decode(codec.encode(with_null)).note is None
    absent = codec.decode(codec.encode(cancelled(events)))
    assert "note" not in absent.model_fields_set
    assert "note" not in json.loads(codec.encode(absent))


def test_decode_builds_the_union_branch_named_by_the_discriminator(
    codec: JsonModelCodec[Any], events: ModuleType, common_address: ModuleType
) -> None:
    value = codec.decode(json.dumps(created_record()).encode())
    assert type(value.detail) is events.ShipmentCreated
    assert type(value.detail.ship_to).__name__ == "Address"
    assert value.detail.ship_to.phone is None
    assert value.detail.contact.locale == "en-GB"
    assert value.source is events.Source.CARRIER
    assert value.occurred_at == dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC)
    again = json.loads(codec.encode(value))
    expected = created_record() | {"attempt": 1}  # the default is written back
    assert again == expected


@pytest.mark.parametrize(
    ("mutate", "path", "phrase"),
    [
        (
            lambda r: r["detail"]["parcels"][0].update(weight_kg=0),
            "detail.created.parcels[0].weight_kg",
            "greater than 0",
        ),
        (
            lambda r: r["detail"]["ship_to"].update(country="gb"),
            "detail.created.ship_to.country",
            "pattern",
        ),
        (lambda r: r["detail"].update(kind="lost"), "detail", "kind"),
        (lambda r: r.pop("shipment_id"), "shipment_id", "required"),
        (lambda r: r.update(occurred_at="2026-11-26T20:00:00"), "occurred_at", "timezone"),
        (lambda r: r.update(extra=1), "extra", "not permitted"),
        (lambda r: r.update(tags=None), "tags", "valid array"),
    ],
    ids=[
        "exclusive-minimum",
        "pattern",
        "unknown-kind",
        "required",
        "naive-datetime",
        "additional",
        "null-not-allowed",
    ],
)
def test_decode_error_names_the_failing_field(
    codec: JsonModelCodec[Any], mutate: Any, path: str, phrase: str
) -> None:
    record = created_record()
    mutate(record)
    data = json.dumps(record).encode()
    with pytest.raises(JsonDecodeError) as caught:
        codec.decode(data)
    error = caught.value
    assert isinstance(error, DecodeError)
    assert error.path == path
    assert path in str(error)
    assert phrase.lower() in str(error).lower()
    assert error.data == data
    assert error.errors and error.errors[0]["loc"]


def test_decode_error_for_bytes_that_are_not_json(codec: JsonModelCodec[Any]) -> None:
    with pytest.raises(JsonDecodeError, match="Invalid JSON"):
        codec.decode(b"\x00not json")


def test_encode_rejects_a_value_mutated_into_an_invalid_state(
    codec: JsonModelCodec[Any], events: ModuleType
) -> None:
    value = cancelled(events)
    value.attempt = 99  # no validate_assignment: pydantic does not check this
    with pytest.raises(JsonEncodeError) as caught:
        codec.encode(value)
    assert isinstance(caught.value, EncodeError)
    assert caught.value.path == "attempt"
    assert "field attempt" in str(caught.value) and "less than or equal to 10" in str(caught.value)


def test_encode_rejects_model_construct_without_required_fields(
    codec: JsonModelCodec[Any], events: ModuleType
) -> None:
    partial = events.ShipmentEvent.model_construct(event_id=uuid.uuid4())
    with pytest.raises(JsonEncodeError) as caught:
        codec.encode(partial)
    assert caught.value.path == "shipment_id"


def test_encode_rejects_a_value_of_another_type(codec: JsonModelCodec[Any]) -> None:
    with pytest.raises(JsonEncodeError, match="expected a ShipmentEvent, got dict"):
        codec.encode(created_record())


def test_without_encode_validation_type_mismatches_still_fail(events: ModuleType) -> None:
    fast = JsonModelCodec(events.ShipmentEvent, EVENT_SCHEMA, validate_on_encode=False)
    value = cancelled(events)
    value.attempt = 99  # a constraint violation passes: this is the documented trade-off
    assert json.loads(fast.encode(value))["attempt"] == 99
    value.attempt = "many"
    with pytest.raises(JsonEncodeError, match="attempt"):
        fast.encode(value)


def test_decode_with_writer_schema_is_a_plain_decode(codec: JsonModelCodec[Any]) -> None:
    data = json.dumps(created_record()).encode()
    assert codec.decode_with_writer_schema(data, "{}") == codec.decode(data)


def test_key_model_round_trip(keys: ModuleType) -> None:
    text = (SCHEMAS / "json/shipments/shipment_key.json").read_text(encoding="utf-8")
    codec = JsonModelCodec(keys.ShipmentKey, text)
    key = keys.ShipmentKey(shipment_id=uuid.UUID(int=7), warehouse="LON01")
    data = codec.encode(key)
    assert json.loads(data) == {"shipment_id": str(uuid.UUID(int=7)), "warehouse": "LON01"}
    assert codec.decode(data) == key
    with pytest.raises(JsonDecodeError) as caught:
        codec.decode(b'{"shipment_id": "nope", "warehouse": "LON01"}')
    assert caught.value.path == "shipment_id"


def test_field_path_formats_indexes_and_nesting() -> None:
    assert field_path(("detail", "parcels", 0, "sku")) == "detail.parcels[0].sku"
    assert field_path((3, "a")) == "[3].a"
    assert field_path(()) == ""


def test_properties_the_schema_does_not_list_are_kept(tmp_path: Path) -> None:
    schema = {
        "title": "Open",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "closed": {"$ref": "#/$defs/Closed"}},
        "$defs": {
            "Closed": {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": False,
            }
        },
    }
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "open.json").write_text(json.dumps(schema), encoding="utf-8")
    compiler = JsonSchemaCompiler(tmp_path / "schemas")
    resolved = compiler.resolve("open.json", tmp_path / "schemas" / "t.topic.yaml", 1)
    package = f"open_{uuid.uuid4().hex[:8]}"
    write_package(compiler.render(), tmp_path, package)
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(f"{package}.{resolved.module}")
    finally:
        sys.path.remove(str(tmp_path))
    codec = JsonModelCodec(module.Open, resolved.schema_text)
    record = {"id": 1, "added_by_a_newer_writer": {"x": [1, 2]}}
    value = codec.decode(json.dumps(record).encode())
    assert json.loads(codec.encode(value)) == record
    with pytest.raises(JsonDecodeError) as caught:
        codec.decode(b'{"closed": {"a": "x", "b": 1}}')
    assert caught.value.path == "closed.b"
