"""Codecs: how keys and values become bytes and back.

A codec never sees ``None``: a ``None`` value is a tombstone (a null Kafka record
value) and a null record value decodes to ``None`` for every codec.
"""

from __future__ import annotations

import io
import json
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import fastavro

from gen_topics._avro_resolve import SchemaResolutionError, resolving_decoder, same_schema
from gen_topics.errors import DecodeError, EncodeError, UnknownCodecError

__all__ = [
    "AvroCodec",
    "Codec",
    "JsonCodec",
    "PreparedCodec",
    "RawCodec",
    "SchemaCodec",
    "StrCodec",
    "get_codec",
    "register_codec",
]

T = TypeVar("T")


class Codec(ABC, Generic[T]):
    """Turns values of type ``T`` into bytes and back.

    Implementations raise :class:`EncodeError` / :class:`DecodeError` (or any
    exception, which the topic wraps with the topic name and field).
    """

    name: str = "codec"

    @abstractmethod
    def encode(self, value: T) -> bytes:
        """Serialize ``value`` (never ``None``) to bytes."""

    @abstractmethod
    def decode(self, data: bytes) -> T:
        """Deserialize ``data`` (never ``None``) to a value."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class SchemaCodec(Codec[T]):
    """A codec whose schema can be registered with a schema registry or embedded.

    ``schema_type`` is ``"AVRO"`` or ``"JSON"``; ``schema_text`` is the exact text
    that is registered.
    """

    schema_type: str
    schema_text: str

    @abstractmethod
    def decode_with_writer_schema(self, data: bytes, writer_schema_text: str) -> T:
        """Decode ``data`` written with ``writer_schema_text`` into this codec's type."""


@runtime_checkable
class PreparedCodec(Protocol):
    """A codec that needs async set-up (e.g. a registry lookup) before use.

    The topic awaits :meth:`prepare` before encoding and uses :meth:`decode_async`
    instead of ``decode`` on the consumer path.
    """

    async def prepare(self) -> None:
        """Get ready to encode; idempotent."""

    async def decode_async(self, data: bytes) -> Any:
        """Decode ``data``, possibly fetching the writer's schema first."""


class RawCodec(Codec[bytes]):
    """Passes bytes through unchanged.

    Like Faust's ``raw`` codec it also accepts ``str`` (UTF-8 encoded); anything else
    (an int key, a dict) is an :class:`EncodeError` instead of reaching the client.
    """

    name = "raw"

    def encode(self, value: bytes) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytearray | memoryview):
            return bytes(value)
        raise EncodeError(
            f"raw codec expects bytes or str, got {type(value).__name__}: {value!r:.80}"
        )

    def decode(self, data: bytes) -> bytes:
        return data


class StrCodec(Codec[str]):
    """UTF-8 text."""

    name = "str"

    def encode(self, value: str) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"str codec expects str, got {type(value).__name__}: {value!r:.80}")
        return value.encode("utf-8")

    def decode(self, data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"str codec: invalid UTF-8 at byte {exc.start}") from exc


