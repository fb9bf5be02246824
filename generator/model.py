"""The intermediate model the renderer works from: topics with resolved key/value payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.avro.model import AvroRegistry, AvroType
from generator.avro.type_names import PyName
from generator.descriptors import TopicDescriptor

if TYPE_CHECKING:
    from generator.jsonschema.compiler import JsonType
    from generator.jsonschema.index import SchemaIndex
    from generator.render import RenderSetup


@dataclass(frozen=True)
class AvroPayload:
    """An Avro-typed key or value: its type, embedded schema text and fingerprint."""

    type: AvroType
    schema_text: str
    fingerprint: int  # CRC-64-AVRO of the Parsing Canonical Form, unsigned


@dataclass(frozen=True)
class JsonPayload:
    """A key or value typed by a JSON Schema (a pydantic model from the JSON compiler)."""

    json_type: JsonType
    source: str  # the schema file, relative to the schemas folder


@dataclass(frozen=True)
class CodecPayload:
    """A key or value using a named runtime codec: ``raw`` (bytes), ``str`` or ``json``."""

    codec: str


Payload = AvroPayload | JsonPayload | CodecPayload


@dataclass(frozen=True)
class TopicModel:
    """One topic to generate a module for."""

    descriptor: TopicDescriptor
    class_name: str
    module: str
    key: Payload
    value: Payload


@dataclass
class CompileModel:
    """Everything one compilation produces files from."""

    registry: AvroRegistry
    names: dict[str, PyName]
    topics: list[TopicModel]
    json_files: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    #: The JSON Schema documents the JSON topics were resolved in (None without JSON topics).
    json_index: SchemaIndex | None = None
    #: Worked out by the compiler beside its checks (None: :func:`generator.render.render`
    #: works it out itself).
    render_setup: RenderSetup | None = None
