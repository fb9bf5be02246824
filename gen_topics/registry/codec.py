"""Confluent wire-format codecs: magic byte 0, a 4-byte big-endian schema id, the payload.

A :class:`RegistryCodec` wraps a generated (or runtime) :class:`SchemaCodec`: it
registers (or looks up) the codec's schema under the topic's subject once, prefixes
every encoded record with the id, and on decode fetches the writer's schema by id
and resolves it to the reader type, so a consumer built on an older or newer
compatible schema reads what the producer wrote.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Sequence
from typing import Any, TypeVar

from gen_topics.codecs import Codec, SchemaCodec
from gen_topics.errors import DecodeError, EncodeError, TransientDecodeError
from gen_topics.registry.client import SchemaRegistryClient
from gen_topics.registry.errors import (
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaRegistryError,
    SubjectNotFoundError,
)
from gen_topics.registry.models import ReferencedSchema, RegisteredSchema, SchemaReference
from gen_topics.registry.references import inline_avro_references
from gen_topics.registry.subjects import subject_name

__all__ = ["MAGIC_BYTE", "RegistryCodec", "frame", "registry_codec", "unframe"]

T = TypeVar("T")

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")
HEADER_SIZE = _HEADER.size


def frame(schema_id: int, payload: bytes) -> bytes:
    """Prefix ``payload`` with the Confluent header for ``schema_id``."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + payload


def unframe(data: bytes) -> tuple[int, bytes]:
    """Split a framed record into ``(schema_id, payload)``; :class:`DecodeError` if not framed."""
    if len(data) < HEADER_SIZE:
        raise DecodeError(
            f"record of {len(data)} bytes is too short for the schema-registry wire format "
            f"(magic byte + 4-byte schema id = {HEADER_SIZE} bytes)",
            data=data,
        )
    if data[0] != MAGIC_BYTE:
        raise DecodeError(
            f"unknown magic byte {data[0]:#04x}; the schema-registry wire format starts with "
            f"{MAGIC_BYTE:#04x} (was this record written without the registry serializer?)",
            data=data,
        )
    return int.from_bytes(data[1:HEADER_SIZE], "big"), data[HEADER_SIZE:]


