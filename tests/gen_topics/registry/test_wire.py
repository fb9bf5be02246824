"""Confluent wire format: framing, subjects, edge cases and schema evolution (real registry)."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from gen_topics.codecs import AvroCodec, SchemaCodec
from gen_topics.errors import DecodeError, EncodeError
from gen_topics.registry import IncompatibleSchemaError, SchemaReference, SchemaRegistryClient
from gen_topics.registry.codec import RegistryCodec, frame, registry_codec, unframe
from gen_topics.registry.subjects import SubjectNameError, subject_name
from tests.gen_topics.registry.helpers import avro_record, unique

USER_V1 = avro_record("User", [{"name": "id", "type": "long"}])
# BACKWARD change: a field with a default is added.
USER_V2 = avro_record(
    "User", [{"name": "id", "type": "long"}, {"name": "email", "type": "string", "default": "?"}]
)
# FORWARD change: a field that had a default is removed.
ORDER_V1 = avro_record(
    "Order", [{"name": "id", "type": "long"}, {"name": "note", "type": "string", "default": "-"}]
)
ORDER_V2 = avro_record("Order", [{"name": "id", "type": "long"}])


class TextJsonCodec(SchemaCodec[dict[str, Any]]):
    """A minimal JSON Schema codec (dicts as UTF-8 JSON) to exercise the JSON wire format."""

    schema_type = "JSON"

    def __init__(self, schema_text: str) -> None:
        self.schema_text = schema_text
        self.name = "json-test"

    def encode(self, value: dict[str, Any]) -> bytes:
        return json.dumps(value).encode()

    def decode(self, data: bytes) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(data)
        return result

    def decode_with_writer_schema(self, data: bytes, writer_schema_text: str) -> dict[str, Any]:
        return self.decode(data)


# -- framing (no registry) ------------------------------------------------------------------


def test_frame_layout_is_magic_then_big_endian_id() -> None:
    framed = frame(0x01020304, b"payload")
    assert framed == b"\x00\x01\x02\x03\x04payload"
    assert unframe(framed) == (0x01020304, b"payload")


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00\x00\x01"], ids=["empty", "1", "4"])
def test_short_record_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="too short"):
        unframe(data)


def test_wrong_magic_byte_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="magic byte 0x01"):
        unframe(b"\x01\x00\x00\x00\x01rest")


def test_subject_name_strategies() -> None:
    assert subject_name("topic", topic="orders", is_key=False) == "orders-value"
    assert subject_name("topic", topic="orders", is_key=True) == "orders-key"
    kw: dict[str, Any] = {"topic": "orders", "is_key": False, "schema_text": USER_V1}
    assert subject_name("record", **kw) == "test.gen.User"
    assert subject_name("topic_record", **kw) == "orders-test.gen.User"
    titled = json.dumps({"title": "Shipment", "type": "object"})
    assert (
        subject_name("record", topic="t", is_key=False, schema_type="JSON", schema_text=titled)
        == "Shipment"
    )
    with pytest.raises(SubjectNameError, match="title"):
        subject_name("record", topic="t", is_key=False, schema_type="JSON", schema_text="{}")
    with pytest.raises(SubjectNameError, match="unknown subject name strategy"):
        subject_name("bogus", topic="t", is_key=False)


def test_unprepared_codec_refuses_to_encode() -> None:
    client = SchemaRegistryClient("http://127.0.0.1:9")
    codec = registry_codec(AvroCodec[Any](USER_V1), client=client, topic="t", is_key=False)
    with pytest.raises(EncodeError, match="not prepared"):
        codec.encode({"id": 1})


# -- against the real registry ------------------------------------------------------------


@pytest.mark.registry
@pytest.mark.parametrize("strategy", ["topic", "record", "topic_record"])
async def test_encode_frames_with_registered_id(registry_url: str, strategy: str) -> None:
    topic = unique("wire")
    async with SchemaRegistryClient(registry_url) as client:
        codec = registry_codec(
            AvroCodec[Any](USER_V1), client=client, topic=topic, is_key=False, strategy=strategy
        )
        await codec.prepare()
        await codec.prepare()  # idempotent
        expected_subject = {
            "topic": f"{topic}-value",
            "record": "test.gen.User",
            "topic_record": f"{topic}-test.gen.User",
        }[strategy]
        assert codec.subject == expected_subject
        latest = await client.get_latest(expected_subject)
        data = codec.encode({"id": 42})
        assert data[0] == 0
        assert struct.unpack(">I", data[1:5])[0] == latest.schema_id == codec.schema_id
        assert data[5:] == AvroCodec[Any](USER_V1).encode({"id": 42})
        assert codec.decode(data) == {"id": 42}
        assert await codec.decode_async(data) == {"id": 42}


@pytest.mark.registry
async def test_json_schema_wire_format(registry_url: str) -> None:
    topic = unique("wire-json")
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}})
    async with SchemaRegistryClient(registry_url) as client:
        codec = registry_codec(TextJsonCodec(schema), client=client, topic=topic, is_key=True)
        await codec.prepare()
        data = codec.encode({"a": 1})
        assert data[:5] == frame(codec.schema_id or 0, b"")
        assert json.loads(data[5:]) == {"a": 1}
        # A fresh consumer-side codec fetches the writer schema by id.
        reader = registry_codec(TextJsonCodec(schema), client=client, topic=topic, is_key=True)
        assert await reader.decode_async(data) == {"a": 1}
        assert (await client.get_latest(f"{topic}-key")).schema_type == "JSON"


@pytest.mark.registry
async def test_decode_edge_cases_are_decode_errors(registry_url: str) -> None:
    topic = unique("wire-edge")
    async with SchemaRegistryClient(registry_url) as client:
        codec = registry_codec(AvroCodec[Any](USER_V1), client=client, topic=topic, is_key=False)
        for bad, match in [
            (b"\x00\x00", "too short"),
            (b"\x07\x00\x00\x00\x01\x02", "magic byte 0x07"),
            (frame(2_000_000_000, b"\x02"), "unknown schema id 2000000000"),
        ]:
            with pytest.raises(DecodeError, match=match) as info:
                await codec.decode_async(bad)
            assert info.value.topic == topic
            assert info.value.field == "value"
            assert topic in str(info.value)
        # Sync decode of an id never fetched: a DecodeError, not a crash.
        with pytest.raises(DecodeError, match="not cached"):
            codec.decode(frame(123456, b"\x02"))
        # A writer schema of another type is rejected with both types named.
        # (Apicurio cannot tell a bare {"type": "object"} from other types: give it properties.)
        json_schema = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})
        json_id = await client.register(unique("json-subj"), json_schema, "JSON")
        with pytest.raises(DecodeError, match="JSON schema"):
            await codec.decode_async(frame(json_id, b"{}"))
        # Garbage payload behind a valid header: the inner codec's DecodeError.
        await codec.prepare()
        with pytest.raises(DecodeError):
            await codec.decode_async(frame(codec.schema_id or 0, b"\xff\xff\xff\xff\xff\xff"))


async def _codec(
    client: SchemaRegistryClient, topic: str, schema: str, *, auto_register: bool = True
) -> RegistryCodec[Any]:
    codec = registry_codec(
        AvroCodec[Any](schema),
        client=client,
        topic=topic,
        is_key=False,
        auto_register=auto_register,
    )
    await codec.prepare()
    return codec


@pytest.mark.registry
async def test_backward_change_both_directions(registry_url: str) -> None:
    """v2 adds a field with a default: v2 consumers read v1 data and v1 consumers read v2 data."""
    topic = unique("evolve-bw")
    async with SchemaRegistryClient(registry_url) as client:
        producer_v1 = await _codec(client, topic, USER_V1)
        await client.set_config("BACKWARD", f"{topic}-value")
        producer_v2 = await _codec(client, topic, USER_V2)
        assert producer_v1.schema_id != producer_v2.schema_id
        old_record = producer_v1.encode({"id": 1})
        new_record = producer_v2.encode({"id": 2, "email": "a@b"})
        # Fresh consumers (separate clients: nothing cached) on each version.
        async with SchemaRegistryClient(registry_url) as other:
            consumer_v2 = registry_codec(
                AvroCodec[Any](USER_V2), client=other, topic=topic, is_key=False
            )
            consumer_v1 = registry_codec(
                AvroCodec[Any](USER_V1), client=other, topic=topic, is_key=False
            )
            assert await consumer_v2.decode_async(old_record) == {"id": 1, "email": "?"}
            assert await consumer_v2.decode_async(new_record) == {"id": 2, "email": "a@b"}
            assert await consumer_v1.decode_async(new_record) == {"id": 2}
            assert await consumer_v1.decode_async(old_record) == {"id": 1}


@pytest.mark.registry
async def test_forward_change_both_directions(registry_url: str) -> None:
    """v2 drops a field that had a default: v1 consumers read v2 data (default filled in)."""
    topic = unique("evolve-fw")
    async with SchemaRegistryClient(registry_url) as client:
        producer_v1 = await _codec(client, topic, ORDER_V1)
        await client.set_config("FORWARD", f"{topic}-value")
        producer_v2 = await _codec(client, topic, ORDER_V2)
        old_record = producer_v1.encode({"id": 1, "note": "rush"})
        new_record = producer_v2.encode({"id": 2})
        async with SchemaRegistryClient(registry_url) as other:
            consumer_v1 = registry_codec(
                AvroCodec[Any](ORDER_V1), client=other, topic=topic, is_key=False
            )
            consumer_v2 = registry_codec(
                AvroCodec[Any](ORDER_V2), client=other, topic=topic, is_key=False
            )
            assert await consumer_v1.decode_async(new_record) == {"id": 2, "note": "-"}
            assert await consumer_v2.decode_async(old_record) == {"id": 1}
            # Now cached: the synchronous path works too.
            assert consumer_v1.decode(new_record) == {"id": 2, "note": "-"}


@pytest.mark.registry
async def test_registry_rejects_incompatible_producer(registry_url: str) -> None:
    topic = unique("evolve-bad")
    async with SchemaRegistryClient(registry_url) as client:
        await _codec(client, topic, USER_V1)
        await client.set_config("BACKWARD", f"{topic}-value")
        breaking = avro_record("User", [{"name": "id", "type": "string"}])
        codec = registry_codec(AvroCodec[Any](breaking), client=client, topic=topic, is_key=False)
        with pytest.raises(IncompatibleSchemaError, match="409") as info:
            await codec.prepare()
        assert info.value.status == 409
        assert codec.schema_id is None


@pytest.mark.registry
async def test_without_auto_register_uses_the_registered_version(registry_url: str) -> None:
    topic = unique("noauto")
    async with SchemaRegistryClient(registry_url) as client:
        with pytest.raises(EncodeError, match="not registered under subject"):
            await _codec(client, topic, USER_V1, auto_register=False)
        registered = await client.register(f"{topic}-value", USER_V1)
        codec = await _codec(client, topic, USER_V1, auto_register=False)
        assert codec.schema_id == registered
        assert await client.get_versions(f"{topic}-value") == [1]


def test_inline_avro_references_builds_a_standalone_schema() -> None:
    import fastavro

    from gen_topics.registry.references import inline_avro_references

    money = avro_record("Money", [{"name": "cents", "type": "long"}], namespace="com.x")
    item = avro_record("Item", [{"name": "price", "type": "com.x.Money"}], namespace="com.y")
    order = avro_record(
        "Order",
        [
            {"name": "item", "type": "com.y.Item"},
            {"name": "total", "type": "com.x.Money"},
            {"name": "items", "type": {"type": "array", "items": "com.y.Item"}},
        ],
        namespace="com.y",
    )
    text = inline_avro_references(order, {"com.y.Item": item, "com.x.Money": money})
    parsed = json.loads(text)
    # Each named type defined once, at its first use, then referenced by name.
    assert parsed["fields"][0]["type"]["name"] == "Item"
    assert parsed["fields"][0]["type"]["fields"][0]["type"]["name"] == "Money"
    assert parsed["fields"][1]["type"] == "com.x.Money"
    assert parsed["fields"][2]["type"]["items"] == "com.y.Item"
    fastavro.parse_schema(parsed)


@pytest.mark.registry
async def test_consumer_resolves_writer_schema_with_references(registry_url: str) -> None:
    """A record written with a schema that uses registry references decodes after inlining."""
    topic = unique("wire-refs")
    address_subject = unique("test.gen.Address")
    address = avro_record("Address", [{"name": "city", "type": "string"}])
    person_ref = avro_record("Person", [{"name": "home", "type": "test.gen.Address"}])
    standalone_v1 = json.dumps(
        {**json.loads(person_ref), "fields": [{"name": "home", "type": json.loads(address)}]}
    )
    reader_v2 = json.dumps(
        {
            **json.loads(standalone_v1),
            "fields": [
                *json.loads(standalone_v1)["fields"],
                {"name": "age", "type": "int", "default": -1},
            ],
        }
    )
    async with SchemaRegistryClient(registry_url) as client:
        await client.register(address_subject, address)
        ref = SchemaReference("test.gen.Address", address_subject, 1)
        writer_id = await client.register(f"{topic}-value", person_ref, references=[ref])
        payload = AvroCodec[Any](standalone_v1).encode({"home": {"city": "Delft"}})
    async with SchemaRegistryClient(registry_url) as fresh:
        consumer = registry_codec(
            AvroCodec[Any](reader_v2), client=fresh, topic=topic, is_key=False
        )
        decoded = await consumer.decode_async(frame(writer_id, payload))
    assert decoded == {"home": {"city": "Delft"}, "age": -1}
