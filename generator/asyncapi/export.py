"""Write the topics of a compilation as one AsyncAPI 3.0 document.

A channel per topic (address = topic name) with the Kafka channel binding (partitions,
replicas, topic configuration); a message per value type (one per branch of an Avro union)
with the key schema in the Kafka message binding; every schema once, in
``components.schemas``, as a Multi Format Schema Object (Avro or JSON Schema). Where a topic
module embeds a schema file's exact text, the schema carries it (``x-gen-topics-source``), so
that compiling the document generates the same code, byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gen_topics._declare import topic_config
from generator.asyncapi.avro_view import asyncapi_view
from generator.asyncapi.document import escape
from generator.asyncapi.formats import (
    ASYNCAPI_VERSION,
    AVRO_FORMAT,
    BINDING_VERSION,
    CHANNEL_EXTENSION,
    SOURCE_EXTENSION,
    json_schema_format,
    lookup_strategy,
)
from generator.avro.model import Primitive, Ref, UnionType
from generator.avro.text import schema_text
from generator.jsonschema.index import DATA_KEYWORDS, SchemaFile, SchemaIndex, split_ref
from generator.model import AvroPayload, CodecPayload, CompileModel, JsonPayload, TopicModel

__all__ = ["Server", "dump_document", "export_document"]

# Kafka binding topicConfiguration properties that AsyncAPI types (the rest are strings, as
# Kafka takes every topic config).
_INTEGER_CONFIGS = frozenset(
    {"retention.ms", "retention.bytes", "delete.retention.ms", "max.message.bytes"}
)
_BOOLEAN_CONFIGS = frozenset(
    {"confluent.key.schema.validation", "confluent.value.schema.validation"}
)
_CODEC_SCHEMAS: dict[str, tuple[dict[str, Any], str, str]] = {
    "raw": ({"type": "string", "format": "binary"}, "application/octet-stream", "bytes"),
    "str": ({"type": "string"}, "text/plain", "string"),
    "json": ({}, "application/json", "json"),
}
_INTEGER = re.compile(r"-?\d+\Z")
# Keywords whose value maps names to schemas.
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)


@dataclass(frozen=True)
class Server:
    """A Kafka cluster the document names: ``--server NAME=URL``."""

    name: str
    host: str  # host:port[,host:port]
    protocol: str = "kafka"  # or "kafka-secure" (TLS)

    @classmethod
    def parse(cls, text: str) -> Server:
        """``prod=kafka://broker:9092`` (also ``kafka-secure://`` and a bare ``host:port``).

        Raises ``ValueError`` saying what is expected.
        """
        name, sep, url = text.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not url:
            raise ValueError(f"--server {text!r}: expected NAME=URL, e.g. prod=kafka://broker:9092")
        scheme, has_scheme, host = url.partition("://")
        if not has_scheme:
            scheme, host = "kafka", url
        if scheme not in ("kafka", "kafka-secure"):
            raise ValueError(
                f"--server {text!r}: the URL scheme must be kafka:// or kafka-secure://, "
                f"not {scheme}://"
            )
        if not all(re.fullmatch(r"[^:,/\s]+:\d+", part) for part in host.split(",")):
            raise ValueError(f"--server {text!r}: expected host:port[,host:port] after the scheme")
        return cls(name, host, scheme)


def export_document(
    model: CompileModel,
    *,
    title: str,
    version: str,
    servers: Sequence[Server] = (),
    registry_url: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``model``'s topics (plain data, deterministic).

    ``registry_url``: the schema registry the topics' schemas are registered in; the Kafka
    bindings then say that the payload starts with the schema id (Confluent wire format).
    The Kafka bindings allow that only together with a server, so it needs ``servers``.
    """
    if registry_url is not None and not servers:
        raise ValueError("a registry URL is described on servers: name at least one server")
    return _Exporter(model, registry_url).document(title, version, servers)