def _same_schema(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


class RegistryCodec(Codec[T]):
    """Frames ``inner``'s bytes with the schema id registered under ``subject``.

    With ``auto_register`` the schema is registered on :meth:`prepare`; without, it
    must already be registered (looked up), or be the same schema as the subject's
    latest version. Implements gen_topics' ``PreparedCodec`` protocol.

    Schemas the inner codec's schema refers to (JSON Schema files named by ``$ref``)
    come from its optional ``schema_references`` attribute, a sequence of
    :class:`ReferencedSchema`: each is registered (or looked up) first, under its own
    subject, and passed as a reference, as ``gen-topics push`` does. ``references``
    names already registered ones.
    """

    def __init__(
        self,
        inner: SchemaCodec[T],
        *,
        client: SchemaRegistryClient,
        subject: str,
        auto_register: bool = True,
        references: Sequence[SchemaReference] = (),
        topic: str | None = None,
        field: str | None = None,
    ) -> None:
        self.inner = inner
        self.client = client
        self.subject = subject
        self.auto_register = auto_register
        self.references = tuple(references)
        self.referenced: tuple[ReferencedSchema, ...] = tuple(
            getattr(inner, "schema_references", ())
        )
        self.topic = topic
        self.field = field
        self.name = f"registry:{inner.name}"
        self.schema_id: int | None = None
        self._header = b""
        self._lock: asyncio.Lock | None = None
        # Writer schema text by id, with references already inlined.
        self._writers: dict[int, str] = {}
        self._same_ids: set[int] = set()

    def __repr__(self) -> str:
        return f"<RegistryCodec {self.subject!r} id={self.schema_id} inner={self.inner!r}>"

    async def prepare(self) -> None:
        """Register or look up the schema id (once; concurrent callers share the work)."""
        if self.schema_id is not None:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.schema_id is not None:
                return
            schema_id = await self._resolve_id()
            self._header = _HEADER.pack(MAGIC_BYTE, schema_id)
            self.schema_id = schema_id

    async def _reference_versions(
        self, referenced: Sequence[ReferencedSchema]
    ) -> list[SchemaReference]:
        """Register (or only look up) each referenced schema, depth first."""
        out: list[SchemaReference] = []
        for ref in referenced:
            nested = await self._reference_versions(ref.references)
            if self.auto_register:
                await self.client.register(ref.subject, ref.schema_text, ref.schema_type, nested)
            found = await self.client.lookup(ref.subject, ref.schema_text, ref.schema_type, nested)
            # A lookup under a subject always answers with the version.
            out.append(SchemaReference(ref.name, ref.subject, found.version or 1))
        return out

    async def _resolve_id(self) -> int:
        inner = self.inner
        references: list[SchemaReference] | None = None
        found_id: int | None = None
        try:
            references = [*self.references, *await self._reference_versions(self.referenced)]
            found = await self.client.lookup(
                self.subject, inner.schema_text, inner.schema_type, references
            )
            found_id = found.schema_id
        except (SchemaNotFoundError, SubjectNotFoundError):
            if self.auto_register and references is None:
                raise
        if found_id is not None:
            return found_id
        if not self.auto_register or not references:
            # Our text may be registered with references this codec does not know (push
            # registers a JSON Schema with the documents it $refs): the same text is the
            # same schema, and registering it bare would add a needless version.
            latest_id = await self._latest_if_same()
            if latest_id is not None:
                return latest_id
        if self.auto_register:
            return await self.client.register(
                self.subject, inner.schema_text, inner.schema_type, references or ()
            )
        raise EncodeError(
            f"the {inner.schema_type} schema of codec {inner.name!r} is not registered under "
            f"subject {self.subject!r} and auto-registration is off; register it first "
            "(gen-topics push) or create the App with registry_auto_register=True",
            topic=self.topic,
            field=self.field,
        )

    async def _latest_if_same(self) -> int | None:
        try:
            latest = await self.client.get_latest(self.subject)
        except SubjectNotFoundError:
            return None
        return latest.schema_id if _same_schema(latest.schema, self.inner.schema_text) else None

    def encode(self, value: T) -> bytes:
        """Encode with the inner codec and prefix the header (after :meth:`prepare`)."""
        if self.schema_id is None:
            raise EncodeError(
                f"registry codec for subject {self.subject!r} is not prepared: "
                "await codec.prepare() before encoding (Topic.send does this)",
                topic=self.topic,
                field=self.field,
            )
        return self._header + self.inner.encode(value)

    def decode(self, data: bytes) -> T:
        """Decode a record whose writer schema is already known (else :class:`DecodeError`)."""
        if data[:HEADER_SIZE] == self._header and self._header:
            return self.inner.decode(data[HEADER_SIZE:])
        schema_id, payload = self._writer_id(data)
        if schema_id is None:
            return self.inner.decode(payload)
        writer = self._writers.get(schema_id)
        if writer is None:
            raise self._error(
                f"schema id {schema_id} is not cached; use decode_async to fetch it", data
            )
        return self.inner.decode_with_writer_schema(payload, writer)

    def decode_ready(self, data: bytes) -> bool:
        """Whether :meth:`decode` can read ``data`` without fetching its writer schema."""
        if self._header and data[:HEADER_SIZE] == self._header:
            return True
        if len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
            return True  # decode() raises the framing error at once
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
        return schema_id in self._writers or schema_id in self._same_ids

    async def decode_async(self, data: bytes) -> Any:
        """Decode a record, fetching its writer schema from the registry when unknown."""
        # Fast path (the common case): our own schema id, checked without a call.
        if data[:HEADER_SIZE] == self._header and self._header:
            return self.inner.decode(data[HEADER_SIZE:])
        schema_id, _ = self._writer_id(data)
        if schema_id is not None and schema_id not in self._writers:
            await self._fetch_writer(schema_id, data)
        return self.decode(data)

    async def _fetch_writer(self, schema_id: int, data: bytes) -> None:
        try:
            found = await self.client.get_schema(schema_id)
            if found.schema_type != self.inner.schema_type:
                raise self._error(
                    f"record was written with a {found.schema_type} schema (id {schema_id}) "
                    f"but this codec reads {self.inner.schema_type}",
                    data,
                )
            text = await self._inline(found)
        except SchemaNotFoundError:
            raise self._error(
                f"unknown schema id {schema_id}: the registry at {self.client.url} has no such "
                "schema (was the record written against another registry?)",
                data,
            ) from None
        except RegistryUnavailableError as exc:
            # Not a bad record: the reader retries it (never skipped, never dead-lettered).
            raise TransientDecodeError(
                f"{self._where()}cannot fetch writer schema id {schema_id} from the registry "
                f"at {self.client.url}: {exc} (subject {self.subject!r})",
                topic=self.topic,
                field=self.field,
            ) from exc
        except SchemaRegistryError as exc:
            raise self._error(f"cannot fetch writer schema id {schema_id}: {exc}", data) from exc
        if _same_schema(text, self.inner.schema_text):
            # Our own schema under another id (another subject): no resolution needed.
            self._same_ids.add(schema_id)
        self._writers[schema_id] = text

    async def _inline(self, found: RegisteredSchema) -> str:
        if not found.references or found.schema_type != "AVRO":
            return found.schema
        referenced = await self.client.get_references(found.references)
        return inline_avro_references(found.schema, referenced)

    def _writer_id(self, data: bytes) -> tuple[int | None, bytes]:
        """``(writer schema id, payload)``; the id is None when no resolution is needed."""
        try:
            schema_id, payload = unframe(data)
        except DecodeError as exc:
            raise self._error(str(exc), data) from None
        if schema_id == self.schema_id or schema_id in self._same_ids:
            return None, payload
        return schema_id, payload

    def _where(self) -> str:
        return f"topic {self.topic!r} {self.field}: " if self.topic else ""

    def _error(self, message: str, data: bytes) -> DecodeError:
        where = self._where()
        return DecodeError(
            f"{where}{message} (subject {self.subject!r})",
            topic=self.topic,
            field=self.field,
            data=data,
        )


def registry_codec(
    inner: SchemaCodec[T],
    *,
    client: SchemaRegistryClient,
    topic: str,
    is_key: bool,
    strategy: str = "topic",
    auto_register: bool = True,
    references: Sequence[SchemaReference] = (),
) -> RegistryCodec[T]:
    """The wire-format codec for ``topic``'s key or value (the App's registry hook)."""
    subject = subject_name(
        strategy,
        topic=topic,
        is_key=is_key,
        schema_type=inner.schema_type,
        schema_text=inner.schema_text,
    )
    return RegistryCodec(
        inner,
        client=client,
        subject=subject,
        auto_register=auto_register,
        references=references,
        topic=topic,
        field="key" if is_key else "value",
    )