class JsonCodec(Codec[Any]):
    """Any JSON value, via the standard library (compact separators, UTF-8)."""

    name = "json"

    def encode(self, value: Any) -> bytes:
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"json codec: {exc}") from exc

    def decode(self, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError(f"json codec: {exc}") from exc


class AvroCodec(SchemaCodec[T]):
    """Plain Avro binary (no framing); the schema is parsed once.

    ``encoder``/``decoder`` are specialised functions for this schema (generated code
    passes them): they turn a value into Avro bytes and back directly. With ``classes``
    (the generated class of each named type), ``readers`` (each record's specialised
    reader) and ``resolvers`` (its plan-following reader), data written with another schema
    is resolved straight into the generated classes (:mod:`gen_topics._avro_resolve`). Without them
    fastavro does the work: ``to_avro`` turns a value into what fastavro writes (dicts,
    lists, ...), ``from_avro`` turns what fastavro reads back into the value type. With
    ``named_unions`` a union branch of a named type is read as a ``(fullname, value)``
    tuple, so ``from_avro`` can pick the branch by type, never by shape (generated codecs
    use this). ``expected`` names the value type in an :class:`EncodeError`.

    Without ``classes``, data written with another schema (:meth:`decode_with_writer_schema`)
    is resolved by fastavro against this schema and then passed to ``from_avro``.
    """

    schema_type = "AVRO"

    def __init__(
        self,
        schema_text: str,
        *,
        to_avro: Callable[[T], object] | None = None,
        from_avro: Callable[[Any], T] | None = None,
        encoder: Callable[[T], bytes] | None = None,
        decoder: Callable[[bytes], T] | None = None,
        classes: Mapping[str, type[Any]] | None = None,
        readers: Mapping[str, Callable[[bytes, int], tuple[Any, int]]] | None = None,
        resolvers: Mapping[str, Callable[..., tuple[Any, int]]] | None = None,
        name: str = "avro",
        named_unions: bool = False,
        expected: str | None = None,
    ) -> None:
        self.schema_text = schema_text
        self.name = name
        self.expected = expected
        self._named: dict[str, Any] = {}
        try:
            self._schema = fastavro.parse_schema(json.loads(schema_text), named_schemas=self._named)
        except Exception as exc:  # fastavro raises UnknownType, SchemaParseException, ...
            raise ValueError(f"avro codec {name!r}: invalid schema: {exc}") from exc
        self._classes = classes
        self._readers = readers if readers is not None else {}
        self._planned = resolvers if resolvers is not None else {}
        self._resolvers: dict[str, Callable[[bytes], T]] = {}
        self._to_avro = to_avro
        self._from_avro = from_avro
        self._named_unions = named_unions
        self._encoder = encoder if encoder is not None else self._fastavro_encode
        self._decoder = decoder if decoder is not None else self._fastavro_decode

    def encode(self, value: T) -> bytes:
        try:
            return self._encoder(value)
        except _ENCODE_ERRORS as exc:
            detail, path = _field_path(str(exc))
            where = f" at field {path}" if path else ""
            raise EncodeError(
                f"avro codec {self.name!r}: {self._mismatch(value)}{where}: "
                f"{type(exc).__name__}: {detail}"
            ) from exc

    def _fastavro_encode(self, value: T) -> bytes:
        buf = io.BytesIO()
        datum = value if self._to_avro is None else self._to_avro(value)
        fastavro.schemaless_writer(buf, self._schema, datum)
        return buf.getvalue()

    def _mismatch(self, value: object) -> str:
        got = type(value).__name__
        if self.expected is None or got in self.expected.split(" | "):
            return f"this {got} does not fit the schema"
        return f"expected {self.expected}, got {got}"

    def decode(self, data: bytes) -> T:
        try:
            return self._decoder(data)
        except Exception as exc:  # IndexError, EOFError, ValueError, UnicodeDecodeError...
            raise DecodeError(
                f"avro codec {self.name!r}: {type(exc).__name__}: {exc}", data=data
            ) from exc

    def _fastavro_decode(self, data: bytes) -> T:
        raw: Any = fastavro.schemaless_reader(
            io.BytesIO(data), self._schema, None, return_named_type=self._named_unions
        )
        return raw if self._from_avro is None else self._from_avro(raw)

    def decode_with_writer_schema(self, data: bytes, writer_schema_text: str) -> T:
        decoder = self._resolvers.get(writer_schema_text)
        if decoder is None:
            decoder = self._resolver(writer_schema_text)
            self._resolvers[writer_schema_text] = decoder
        try:
            return decoder(data)
        except Exception as exc:  # EOFError, ValueError, SchemaResolutionError...
            raise DecodeError(
                f"avro codec {self.name!r}: {type(exc).__name__}: {exc}", data=data
            ) from exc

    def _resolver(self, writer_schema_text: str) -> Callable[[bytes], T]:
        """How to read data of ``writer_schema_text``: built once per writer schema."""
        named: dict[str, Any] = {}
        writer = fastavro.parse_schema(json.loads(writer_schema_text), named_schemas=named)
        if self._classes is None:
            # No generated classes to fill: fastavro resolves, from_avro converts.
            def fastavro_resolve(data: bytes) -> T:
                raw: Any = fastavro.schemaless_reader(
                    io.BytesIO(data), writer, self._schema, return_named_type=self._named_unions
                )
                return raw if self._from_avro is None else self._from_avro(raw)

            return fastavro_resolve
        if same_schema(writer, named, self._schema, self._named):
            return self._decoder
        try:
            resolve: Callable[[bytes], T] = resolving_decoder(
                writer,
                named,
                self._schema,
                self._named,
                self._classes,
                self._readers,
                self._planned,
            )
        except SchemaResolutionError as exc:
            failure = exc

            # Every record of this writer schema fails alike: report it at each decode.
            def unresolvable(data: bytes) -> T:
                raise failure

            return unresolvable
        return resolve


# What encoding a value that does not fit its schema raises (fastavro or generated code).
_ENCODE_ERRORS = (
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    struct.error,
)


# fastavro appends " on field NAME" to a write error at every record it unwinds through,
# innermost first: "must be string on field street on field address".
_ON_FIELDS = re.compile(r"((?:\s+on field [A-Za-z_][A-Za-z0-9_]*)+)\s*\Z")
_ON_FIELD = re.compile(r"on field ([A-Za-z_][A-Za-z0-9_]*)")


def _field_path(message: str) -> tuple[str, str]:
    """fastavro's error text without its field suffixes, and the dotted path they spell
    (outermost first: ``address.street``); the path is empty when there is none."""
    match = _ON_FIELDS.search(message)
    if match is None:
        return message, ""
    names = _ON_FIELD.findall(match.group(1))
    return message[: match.start()], ".".join(reversed(names))


class _AvroByName(Codec[Any]):
    """The named ``"avro"`` codec: needs a schema, so it only explains how to get one."""

    name = "avro"

    def encode(self, value: Any) -> bytes:
        raise EncodeError(
            "the 'avro' codec needs a schema: use AvroCodec(schema_text) "
            "or the generated topic class's codec"
        )

    def decode(self, data: bytes) -> Any:
        raise DecodeError(
            "the 'avro' codec needs a schema: use AvroCodec(schema_text) "
            "or the generated topic class's codec"
        )


_CODECS: dict[str, Codec[Any]] = {
    "raw": RawCodec(),
    "str": StrCodec(),
    "string": StrCodec(),
    "json": JsonCodec(),
    "avro": _AvroByName(),
}


def register_codec(name: str, codec: Codec[Any]) -> None:
    """Make ``codec`` available to :func:`get_codec` (and serializer arguments) as ``name``."""
    _CODECS[name] = codec


def get_codec(name_or_codec: Codec[Any] | str | None) -> Codec[Any] | None:
    """Resolve a codec name (``raw``, ``str``, ``string``, ``json``, ``avro``) or pass a codec on.

    ``None`` stays ``None`` (the caller then picks its default).
    """
    if name_or_codec is None or isinstance(name_or_codec, Codec):
        return name_or_codec
    if isinstance(name_or_codec, str):
        try:
            return _CODECS[name_or_codec]
        except KeyError:
            known = ", ".join(sorted(_CODECS))
            raise UnknownCodecError(
                f"unknown codec {name_or_codec!r}; known codecs: {known} "
                "(or pass a gen_topics.codecs.Codec instance)"
            ) from None
    # Duck-typed codecs (an object with encode/decode) are accepted as-is.
    if callable(getattr(name_or_codec, "encode", None)) and callable(
        getattr(name_or_codec, "decode", None)
    ):
        return cast(Codec[Any], name_or_codec)
    raise TypeError(
        f"serializer must be a codec name or a Codec, got {type(name_or_codec).__name__}"
    )