class _Exporter:
    def __init__(self, model: CompileModel, registry_url: str | None) -> None:
        self.model = model
        self.registry_url = registry_url
        self.schemas: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self._json_keys: dict[str, str] = {}  # file URI -> component key

    def document(self, title: str, version: str, servers: Sequence[Server]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "asyncapi": ASYNCAPI_VERSION,
            "info": {
                "title": title,
                "version": version,
                "description": "The Kafka topics of these schemas, written by gen-topics from "
                "the topic descriptors and schemas (regenerate it rather than edit it).",
            },
        }
        if servers:
            doc["servers"] = {s.name: self._server(s) for s in servers}
        channels: dict[str, Any] = {}
        for topic in self.model.topics:
            channels[topic.descriptor.topic] = self._channel(topic)
        doc["channels"] = channels
        doc["components"] = {
            "schemas": dict(sorted(self.schemas.items())),
            "messages": dict(sorted(self.messages.items())),
        }
        return doc

    def _server(self, server: Server) -> dict[str, Any]:
        out: dict[str, Any] = {"host": server.host, "protocol": server.protocol}
        if self.registry_url is not None:
            out["bindings"] = {
                "kafka": {
                    "schemaRegistryUrl": self.registry_url,
                    "schemaRegistryVendor": "confluent",
                    "bindingVersion": BINDING_VERSION,
                }
            }
        return out

    # -- channels ----------------------------------------------------------------------

    def _channel(self, topic: TopicModel) -> dict[str, Any]:
        desc = topic.descriptor
        channel: dict[str, Any] = {"address": desc.topic, "title": topic.class_name}
        if desc.doc:
            channel["description"] = desc.doc
        key = self._key(topic)
        channel["messages"] = {
            name: {"$ref": f"#/components/messages/{escape(message_id)}"}
            for name, message_id in self._messages(topic, key)
        }
        binding: dict[str, Any] = {}
        if desc.partitions is not None:
            binding["partitions"] = desc.partitions
        if desc.replicas is not None:
            binding["replicas"] = desc.replicas
        config = topic_config(
            retention=desc.retention,
            compacting=desc.compacting,
            deleting=desc.deleting,
            config=desc.config,
        )
        if config:
            binding["topicConfiguration"] = {k: _config_value(k, v) for k, v in config.items()}
        binding["bindingVersion"] = BINDING_VERSION
        channel["bindings"] = {"kafka": binding}
        extension: dict[str, Any] = {}
        if desc.class_name is not None:
            extension["class"] = desc.class_name
        if desc.module is not None:
            extension["module"] = desc.module
        if desc.compatibility is not None:
            extension["compatibility"] = desc.compatibility
        if not desc.acks:
            extension["acks"] = False
        if desc.internal:
            extension["internal"] = True
        if desc.on_decode_error is not None:
            extension["on_decode_error"] = desc.on_decode_error
        if desc.dead_letter_topic is not None:
            extension["dead_letter_topic"] = desc.dead_letter_topic
        if extension:
            channel[CHANNEL_EXTENSION] = extension
        return channel

    def _messages(self, topic: TopicModel, key: dict[str, Any] | None) -> list[tuple[str, str]]:
        """(name in the channel, id in components.messages) of each value type."""
        desc = topic.descriptor
        payload = topic.value
        entries: list[tuple[str, dict[str, Any], bool]] = []  # (name, message, has schema)
        if isinstance(payload, CodecPayload):
            schema, content_type, name = _CODEC_SCHEMAS[payload.codec]
            entries.append(
                (name, {"name": name, "contentType": content_type, "payload": dict(schema)}, False)
            )
        elif isinstance(payload, JsonPayload):
            component = self._json_component(payload)
            document = payload.json_type
            message: dict[str, Any] = {"name": document.class_name}
            schema_doc = self.schemas[component]["schema"]
            if isinstance(schema_doc.get("title"), str):
                message["title"] = schema_doc["title"]
            if isinstance(schema_doc.get("description"), str):
                message["description"] = schema_doc["description"]
            message["contentType"] = "application/json"
            message["payload"] = {"$ref": f"#/components/schemas/{escape(component)}"}
            entries.append((document.class_name, message, True))
        else:
            branches = (
                payload.type.branches if isinstance(payload.type, UnionType) else (payload.type,)
            )
            short_names = [self._avro_label(b)[0] for b in branches]
            for branch in branches:
                short, full, doc = self._avro_label(branch)
                name = short if short_names.count(short) == 1 else full
                component = self._avro_component(branch)
                message = {"name": name, "title": full}
                if doc:
                    message["summary"] = doc.strip().splitlines()[0]
                    message["description"] = doc.strip()
                message["contentType"] = "avro/binary"
                message["payload"] = {"$ref": f"#/components/schemas/{escape(component)}"}
                entries.append((name, message, True))
        out: list[tuple[str, str]] = []
        for name, message, has_schema in entries:
            kafka: dict[str, Any] = {}
            if key is not None:
                kafka["key"] = key
            if has_schema:
                if self.registry_url is not None:
                    kafka["schemaIdLocation"] = "payload"
                    kafka["schemaIdPayloadEncoding"] = "confluent"
                kafka["schemaLookupStrategy"] = lookup_strategy(desc.subject_name_strategy)
            kafka["bindingVersion"] = BINDING_VERSION
            message["bindings"] = {"kafka": kafka}
            message_id = f"{desc.topic}.{name}"
            self.messages[message_id] = message
            out.append((name, message_id))
        return out

    def _key(self, topic: TopicModel) -> dict[str, Any] | None:
        payload = topic.key
        if isinstance(payload, CodecPayload):
            return None if payload.codec == "raw" else dict(_CODEC_SCHEMAS[payload.codec][0])
        if isinstance(payload, JsonPayload):
            return {"$ref": f"#/components/schemas/{escape(self._json_component(payload))}"}
        if isinstance(payload.type, UnionType):
            name = f"{topic.descriptor.topic}-key"
            view = asyncapi_view(_avro(payload))
            component: dict[str, Any] = {"schemaFormat": AVRO_FORMAT, "schema": view}
            if view != _avro(payload):
                component[SOURCE_EXTENSION] = {"text": payload.schema_text}
            self.schemas[name] = component
            return {"$ref": f"#/components/schemas/{escape(name)}"}
        return {"$ref": f"#/components/schemas/{escape(self._avro_component(payload.type))}"}

    # -- schemas -----------------------------------------------------------------------

    def _avro_label(self, branch: Any) -> tuple[str, str, str | None]:
        """(short name, full name, doc) of a union branch."""
        if isinstance(branch, Ref):
            nt = self.model.registry.named(branch)
            return nt.name, nt.fullname, nt.doc
        assert isinstance(branch, Primitive)
        return branch.name, branch.name, None

    def _avro_component(self, t: Any) -> str:
        """The components.schemas key of an Avro named type or primitive (added once)."""
        registry = self.model.registry
        if isinstance(t, Ref):
            key = t.fullname
        else:
            assert isinstance(t, Primitive) and t.logical is None
            key = f"avro-{t.name}"
        if key in self.schemas:
            return key
        text = schema_text(t, registry)
        original = json.loads(text)
        view = asyncapi_view(original)
        component: dict[str, Any] = {"schemaFormat": AVRO_FORMAT, "schema": view}
        nt = registry.named(t) if isinstance(t, Ref) else None
        if nt is not None and "#" not in nt.file and registry.files[nt.file].text == text:
            # The topic module embeds this file's text as it is: carry it over.
            component[SOURCE_EXTENSION] = {"file": nt.file, "text": text}
        elif view != original:
            # AsyncAPI's Avro schema is stricter than Avro: keep the text the code embeds.
            component[SOURCE_EXTENSION] = {"text": text}
        self.schemas[key] = component
        return key

    def _json_component(self, payload: JsonPayload) -> str:
        index = self.model.json_index
        assert index is not None, "a JSON payload implies the JSON Schema index"
        schema = index.by_path(payload.json_type.source)
        assert schema is not None, payload.json_type.source
        for document in index.closure([schema]):
            self._json_key(document)
        for document in index.closure([schema]):
            key = self._json_key(document)
            if key in self.schemas:
                continue
            self.schemas[key] = {
                "schemaFormat": json_schema_format(document.document),
                "schema": self._json_refs(document.require_document(), document, index),
                SOURCE_EXTENSION: {"file": document.relative.as_posix(), "text": document.text},
            }
        return self._json_key(schema)

    def _json_key(self, document: SchemaFile) -> str:
        """``json/shipments/shipment_event.json`` -> ``json.shipments.shipment_event.json``."""
        if document.file_uri not in self._json_keys:
            base = re.sub(r"[^A-Za-z0-9._-]", "_", document.relative.as_posix().replace("/", "."))
            key, n = base, 1
            while key in self._json_keys.values() or key in self.schemas:
                n += 1
                key = f"{base}-{n}"
            self._json_keys[document.file_uri] = key
        return self._json_keys[document.file_uri]

    def _json_refs(
        self, node: Any, document: SchemaFile, index: SchemaIndex, *, names: bool = False
    ) -> Any:
        """A copy of a schema with every ``$ref`` pointed at the document's own copies of the
        schemas (AsyncAPI tools resolve references within the document, not by ``$id``).

        ``names``: ``node`` maps names to schemas (``properties``, ``$defs``...), so a key
        like ``default`` there is a name, not the keyword.
        """
        if isinstance(node, list):
            return [self._json_refs(item, document, index) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if names:
                out[key] = self._json_refs(value, document, index)
            elif key == "$ref" and isinstance(value, str):
                out[key] = self._json_ref(value, document, index)
            elif key in DATA_KEYWORDS:
                out[key] = value
            else:
                out[key] = self._json_refs(value, document, index, names=key in _SCHEMA_MAPS)
        return out

    def _json_ref(self, ref: str, document: SchemaFile, index: SchemaIndex) -> str:
        base, fragment = split_ref(ref)
        target = index.locate(base, document) if base else document
        if target is None or target.document is None:
            return ref  # the compiler has reported it already
        pointer = f"/components/schemas/{escape(self._json_key(target))}/schema"
        if fragment.startswith("/"):
            return f"#{pointer}{fragment}"
        if fragment:
            anchor = _anchor_pointer(target.document, fragment, "")
            return f"#{pointer}{anchor}" if anchor is not None else ref
        return f"#{pointer}"


def _avro(payload: AvroPayload) -> Any:
    return json.loads(payload.schema_text)


def _anchor_pointer(node: Any, anchor: str, pointer: str) -> str | None:
    if isinstance(node, dict):
        if node.get("$anchor") == anchor or node.get("$id") == f"#{anchor}":
            return pointer
        for key, value in node.items():
            if key in DATA_KEYWORDS:
                continue
            found = _anchor_pointer(value, anchor, f"{pointer}/{escape(key)}")
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found = _anchor_pointer(item, anchor, f"{pointer}/{i}")
            if found is not None:
                return found
    return None


def _config_value(key: str, value: str) -> Any:
    if key == "cleanup.policy":
        return sorted(p.strip() for p in value.split(",") if p.strip())
    if key in _INTEGER_CONFIGS and _INTEGER.match(value):
        return int(value)
    if key in _BOOLEAN_CONFIGS and value in ("true", "false"):
        return value == "true"
    return value


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as literal blocks, no anchors (a key schema shared by
    several messages is written out each time, as readers expect)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump_document(document: dict[str, Any], *, as_json: bool) -> str:
    """The document as YAML (or JSON) text; the same document gives the same bytes."""
    if as_json:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    text: str = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text
