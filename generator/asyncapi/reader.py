"""AsyncAPI 3 documents as compiler input: every channel with a Kafka binding becomes a topic.

A document is turned into what the other inputs are made of, so the rest of the pipeline
does not know where a topic came from:

- each channel into a topic descriptor (the same validation as ``*.topic.yaml``): its
  messages are the value type (several Avro messages are a union), the Kafka message
  binding's ``key`` the key type, the channel binding the partitions, replicas and config;
- each Avro schema in it into a schema of the one Avro name registry (like an ``.avsc``);
- each inline JSON Schema into a document of the JSON Schema index (like a ``.json`` file).

Problems name the document, the line and the JSON pointer (``#/channels/orders/...``).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator.asyncapi.avro_view import asyncapi_view
from generator.asyncapi.document import Document, load_document, pointer_join, unescape
from generator.asyncapi.formats import (
    CHANNEL_EXTENSION,
    CHANNEL_EXTENSION_KEYS,
    SOURCE_EXTENSION,
    codec_of_schema,
    is_avro_format,
    is_json_format,
    known_lookup_strategies,
    strategy_from_lookup,
)
from generator.asyncapi.inputs import AsyncApiInputs, Origin
from generator.avro.model import NAMED_KINDS, PRIMITIVES
from generator.descriptors import topic_from_node
from generator.errors import GeneratorError, ProblemCollector
from generator.input_files import ASYNCAPI_SUFFIXES
from generator.jsonschema.index import DATA_KEYWORDS
from generator.suggest import did_you_mean
from generator.yaml_lines import Node

__all__ = ["ASYNCAPI_SUFFIXES", "AsyncApiInputs", "is_asyncapi_file", "read_documents"]

_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")
_NOT_IN_NAMES = {
    "components",
    "schemas",
    "messages",
    "channels",
    "payload",
    "schema",
    "bindings",
    "kafka",
}


def is_asyncapi_file(name: str) -> bool:
    """Whether a file name is an AsyncAPI document gen-topics compiles."""
    return name.endswith(ASYNCAPI_SUFFIXES)


def read_documents(root: Path, paths: Iterable[Path], problems: ProblemCollector) -> AsyncApiInputs:
    """Read every AsyncAPI document in ``paths`` (files under ``root``), recording problems."""
    out = AsyncApiInputs()
    for path in paths:
        rel = path.relative_to(root).as_posix()
        out.sources.append(rel)
        try:
            doc = load_document(path, rel)
        except GeneratorError as exc:
            problems.extend(exc)
            continue
        _Reader(root, doc, problems, out).read()
    # A named type belongs to the first schema that defines it: let that be the file it came
    # from (then generated code embeds that file's text, as it did) before the standalone
    # schemas of payloads, which define it again inside.
    out.avro.sort(key=lambda source: "#" in source[0])
    return out


@dataclass(frozen=True)
class _Schema:
    """A key or value schema found in a document."""

    kind: str  # "avro" | "json" | a codec: "str" | "raw" | "json-any"
    pointer: str
    names: tuple[str, ...] = ()  # Avro: type names (several: a union)
    json_ref: str = ""  # JSON Schema: a path relative to the document, or a file URI

    @property
    def identity(self) -> tuple[str, tuple[str, ...], str]:
        return (self.kind, self.names, self.json_ref)

    def describe(self) -> str:
        if self.kind == "avro":
            return "Avro " + " | ".join(self.names)
        if self.kind == "json":
            return f"JSON Schema {self.json_ref}"
        return {"str": "a string", "raw": "bytes", "json-any": "any JSON"}[self.kind]


@dataclass
class _Resolved:
    value: Any
    pointer: str
    external: str | None = None  # a $ref to a file: the reference as written


class _Reader:
    """Reads one document into ``out``."""

    def __init__(
        self, root: Path, doc: Document, problems: ProblemCollector, out: AsyncApiInputs
    ) -> None:
        self.root = root.resolve()
        self.doc = doc
        self.problems = problems
        self.out = out
        self.folder = (self.root / doc.file).parent
        self.folder_rel = PurePosixPath(doc.file).parent
        self._avro_done: dict[str, tuple[str, ...]] = {}
        self._avro_names: set[str] = {name for name, _ in out.avro}
        self._json_done: dict[str, Path] = {}

    def error(self, pointer: str, message: str) -> None:
        self.problems.add(
            self.doc.file, self.doc.line(pointer), f"{message} (at {self.doc.where(pointer)})"
        )

    # -- the document ------------------------------------------------------------------

    def read(self) -> None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error("", "expected an AsyncAPI document: a mapping starting 'asyncapi: 3.0.0'")
            return
        version = data.get("asyncapi")
        if not isinstance(version, str) or not version.startswith("3."):
            self.error(
                "/asyncapi" if "asyncapi" in data else "",
                f"expected an AsyncAPI 3 document ('asyncapi: 3.0.0'), got asyncapi: {version!r}",
            )
            return
        self._components()
        channels = data.get("channels", {})
        if not isinstance(channels, dict):
            self.error("/channels", "'channels' must map channel ids to channels")
            return
        for channel_id, channel in channels.items():
            self._channel(channel_id, channel, pointer_join("/channels", channel_id))

    def _components(self) -> None:
        """Register every Avro schema of ``components.schemas`` (payloads refer to their
        named types by name) and every JSON Schema that carries its file."""
        components = self.doc.data.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        if not isinstance(schemas, dict):
            return
        for key, schema in schemas.items():
            pointer = pointer_join("/components/schemas", key)
            if not isinstance(schema, dict) or not isinstance(schema.get("schemaFormat"), str):
                continue
            if is_avro_format(schema["schemaFormat"]) and "$ref" not in _as_dict(
                schema.get("schema")
            ):
                self._avro(schema, pointer)
            elif is_json_format(schema["schemaFormat"]) and SOURCE_EXTENSION in schema:
                self._json_inline(schema.get("schema"), f"{pointer}/schema", schema, pointer)

    def deref(self, value: Any, pointer: str) -> _Resolved | None:
        """Follow ``$ref``s inside the document; a reference to a file is returned as such."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref: str = value["$ref"]
            if not ref.startswith("#"):
                return _Resolved(value, pointer, ref)
            target = ref[1:]
            if target in seen:
                self.error(pointer, f"$ref {ref!r} is part of a cycle of references")
                return None
            seen.add(target)
            found, value = self.doc.get(target)
            if not found:
                self.error(f"{pointer}/$ref", f"$ref {ref!r} points to nothing in this document")
                return None
            pointer = target
        return _Resolved(value, pointer)

    # -- channels ----------------------------------------------------------------------

    def _channel(self, channel_id: str, channel: Any, pointer: str) -> None:
        resolved = self.deref(channel, pointer)
        if resolved is None:
            return
        ch, pointer = resolved.value, resolved.pointer
        if resolved.external is not None:
            self.error(pointer, "a channel $ref to another file is not supported; inline it")
            return
        if not isinstance(ch, dict):
            self.error(pointer, "a channel must be a mapping")
            return
        kafka = self._kafka_binding(ch.get("bindings"), f"{pointer}/bindings")
        if kafka is None:
            return  # not a Kafka channel: nothing to generate
        binding, bpointer = kafka
        topic = binding.get("topic") or ch.get("address") or channel_id
        where = f"{bpointer}/topic" if "topic" in binding else f"{pointer}/address"
        if not isinstance(topic, str) or "{" in topic or not _TOPIC_NAME.match(topic):
            self.error(
                where,
                f"channel {channel_id!r}: {topic!r} is not a Kafka topic name (1-249 of "
                "[A-Za-z0-9._-], no parameters); set the address or bindings.kafka.topic",
            )
            return
        settings: dict[str, Node] = {}
        self._binding_settings(binding, bpointer, settings)
        if isinstance(ch.get("description"), str):
            settings["doc"] = Node(
                ch["description"].strip(), self.doc.line(f"{pointer}/description")
            )
        self._extension(ch.get(CHANNEL_EXTENSION), f"{pointer}/{CHANNEL_EXTENSION}", settings)
        if not self._messages(ch, pointer, topic, settings):
            # Stands in for the value whose problem is reported: no follow-on "no value".
            settings["value_serializer"] = Node("raw", self.doc.line(pointer))
        self.out.descriptors.append(
            topic_from_node(
                topic, Node(settings, self.doc.line(pointer)), self.doc.file, self.problems
            )
        )

    def _kafka_binding(self, bindings: Any, pointer: str) -> tuple[dict[str, Any], str] | None:
        if bindings is None:
            return None
        resolved = self.deref(bindings, pointer)
        if resolved is None or not isinstance(resolved.value, dict):
            return None
        kafka = resolved.value.get("kafka")
        if kafka is None:
            return None
        inner = self.deref(kafka, f"{resolved.pointer}/kafka")
        if inner is None:
            return None
        if not isinstance(inner.value, dict):
            self.error(inner.pointer, "the Kafka channel binding must be a mapping")
            return None
        return inner.value, inner.pointer

    def _binding_settings(
        self, binding: dict[str, Any], pointer: str, settings: dict[str, Node]
    ) -> None:
        for name in ("partitions", "replicas"):
            if name in binding:
                settings[name] = Node(binding[name], self.doc.line(f"{pointer}/{name}"))
        config = binding.get("topicConfiguration")
        cpointer = f"{pointer}/topicConfiguration"
        if config is None:
            return
        if not isinstance(config, dict):
            self.error(cpointer, "topicConfiguration must map Kafka topic configs to values")
            return
        rest: dict[str, Node] = {}
        for key, value in config.items():
            vpointer = pointer_join(cpointer, key)
            line = self.doc.line(vpointer)
            if key == "cleanup.policy":
                if not isinstance(value, list) or not set(value) <= {"compact", "delete"}:
                    self.error(
                        vpointer,
                        f"cleanup.policy: expected a list of 'compact' and 'delete', got {value!r}",
                    )
                    continue
                # Only what is on: an unset policy must stay unset (the broker's default).
                if "compact" in value:
                    settings["compacting"] = Node(True, line)
                if "delete" in value:
                    settings["deleting"] = Node(True, line)
            elif key == "retention.ms" and _is_int(value) and value >= 0:
                settings["retention"] = Node(value / 1000, line)
            else:
                rest[key] = Node(value, line)
        if rest:
            settings["config"] = Node(rest, self.doc.line(cpointer))

    def _extension(self, ext: Any, pointer: str, settings: dict[str, Node]) -> None:
        if ext is None:
            return
        if not isinstance(ext, dict):
            self.error(pointer, f"{CHANNEL_EXTENSION} must be a mapping")
            return
        for key, value in ext.items():
            vpointer = pointer_join(pointer, key)
            if key not in CHANNEL_EXTENSION_KEYS:
                self.error(
                    vpointer,
                    f"unknown key {key!r} in {CHANNEL_EXTENSION}"
                    + did_you_mean(key, CHANNEL_EXTENSION_KEYS),
                )
                continue
            settings[key] = Node(value, self.doc.line(vpointer))

    # -- messages ----------------------------------------------------------------------

    def _messages(
        self, ch: dict[str, Any], pointer: str, topic: str, settings: dict[str, Node]
    ) -> bool:
        """Key and value settings from the channel's messages; False if the value is unknown."""
        messages = ch.get("messages")
        mpointer = f"{pointer}/messages"
        if not isinstance(messages, dict) or not messages:
            self.error(
                pointer,
                f"topic {topic!r}: the channel has no messages; expected at least one message "
                "with a payload (several Avro messages make a union)",
            )
            return False
        values: list[_Schema] = []
        key: _Schema | None = None
        key_from = ""
        strategy: tuple[str, str] | None = None
        for message_id, message in messages.items():
            resolved = self.deref(message, pointer_join(mpointer, message_id))
            if resolved is None:
                continue
            if resolved.external is not None:
                self.error(resolved.pointer, "a message $ref to another file is not supported")
                continue
            msg, msg_pointer = resolved.value, resolved.pointer
            if not isinstance(msg, dict):
                self.error(msg_pointer, "a message must be a mapping")
                continue
            if "payload" not in msg:
                self.error(msg_pointer, f"message {message_id!r} has no payload")
                continue
            value = self._schema(msg["payload"], f"{msg_pointer}/payload")
            if value is not None:
                values.append(value)
            binding = self._kafka_binding(msg.get("bindings"), f"{msg_pointer}/bindings")
            if binding is None:
                continue
            kafka, kpointer = binding
            if "key" in kafka:
                this_key = self._schema(kafka["key"], f"{kpointer}/key")
                if this_key is not None and key is not None and this_key.identity != key.identity:
                    self.error(
                        f"{kpointer}/key",
                        f"topic {topic!r}: message {message_id!r} has the key {this_key.describe()}"
                        f", but message {key_from!r} has {key.describe()}; all messages of a "
                        "topic share its key type",
                    )
                elif this_key is not None and key is None:
                    key, key_from = this_key, message_id
            lookup = kafka.get("schemaLookupStrategy")
            if lookup is not None:
                spointer = f"{kpointer}/schemaLookupStrategy"
                found = strategy_from_lookup(lookup) if isinstance(lookup, str) else None
                if found is None:
                    self.error(
                        spointer,
                        f"schemaLookupStrategy {lookup!r} is not a subject name strategy "
                        f"gen-topics knows; expected one of {', '.join(known_lookup_strategies())}",
                    )
                elif strategy is not None and strategy[0] != found:
                    self.error(
                        spointer,
                        f"topic {topic!r}: messages disagree on the "
                        f"schemaLookupStrategy ({strategy[0]} and {found})",
                    )
                else:
                    strategy = (found, spointer)
        if strategy is not None and "subject_name_strategy" not in settings:
            settings["subject_name_strategy"] = Node(strategy[0], self.doc.line(strategy[1]))
        if key is not None:
            self._side("key", key, settings)
        return len(values) == len(messages) and self._value(topic, values, pointer, settings)

    def _value(
        self, topic: str, values: list[_Schema], pointer: str, settings: dict[str, Node]
    ) -> bool:
        if all(v.kind == "avro" for v in values):
            names: list[str] = []
            for value in values:
                for name in value.names:
                    if name in names:
                        self.error(
                            value.pointer,
                            f"topic {topic!r}: type {name!r} is the payload "
                            "of two messages; each message needs its own type",
                        )
                        return False
                    names.append(name)
            self._side("value", _Schema("avro", values[0].pointer, tuple(names)), settings)
            return True
        if len(values) > 1:
            kinds = ", ".join(sorted({v.describe() for v in values}))
            self.error(
                f"{pointer}/messages",
                f"topic {topic!r}: its messages are {kinds}; several messages make a union, "
                "which gen-topics supports for Avro payloads only (for JSON Schema, use one "
                "message whose schema has a oneOf)",
            )
            return False
        self._side("value", values[0], settings)
        return True

    def _side(self, side: str, schema: _Schema, settings: dict[str, Node]) -> None:
        line = self.doc.line(schema.pointer)
        if schema.kind == "avro":
            names = schema.names
            settings[side] = Node(
                names[0] if len(names) == 1 else [Node(n, line) for n in names], line
            )
        elif schema.kind == "json":
            settings[side] = Node(schema.json_ref, line)
        elif schema.kind == "str":
            settings[side] = Node("string", line)
            settings[f"{side}_serializer"] = Node("str", line)
        else:
            settings[f"{side}_serializer"] = Node("raw" if schema.kind == "raw" else "json", line)

    # -- schemas -----------------------------------------------------------------------

    def _schema(self, value: Any, pointer: str) -> _Schema | None:
        """A payload or key: a Multi Format Schema Object, an AsyncAPI schema, or a $ref."""
        resolved = self.deref(value, pointer)
        if resolved is None:
            return None
        if resolved.external is not None:
            return self._file(resolved.external, resolved.pointer, None)
        node, pointer = resolved.value, resolved.pointer
        if isinstance(node, dict) and ("schemaFormat" in node or set(node) == {"schema"}):
            schema_format = node.get("schemaFormat", "application/vnd.aai.asyncapi;version=3.0.0")
            if not isinstance(schema_format, str):
                self.error(f"{pointer}/schemaFormat", "schemaFormat must be a string")
                return None
            inner = self.deref(node.get("schema"), f"{pointer}/schema")
            if inner is None:
                return None
            if inner.external is not None:
                return self._file(inner.external, inner.pointer, schema_format)
            if is_avro_format(schema_format):
                if inner.pointer != f"{pointer}/schema":
                    return self._avro({"schema": inner.value}, inner.pointer, wrapped=False)
                return self._avro(node, pointer)
            if is_json_format(schema_format):
                return self._json_or_codec(inner.value, inner.pointer, node, pointer)
            self.error(
                f"{pointer}/schemaFormat",
                f"schemaFormat {schema_format!r} is not supported; gen-topics reads Avro "
                "(application/vnd.apache.avro+json;version=1.9.0), JSON Schema "
                "(application/schema+json;version=draft-07, ...) and AsyncAPI schemas",
            )
            return None
        return self._json_or_codec(node, pointer, None, pointer)

    def _json_or_codec(
        self, schema: Any, pointer: str, holder: dict[str, Any] | None, holder_pointer: str
    ) -> _Schema | None:
        if holder is None or SOURCE_EXTENSION not in holder:
            codec = codec_of_schema(schema)
            if codec is not None:
                return _Schema("json-any" if codec == "json" else codec, pointer)
        path = self._json_inline(schema, pointer, holder, holder_pointer)
        return None if path is None else _Schema("json", pointer, json_ref=path.as_uri())

    def _file(self, ref: str, pointer: str, schema_format: str | None) -> _Schema | None:
        """A payload or key that is a $ref to a file beside the document."""
        base, _, fragment = ref.partition("#")
        if "://" in base:
            self.error(
                pointer,
                f"$ref {ref!r}: remote references are not fetched; put the "
                "schema in a file beside the document",
            )
            return None
        target = Path(os.path.normpath(self.folder / base))
        try:
            rel = target.relative_to(self.root).as_posix()
        except ValueError:
            self.error(pointer, f"$ref {ref!r} points outside the schemas folder {self.root}")
            return None
        if not target.is_file():
            self.error(pointer, f"$ref {ref!r}: no file {rel} under the schemas folder")
            return None
        if fragment not in ("", "/"):
            self.error(
                pointer,
                f"$ref {ref!r}: a payload or key $ref must name a whole schema "
                "file, without a '#' fragment",
            )
            return None
        avro = base.endswith(".avsc") or (
            schema_format is not None and is_avro_format(schema_format)
        )
        if avro:
            return self._avro_file(target, rel, pointer)
        if not base.endswith(".json"):
            self.error(
                pointer,
                f"$ref {ref!r}: expected an Avro schema (.avsc) or a JSON Schema (.json) file",
            )
            return None
        return _Schema("json", pointer, json_ref=base)

    def _avro_file(self, target: Path, rel: str, pointer: str) -> _Schema | None:
        if target.suffix != ".avsc":
            self.error(
                pointer,
                f"{rel}: an Avro schema file must end in .avsc (gen-topics "
                "reads every .avsc under the schemas folder)",
            )
            return None
        try:
            schema = json.loads(target.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return None  # the Avro loader reports the file's own problems
        names = _avro_names(schema)
        if isinstance(names, str):
            self.error(pointer, f"{rel}: {names}")
            return None
        return _Schema("avro", pointer, names)

    def _avro(
        self, holder: dict[str, Any], pointer: str, *, wrapped: bool = True
    ) -> _Schema | None:
        """An inline Avro schema (``holder["schema"]``): registered like an ``.avsc`` file."""
        spointer = f"{pointer}/schema" if wrapped else pointer
        if spointer in self._avro_done:
            return _Schema("avro", spointer, self._avro_done[spointer])
        schema = _avro_nulls(holder.get("schema"))
        names = _avro_names(schema)
        if isinstance(names, str):
            self.error(spointer, names)
            return None
        self._avro_done[spointer] = names
        if isinstance(schema, str):
            return _Schema("avro", spointer, names)  # a name: defined elsewhere (or primitive)
        # Compact, as gen-topics writes a standalone schema: the text a topic module embeds
        # and registers when the schema is the whole payload.
        text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
        name = f"{self.doc.file}#{spointer}"
        source = holder.get(SOURCE_EXTENSION)
        if source is not None:
            exact = self._source(source, f"{pointer}/{SOURCE_EXTENSION}", schema, avro=True)
            if exact is None:
                return None
            file, text = exact
            if file is not None:
                named = self._avro_name_for(file, text, name)
                if named is None:
                    return _Schema("avro", spointer, names)  # the same file is there already
                name = named
        self.out.avro.append((name, text))
        self._avro_names.add(name)
        self.out._origins[name] = Origin(self.doc, spointer)
        return _Schema("avro", spointer, names)

    def _avro_name_for(self, file: str, text: str, fallback: str) -> str | None:
        """The registry file name of an exported schema: the file it came from (so generated
        code names it as before), unless that name is taken. None: the same file exists."""
        real = self.root / self.folder_rel / file
        if real.is_file():
            same = _same_json(real.read_text(encoding="utf-8"), text)
            return None if same else fallback
        name = posixpath.normpath((self.folder_rel / file).as_posix())
        if name in self._avro_names:
            existing = dict(self.out.avro).get(name)
            return None if existing == text else fallback
        return name

    def _source(
        self, source: Any, pointer: str, schema: Any, *, avro: bool
    ) -> tuple[str | None, str] | None:
        """The exact text (and file) an exported schema carries, checked against the schema.

        A JSON Schema always names its file; an Avro schema only when it is a file's text.
        """
        if (
            not isinstance(source, dict)
            or not isinstance(source.get("file", "" if avro else None), str)
            or not isinstance(source.get("text"), str)
        ):
            self.error(pointer, f"{SOURCE_EXTENSION} must be a mapping with 'file' and 'text'")
            return None
        file: PurePosixPath | None = None
        if "file" in source:
            file = PurePosixPath(source["file"])
            if file.is_absolute() or ".." in file.parts:
                self.error(f"{pointer}/file", f"{file} must be a path below the document's folder")
                return None
        text: str = source["text"]
        try:
            original = json.loads(text)
        except ValueError as exc:
            self.error(f"{pointer}/text", f"the text is not JSON: {exc}")
            return None
        # Exported JSON Schemas have their $refs pointed into this document; the rest must
        # be what the text says, or the text is stale.
        if avro:
            same = asyncapi_view(original) == asyncapi_view(schema)
        else:
            same = _without_refs(original) == _without_refs(schema)
        if not same:
            self.error(
                pointer,
                f"the schema differs from the text in {SOURCE_EXTENSION} (the exact file text "
                "gen-topics exported); edit both, or remove the extension to use the schema "
                "as written",
            )
            return None
        return (file.as_posix() if file is not None else None), text

    def _json_inline(
        self, schema: Any, pointer: str, holder: dict[str, Any] | None, holder_pointer: str
    ) -> Path | None:
        """An inline JSON Schema: a document of the JSON Schema index, at a path of its own."""
        if pointer in self._json_done:
            return self._json_done[pointer]
        if not isinstance(schema, dict):
            self.error(pointer, f"a JSON Schema must be a mapping, got {schema!r}")
            return None
        source = holder.get(SOURCE_EXTENSION) if holder is not None else None
        if source is not None:
            exact = self._source(source, f"{holder_pointer}/{SOURCE_EXTENSION}", schema, avro=False)
            if exact is None:
                return None
            file, text = exact
            assert file is not None  # required for JSON Schemas
            path = Path(os.path.normpath(self.folder / file))
            self._json_done[pointer] = path
            if path.is_file():
                if not _same_json(path.read_text(encoding="utf-8"), text):
                    self.error(
                        f"{holder_pointer}/{SOURCE_EXTENSION}/file",
                        f"{file} exists beside the document with other content; move the "
                        "document or the file",
                    )
                return path
        else:
            path = self.folder / "asyncapi" / _stem(self.doc.file) / f"{_name_of(pointer)}.json"
            self._json_done[pointer] = path
            text = json.dumps(self._local_refs(schema, pointer, path), indent=2, ensure_ascii=False)
        self.out.json.append((path, text))
        self.out._origins[str(path)] = Origin(self.doc, pointer)
        return path

    def _local_refs(self, node: Any, base: str, path: Path) -> Any:
        """A copy of an inline schema with its ``$ref``s made valid for a file at ``path``:
        pointers into the document become references between the schema files."""
        if isinstance(node, list):
            return [self._local_refs(item, base, path) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self._local_ref(value, base, path)
            elif key in DATA_KEYWORDS:
                out[key] = value
            else:
                out[key] = self._local_refs(value, base, path)
        return out

    def _local_ref(self, ref: str, base: str, path: Path) -> str:
        if not ref.startswith("#"):
            if "://" in ref:
                return ref  # an $id: the index finds documents by it
            target_base, _, fragment = ref.partition("#")
            file = Path(os.path.normpath(self.folder / target_base))
            relative = os.path.relpath(file, path.parent).replace(os.sep, "/")
            return f"{relative}#{fragment}" if fragment else relative
        target = ref[1:]
        if target == base or target.startswith(f"{base}/"):
            return "#" + target[len(base) :]
        match = re.match(r"(/components/schemas/[^/]+)(/schema)?((?:/.*)?)\Z", target)
        if match is None:
            self.error(
                base,
                f"$ref {ref!r} points outside components/schemas; a JSON Schema "
                "may refer to itself, to components/schemas and to files",
            )
            return "#"  # stands in (reported): no follow-on error
        component, wrapped, rest = match.groups()
        found, holder = self.doc.get(component)
        if not found:
            self.error(base, f"$ref {ref!r} points to nothing in this document")
            return ref
        is_multi = isinstance(holder, dict) and "schemaFormat" in holder
        inner = f"{component}/schema" if is_multi else component
        if is_multi and not wrapped:
            rest = rest[len("/schema") :] if rest.startswith("/schema") else rest
        schema = holder.get("schema") if is_multi else holder
        other = self._json_inline(schema, inner, holder if is_multi else None, component)
        if other is None:
            return ref
        relative = os.path.relpath(other, path.parent).replace(os.sep, "/")
        return f"{relative}#{rest}" if rest else relative


def _avro_names(schema: Any) -> tuple[str, ...] | str:
    """The type names an Avro payload stands for, or what is wrong with it."""
    branches = schema if isinstance(schema, list) else [schema]
    names: list[str] = []
    for branch in branches:
        if isinstance(branch, str):
            if branch != "null":
                names.append(branch)
            continue
        if isinstance(branch, dict) and branch.get("type") in (*NAMED_KINDS, "error"):
            name = branch.get("name")
            if not isinstance(name, str) or not name:
                return f'{branch.get("type")} has no "name"'
            namespace = branch.get("namespace")
            if "." not in name and isinstance(namespace, str) and namespace:
                name = f"{namespace}.{name}"
            names.append(name)
            continue
        if (
            isinstance(branch, dict)
            and branch.get("type") in PRIMITIVES
            and "logicalType" not in branch
        ):
            names.append(branch["type"])
            continue
        kind = branch.get("type") if isinstance(branch, dict) else type(branch).__name__
        return (
            f"an Avro payload or key must be a record, enum, fixed, primitive or a union of "
            f"them, not {kind!r}; wrap it in a record"
        )
    if not names:
        return "an Avro payload or key needs a type other than 'null'"
    return tuple(names)


def _avro_nulls(schema: Any) -> Any:
    """YAML reads an unquoted ``null`` as None; where Avro expects a type it means "null"."""
    if schema is None:
        return "null"
    if isinstance(schema, list):
        return [_avro_nulls(item) for item in schema]
    if isinstance(schema, dict):
        out = dict(schema)
        for key in ("type", "items", "values"):
            if key in out:
                out[key] = _avro_nulls(out[key])
        if isinstance(out.get("fields"), list):
            out["fields"] = [
                {**f, "type": _avro_nulls(f.get("type"))}
                if isinstance(f, dict) and "type" in f
                else f
                for f in out["fields"]
            ]
        return out
    return schema


def _without_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_refs(item) for item in node]
    if isinstance(node, dict):
        return {k: ("$ref" if k == "$ref" else _without_refs(v)) for k, v in node.items()}
    return node


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _stem(file: str) -> str:
    name = PurePosixPath(file).name
    for suffix in ASYNCAPI_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] or "asyncapi"
    return name


def _name_of(pointer: str) -> str:
    """A file name for an inline schema, from where it is: ``OrderCreated``, ``orders_key``."""
    tokens = [unescape(t) for t in pointer.split("/") if t]
    kept = [t for t in tokens if t not in _NOT_IN_NAMES and not t.isdigit()]
    return "_".join(kept) or "schema"


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
