"""Decoders fed arbitrary bytes and mutated valid encodings raise only DecodeError.

Every codec in generated/ (each topic's key and value codec, each record type's codec) and
the registry wire-format codec on top of them, with a real registry: a consumer must be
able to dead-letter a bad record by catching :class:`gen_topics.errors.DecodeError`, so
no other exception may come out of ``decode``, and no input may hang it (pytest-timeout
ends a hanging test). Hypothesis keeps the run bounded (a few dozen examples per codec).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from gen_topics.codecs import Codec, get_codec
from gen_topics.errors import DecodeError
from gen_topics.registry import SchemaRegistryClient
from gen_topics.registry.codec import RegistryCodec, frame, registry_codec
from generator.compiler import build_model
from tests.generator.avro_strategies import datum_strategy
from tests.generator.roundtrip import record_codecs
from tests.jsonschema.test_roundtrip_property import FORMATS, bundle

ROOT = Path(__file__).resolve().parents[2]
MODEL = build_model(ROOT / "schemas")
EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _topic_codecs() -> list[tuple[str, Codec[Any]]]:
    out = []
    for topic in MODEL.topics:
        module = importlib.import_module(f"generated.{topic.module}")
        for side in ("KEY", "VALUE"):
            codec = get_codec(getattr(module, f"{side}_CODEC"))
            assert codec is not None
            out.append((f"{topic.descriptor.topic}-{side.lower()}", codec))
    return out


CODECS = _topic_codecs() + [(name, codec) for name, codec, _ in record_codecs(MODEL, "generated")]
_JSON_FILES = {p.read_text(encoding="utf-8"): p for p in (ROOT / "schemas").rglob("*.json")}


def _valid_encodings(codec: Codec[Any]) -> st.SearchStrategy[bytes]:
    """Bytes the codec accepts: fastavro's encoding of drawn data, or drawn JSON records."""
    schema_type = getattr(codec, "schema_type", None)
    if schema_type == "AVRO":
        parsed = fastavro.parse_schema(json.loads(codec.schema_text))  # type: ignore[attr-defined]

        def write(datum: Any) -> bytes:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, datum)
            return buf.getvalue()

        return datum_strategy(json.loads(codec.schema_text)).map(write)  # type: ignore[attr-defined]
    if schema_type == "JSON":
        source = _JSON_FILES[codec.schema_text]  # type: ignore[attr-defined]
        document = bundle(source.relative_to(ROOT / "schemas").as_posix())
        return from_schema(document, custom_formats=FORMATS).map(lambda v: json.dumps(v).encode())
    return st.one_of(st.text().map(str.encode), st.binary(max_size=64))


@st.composite
def _mutated(draw: st.DrawFn, seeds: st.SearchStrategy[bytes]) -> bytes:
    """A valid encoding with a few edits: the bytes a bug or a bit flip would produce."""
    data = bytearray(draw(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "varint"]))
        if edit == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif edit == "truncate":
            del data[at:]
        elif edit == "varint":
            # A huge length or block count: 0xff... continues a zig-zag varint to 2**63.
            data[at:at] = b"\xff" * draw(st.integers(1, 10)) + b"\x01"
    return bytes(data)


def _inputs(codec: Codec[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=256), _mutated(_valid_encodings(codec)))


def _decodes_or_raises_decode_error(decode: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


def test_every_generated_codec_is_fuzzed() -> None:
    records = [n for n, t in MODEL.registry.types.items() if t.kind == "record"]
    assert len(CODECS) == 2 * len(MODEL.topics) + len(records)
    assert {getattr(c, "schema_type", "plain") for _, c in CODECS} == {"AVRO", "JSON", "plain"}


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("name", "codec"), CODECS, ids=[name for name, _ in CODECS])
def test_decode_raises_only_decode_error(name: str, codec: Codec[Any]) -> None:
    @FUZZ
    @given(_inputs(codec))
    def check(data: bytes) -> None:
        _decodes_or_raises_decode_error(codec.decode, data)

    check()


def _with_extra_field(schema_text: str) -> str:
    """A writer schema the reader resolves: the record plus a field the reader skips."""
    schema = json.loads(schema_text)
    schema["fields"] = [*schema["fields"], {"name": "fuzz_extra", "type": "long", "default": 0}]
    return json.dumps(schema)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    # Hypothesis calls the check synchronously; the registry client needs one loop.
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


REGISTRY_CASES = ["customers-value", "orders-value", "shipment-status-value"]


@pytest.mark.registry
@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_registry_codec_decode_raises_only_decode_error(
    name: str, registry_url: str, loop: asyncio.AbstractEventLoop
) -> None:
    inner = dict(CODECS)[name]
    client = SchemaRegistryClient(registry_url)
    codec: RegistryCodec[Any] = registry_codec(
        inner,  # type: ignore[arg-type]
        client=client,
        topic=f"fuzz-{uuid.uuid4().hex[:8]}",
        is_key=False,
    )
    try:
        loop.run_until_complete(codec.prepare())
        assert codec.schema_id is not None
        framed = [
            _mutated(_valid_encodings(inner)).map(lambda p: frame(codec.schema_id or 0, p)),
            st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=64)).map(lambda t: frame(*t)),
        ]
        text: str = inner.schema_text  # type: ignore[attr-defined]
        top = json.loads(text)
        if isinstance(top, dict) and top.get("type") == "record":
            # Records written with a newer schema: decoded through schema resolution.
            writer = _with_extra_field(text)
            writer_id = loop.run_until_complete(client.register(f"{codec.subject}-w", writer))
            parsed = fastavro.parse_schema(json.loads(writer))

            def write(datum: Any) -> bytes:
                buf = io.BytesIO()
                fastavro.schemaless_writer(buf, parsed, {**datum, "fuzz_extra": 7})
                return buf.getvalue()

            seeds = datum_strategy(json.loads(text)).map(write)
            framed.append(_mutated(seeds).map(lambda p: frame(writer_id, p)))

        @FUZZ
        @given(st.one_of(st.binary(max_size=64), *framed))
        def check(data: bytes) -> None:
            _decodes_or_raises_decode_error(codec.decode, data)
            _decodes_or_raises_decode_error(
                lambda d: loop.run_until_complete(codec.decode_async(d)), data
            )

        check()
    finally:
        loop.run_until_complete(client.close())
