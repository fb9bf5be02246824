"""Codecs by name and as objects; Avro parsed once; errors are specific."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gen_topics.codecs import (
    AvroCodec,
    Codec,
    JsonCodec,
    RawCodec,
    SchemaCodec,
    StrCodec,
    get_codec,
    register_codec,
)
from gen_topics.errors import DecodeError, EncodeError, UnknownCodecError

ORDER_FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "string"},
    {"name": "qty", "type": "int"},
]
ORDER = json.dumps(
    {"type": "record", "name": "Order", "namespace": "com.acme", "fields": ORDER_FIELDS}
)
ORDER_V2 = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "com.acme",
        "fields": [*ORDER_FIELDS, {"name": "note", "type": "string", "default": "none"}],
    }
)


@pytest.mark.parametrize(
    ("name", "value", "data"),
    [
        ("raw", b"\x00\xff", b"\x00\xff"),
        ("str", "h\u00e9", "h\u00e9".encode()),
        ("string", "x", b"x"),
        ("json", {"a": [1, None]}, b'{"a":[1,null]}'),
    ],
)
def test_named_codecs_round_trip(name: str, value: Any, data: bytes) -> None:
    codec = get_codec(name)
    assert codec is not None
    assert codec.encode(value) == data
    assert codec.decode(data) == value


def test_get_codec_passes_objects_and_none_through() -> None:
    codec = JsonCodec()
    assert get_codec(codec) is codec
    assert get_codec(None) is None


def test_unknown_codec_name_lists_known_ones() -> None:
    with pytest.raises(UnknownCodecError, match=r"unknown codec 'msgpack'.*json.*raw"):
        get_codec("msgpack")


def test_registered_codec_is_found_by_name_and_listed_in_errors() -> None:
    from gen_topics import codecs

    codec = StrCodec()
    register_codec("test-text", codec)
    try:
        assert get_codec("test-text") is codec
        with pytest.raises(UnknownCodecError, match="test-text"):
            get_codec("test-txt")
    finally:
        del codecs._CODECS["test-text"]
    with pytest.raises(UnknownCodecError):
        get_codec("test-text")


def test_raw_rejects_non_bytes_with_the_type() -> None:
    with pytest.raises(EncodeError, match="expects bytes or str, got int"):
        RawCodec().encode(5)  # type: ignore[arg-type]


def test_json_rejects_unserializable_value() -> None:
    with pytest.raises(EncodeError, match="json codec"):
        JsonCodec().encode({1, 2})


def test_json_decode_error_is_decode_error() -> None:
    with pytest.raises(DecodeError, match="json codec"):
        JsonCodec().decode(b"{not json")


def test_avro_codec_round_trip_and_plain_binary() -> None:
    codec: AvroCodec[dict[str, Any]] = AvroCodec(ORDER)
    assert isinstance(codec, SchemaCodec) and isinstance(codec, Codec)
    assert codec.schema_type == "AVRO"
    assert codec.schema_text == ORDER
    data = codec.encode({"id": "a", "qty": 3})
    # Plain Avro binary: zigzag length 1 -> 0x02, "a", zigzag(3) -> 0x06; no magic byte.
    assert data == b"\x02a\x06"
    assert codec.decode(data) == {"id": "a", "qty": 3}


def test_avro_codec_to_and_from_hooks() -> None:
    codec = AvroCodec(
        ORDER,
        to_avro=lambda t: {"id": t[0], "qty": t[1]},
        from_avro=lambda d: (d["id"], d["qty"]),  # type: ignore[index]
    )
    assert codec.decode(codec.encode(("z", 9))) == ("z", 9)


def test_avro_schema_resolution_from_writer_schema() -> None:
    old: AvroCodec[dict[str, Any]] = AvroCodec(ORDER)
    new: AvroCodec[dict[str, Any]] = AvroCodec(ORDER_V2)
    data = old.encode({"id": "a", "qty": 1})
    assert new.decode_with_writer_schema(data, ORDER) == {"id": "a", "qty": 1, "note": "none"}


def test_avro_encode_error_names_codec() -> None:
    codec: AvroCodec[Any] = AvroCodec(ORDER, name="order")
    with pytest.raises(EncodeError, match="avro codec 'order'"):
        codec.encode({"id": "a", "qty": "not an int"})


def test_avro_encode_error_names_expected_and_given_types() -> None:
    codec: AvroCodec[Any] = AvroCodec(ORDER, name="order", expected="Order")
    with pytest.raises(EncodeError, match="expected Order, got str"):
        codec.encode("not an order")
    with pytest.raises(EncodeError, match="this dict does not fit the schema"):
        AvroCodec(ORDER, expected="dict").encode({"id": "a", "qty": "x"})


def test_avro_encode_error_names_the_field_path_outermost_first() -> None:
    person = json.dumps(
        {
            "type": "record",
            "name": "Person",
            "fields": [
                {"name": "name", "type": "string"},
                {
                    "name": "address",
                    "type": {
                        "type": "record",
                        "name": "Address",
                        "fields": [{"name": "street", "type": "string"}],
                    },
                },
            ],
        }
    )
    codec: AvroCodec[Any] = AvroCodec(person, name="person", expected="dict")
    with pytest.raises(EncodeError) as nested:
        codec.encode({"name": "Ada", "address": {"street": 5}})
    text = str(nested.value)
    assert "does not fit the schema at field address.street: TypeError: " in text, text
    assert "on field" not in text
    with pytest.raises(EncodeError) as top:
        codec.encode({"name": 5, "address": {"street": "Main St"}})
    assert "at field name: TypeError: " in str(top.value), str(top.value)


def test_avro_named_unions_read_the_branch_name() -> None:
    union = json.dumps(
        [
            {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]},
            {"type": "record", "name": "B", "fields": [{"name": "x", "type": "int"}]},
        ]
    )
    # The same shape in both branches: only the name read back tells them apart.
    named: AvroCodec[Any] = AvroCodec(union, named_unions=True)
    plain: AvroCodec[Any] = AvroCodec(union)
    data = plain.encode(("B", {"x": 1}))
    assert named.decode(data) == ("B", {"x": 1})
    assert plain.decode(data) == {"x": 1}


def test_avro_truncated_data_is_decode_error() -> None:
    with pytest.raises(DecodeError, match="avro codec"):
        AvroCodec(ORDER).decode(b"\x02")


def test_avro_invalid_schema_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="invalid schema"):
        AvroCodec('{"type": "no-such-type"}')


def test_named_avro_explains_a_schema_is_needed() -> None:
    codec = get_codec("avro")
    assert codec is not None
    with pytest.raises(EncodeError, match=r"needs a schema.*AvroCodec"):
        codec.encode({})
