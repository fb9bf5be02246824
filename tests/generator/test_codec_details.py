"""The specialised codec's building blocks against their references: uuid.UUID for UUID
text, fastavro for decimals, varints, times and timestamps, including values at and past
the edges (where the answer is an error, both sides fail)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import uuid
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_topics import _avro_resolve
from gen_topics.errors import DecodeError, EncodeError
from generated import _avro_codec as codec
from generated import payments
from generator.avro.codec_code import _LOGICAL_READS, _on_cycles


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    """("value", result) or ("error", exception type name)."""
    try:
        return "value", fn(*args)
    except Exception as exc:
        return "error", type(exc).__name__


_HEXISH = st.text(alphabet="0123456789abcdefABCDEF-{}urn:+_ xg", min_size=30, max_size=40)


@given(st.one_of(st.uuids().map(str), _HEXISH))
def test_uuid_text_is_parsed_as_uuid_parses_it(text: str) -> None:
    for parse in (codec._uuid_from_str, _avro_resolve._uuid_from_str):
        ours, reference = _outcome(parse, text), _outcome(uuid.UUID, text)
        assert ours[0] == reference[0]
        if ours[0] == "value":
            assert ours[1] == reference[1] and ours[1].is_safe == reference[1].is_safe


@given(st.uuids())
def test_uuid_text_is_written_as_str_writes_it(u: uuid.UUID) -> None:
    assert codec._uuid_str(u) == str(u)


def _fastavro(schema: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), datum)
    return buf.getvalue()


def _read_back(schema: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema), None)


@settings(max_examples=300)
@given(st.integers(-(10**12), 10**12), st.integers(-4, 4), st.integers(1, 18), st.integers(0, 6))
def test_decimals_encode_as_fastavro_encodes_them(
    unscaled: int, exponent: int, precision: int, scale: int
) -> None:
    scale = min(scale, precision)
    value = decimal.Decimal(unscaled).scaleb(exponent)
    as_bytes = {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    ours = _outcome(codec._decimal_bytes, value, precision, scale)
    reference = _outcome(_fastavro, as_bytes, value)
    assert ours[0] == reference[0]
    if ours[0] == "value":
        assert reference[1][1:] == ours[1]  # fastavro's bytes carry the length prefix
    size = 8
    as_fixed = {
        "type": "fixed",
        "name": "F",
        "size": size,
        "logicalType": "decimal",
        "precision": precision,
        "scale": scale,
    }
    ours = _outcome(codec._decimal_fixed, value, precision, scale, size)
    reference = _outcome(_fastavro, as_fixed, value)
    if value.is_zero() and value.is_signed():
        # fastavro writes a negative zero as -2 units (a bug); gen-topics writes zero.
        assert ours == ("value", bytes(size))
        return
    if reference[0] == "value" and (
        len(reference[1]) != size or _read_back(as_fixed, reference[1]) != value
    ):
        # fastavro writes too many bytes, or drops the top ones (its 8 bytes then read back
        # as another number): the value does not fit, and gen-topics says so.
        assert ours[0] == "error"
        return
    assert ours == reference or (ours[0] == reference[0] == "error")


@given(st.integers(-(2**63), 2**63 - 1))
def test_longs_round_trip_and_match_fastavro(n: int) -> None:
    out = bytearray()
    z = (n << 1) ^ (n >> 63)
    if z < 128:
        out.append(z)
    else:
        codec._write_long(out, z)
    assert bytes(out) == _fastavro("long", n)
    assert codec._read_long(bytes(out), 0) == (n, len(out))


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1, 2**100])
def test_longs_past_64_bits_are_encode_errors(n: int) -> None:
    with pytest.raises(OverflowError):
        codec._write_long(bytearray(), (n << 1) ^ (n >> 63))


def test_a_varint_longer_than_ten_bytes_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="longer than 10 bytes"):
        payments.KEY_CODEC.decode(b"\xff" * 11 + b"\x01")


@pytest.mark.parametrize("data", [b"", b"\x08ab", b"\x01abc", b"\x81\x01abc"])
def test_short_or_negative_lengths_are_decode_errors(data: bytes) -> None:
    with pytest.raises(DecodeError):
        payments.KEY_CODEC.decode(data)


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**40), 2**40))
def test_times_read_as_fastavro_reads_them(millis: int, micros: int) -> None:
    """Also out of a day's range: fastavro's arithmetic, hence its result or its error."""
    for logical, base, n in (("time-millis", "int", millis), ("time-micros", "long", micros)):
        schema = fastavro.parse_schema({"type": base, "logicalType": logical})
        data = _fastavro(base, n)
        reference = _outcome(fastavro.schemaless_reader, io.BytesIO(data), schema, None)
        inline = _outcome(eval, _LOGICAL_READS[logical].format("n"), {"_dt": dt, "n": n})
        resolved = _outcome(getattr(_avro_resolve, "_" + logical.replace("-", "_")), n)
        assert inline == reference == resolved


@given(st.datetimes(timezones=st.just(dt.UTC)))
def test_timestamps_convert_as_fastavro_converts_them(when: dt.datetime) -> None:
    for logical, unit in (
        ("timestamp-millis", "_MILLISECOND"),
        ("timestamp-micros", "_MICROSECOND"),
    ):
        schema = {"type": "long", "logicalType": logical}
        n = (when - codec._EPOCH) // getattr(codec, unit)
        assert _fastavro(schema, when) == _fastavro("long", n)


def test_naive_and_integer_timestamps_follow_fastavro() -> None:
    from gen_topics import _avro_values as avro_values

    naive = dt.datetime(2020, 5, 17, 3, 4, 5, 678000)
    schema = {"type": "long", "logicalType": "timestamp-millis"}
    assert _fastavro(schema, naive) == _fastavro("long", avro_values.timestamp_millis(naive))
    assert avro_values.timestamp_millis(1234) == 1234
    assert avro_values.date_days("2020-01-01") == 18262
    with pytest.raises(TypeError, match="not a valid timestamp-millis"):
        avro_values.timestamp_millis("yesterday")


def test_a_wrong_type_in_a_union_is_an_encode_error_naming_the_union() -> None:
    from tests.generator.test_resolution import _payment

    payment = _payment()
    payment.risk_score = "high"  # type: ignore[assignment]
    with pytest.raises(EncodeError, match=r"'high' \(type str\) is none of float \| None"):
        payments.VALUE_CODEC.encode(payment)


def _on_a_cycle_by_search(edges: dict[str, set[str]]) -> set[str]:
    """The obvious quadratic definition: a node that some path leads back to."""
    found: set[str] = set()
    for start in edges:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node == start:
                found.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
    return found


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), st.sets(st.sampled_from("abcdefghij"), max_size=4))
)
def test_records_on_a_cycle_are_the_ones_a_search_finds(edges: dict[str, set[str]]) -> None:
    # Edges may point at nodes without edges of their own (i, j): records without records.
    assert _on_cycles(edges) == _on_a_cycle_by_search(edges)


def test_a_long_chain_is_not_recursive_and_a_ring_is() -> None:
    chain = {f"r{i}": {f"r{i - 1}"} if i else set() for i in range(5000)}
    assert _on_cycles(chain) == set()
    ring = {f"r{i}": {f"r{(i + 1) % 5000}"} for i in range(5000)}
    assert _on_cycles(ring) == set(ring)
