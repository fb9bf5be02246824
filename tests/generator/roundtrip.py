"""Shared check: generated record classes round-trip exactly with fastavro (both ways)."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Callable
from typing import Any

import fastavro
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from generator.avro.model import Ref
from generator.avro.text import schema_text
from generator.model import CompileModel
from tests.generator.avro_strategies import datum_strategy


def record_codecs(
    model: CompileModel, package: str, codec_module: str = "_avro_codec"
) -> list[tuple[str, Any, str]]:
    """(full name, codec, standalone schema text) for every record type of ``model``,
    with the specialised functions of ``codec_module`` (compiled: ``_avro_codec_native``)."""
    support = importlib.import_module(f"{package}._avro_support")
    codecs = importlib.import_module(f"{package}.{codec_module}")
    out = []
    for fullname, nt in sorted(model.registry.types.items()):
        if nt.kind != "record":
            continue
        py = model.names[fullname]
        cls = getattr(importlib.import_module(".".join((package, *py.module))), py.name)
        text = schema_text(Ref(fullname), model.registry)
        codec = support.AvroTypeCodec(
            text,
            fingerprint=0,
            to_avro=cls.to_avro,
            from_avro=cls.from_avro,
            encoder=_encoder(codecs.WRITERS[fullname]),
            decoder=_decoder(codecs.READERS[fullname]),
            classes=codecs.CLASSES,
            readers=codecs.READERS,
            resolvers=codecs.RESOLVERS,
            name=fullname,
        )
        out.append((fullname, codec, text))
    return out


def _encoder(write: Callable[[bytearray, Any], None]) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        out = bytearray()
        write(out, value)
        return bytes(out)

    return encode


def _decoder(read: Callable[[bytes, int], tuple[Any, int]]) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        value, pos = read(data, 0)
        if pos > len(data):
            raise EOFError(f"the data ends at byte {len(data)}, the value needs {pos} bytes")
        return value

    return decode


def check_round_trip(codec: Any, text: str, examples: int = 40) -> None:
    """fastavro bytes -> generated decode (== fastavro's reading through ``from_avro``) ->
    generated encode == same bytes -> fastavro reads the same data."""
    original = fastavro.parse_schema(json.loads(text))

    def read(data: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(data), original, None, return_named_type=True)

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(datum_strategy(json.loads(text)))
    def check(datum: Any) -> None:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, original, datum)
        written_by_fastavro = buf.getvalue()
        value = codec.decode(written_by_fastavro)
        # The specialised decoder builds the very object the fastavro path
        # (fastavro + from_avro) builds, and the encoder writes what that path writes.
        reference = codec._fastavro_decode(written_by_fastavro)
        assert value == reference
        assert repr(value) == repr(reference)
        written_by_generated = codec.encode(value)
        assert codec._fastavro_encode(value) == written_by_generated
        assert written_by_generated == written_by_fastavro
        assert read(written_by_generated) == read(written_by_fastavro)

    try:
        check()
    except Unsatisfiable:
        # The strategy draws nothing only for a type without any finite value (a record
        # that requires itself, as in Avro's namespace_simple.avsc): nothing to round-trip.
        return
