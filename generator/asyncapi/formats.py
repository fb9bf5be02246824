"""What gen-topics writes into, and reads from, AsyncAPI documents: schema formats, the Kafka
binding's names for subject strategies, and gen-topics' own specification extensions."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ASYNCAPI_VERSION",
    "AVRO_FORMAT",
    "BINDING_VERSION",
    "CHANNEL_EXTENSION",
    "CHANNEL_EXTENSION_KEYS",
    "SOURCE_EXTENSION",
    "codec_of_schema",
    "is_avro_format",
    "is_json_format",
    "json_schema_format",
    "strategy_from_lookup",
]

ASYNCAPI_VERSION = "3.0.0"
BINDING_VERSION = "0.5.0"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"

#: Channel extension: topic settings AsyncAPI has no field for (class and module names, ...).
CHANNEL_EXTENSION = "x-gen-topics"
CHANNEL_EXTENSION_KEYS = (
    "class",
    "module",
    "compatibility",
    "subject_name_strategy",
    "acks",
    "internal",
    "on_decode_error",
    "dead_letter_topic",
)
#: Schema extension: ``{file, text}``, the exact text of the schema file a topic module embeds
#: and registers, and where it lives, so that compiling the document reproduces it byte for byte.
SOURCE_EXTENSION = "x-gen-topics-source"

# Confluent's serializer class names (gen-topics writes the Confluent wire format); Apicurio's
# names for the same strategies are read as well.
_LOOKUP_STRATEGIES = {
    "topic": "TopicNameStrategy",
    "record": "RecordNameStrategy",
    "topic_record": "TopicRecordNameStrategy",
}
_LOOKUP_ALIASES = {
    "topicnamestrategy": "topic",
    "topicidstrategy": "topic",
    "recordnamestrategy": "record",
    "recordidstrategy": "record",
    "topicrecordnamestrategy": "topic_record",
    "topicrecordidstrategy": "topic_record",
}

# JSON Schema dialects by their $schema URI, as AsyncAPI schemaFormat versions.
_DIALECTS = {
    "json-schema.org/draft-04/schema": "draft-04",
    "json-schema.org/draft-06/schema": "draft-06",
    "json-schema.org/draft-07/schema": "draft-07",
    "json-schema.org/draft/2019-09/schema": "2019-09",
    "json-schema.org/draft/2020-12/schema": "2020-12",
}

# Keywords that describe a schema without constraining it.
_ANNOTATIONS = frozenset({"title", "description", "examples", "example", "$comment", "default"})


def lookup_strategy(strategy: str) -> str:
    """The binding's ``schemaLookupStrategy`` for a descriptor's ``subject_name_strategy``."""
    return _LOOKUP_STRATEGIES[strategy]


def strategy_from_lookup(value: str) -> str | None:
    """``subject_name_strategy`` for a ``schemaLookupStrategy`` (Confluent or Apicurio names,
    short or fully qualified), or None when it names no strategy gen-topics knows."""
    return _LOOKUP_ALIASES.get(value.rsplit(".", 1)[-1].lower())


def known_lookup_strategies() -> list[str]:
    """The ``schemaLookupStrategy`` values :func:`strategy_from_lookup` understands."""
    return sorted(
        {
            *_LOOKUP_STRATEGIES.values(),
            "TopicIdStrategy",
            "RecordIdStrategy",
            "TopicRecordIdStrategy",
        }
    )


def json_schema_format(document: Any) -> str:
    """The AsyncAPI ``schemaFormat`` of a JSON Schema document, from its ``$schema``."""
    uri = document.get("$schema") if isinstance(document, dict) else None
    version = "draft-07"
    if isinstance(uri, str):
        bare = uri.split("://", 1)[-1].rstrip("#")
        version = _DIALECTS.get(bare, version)
    return f"application/schema+json;version={version}"


def is_avro_format(schema_format: str) -> bool:
    """Avro 1.x in any of AsyncAPI's spellings (``application/vnd.apache.avro...``)."""
    return schema_format.startswith("application/vnd.apache.avro")


def is_json_format(schema_format: str) -> bool:
    """JSON Schema, or the AsyncAPI Schema (a superset of JSON Schema draft 07)."""
    return schema_format.startswith(
        (
            "application/schema+json",
            "application/schema+yaml",
            "application/schema;",
            "application/vnd.aai.asyncapi",
        )
    )


def codec_of_schema(schema: Any) -> str | None:
    """The plain codec an AsyncAPI/JSON schema stands for, if it is one of gen-topics'
    conventions: ``{type: string}`` is a UTF-8 string (``str``), ``{type: string, format:
    binary}`` raw bytes (``raw``), ``{}`` any JSON value (``json``). None for a real schema."""
    if schema is True:
        return "json"
    if not isinstance(schema, dict):
        return None
    constraints = {
        k: v for k, v in schema.items() if k not in _ANNOTATIONS and not k.startswith("x-")
    }
    if not constraints:
        return "json"
    if constraints == {"type": "string"}:
        return "str"
    if constraints == {"type": "string", "format": "binary"}:
        return "raw"
    return None
