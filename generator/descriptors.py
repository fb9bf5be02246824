"""Topic descriptors (``*.topic.yaml``): loading and validation with file:line errors."""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError, ProblemCollector
from generator.input_files import read_input
from generator.kafka_config import CLEANUP_POLICIES, KNOWN_TOPIC_CONFIGS, SETTING_INSTEAD
from generator.suggest import did_you_mean
from generator.yaml_lines import Node, load_yaml

TOPIC_KEYS = (
    "key",
    "value",
    "partitions",
    "replicas",
    "retention",
    "compacting",
    "deleting",
    "config",
    "internal",
    "acks",
    "key_serializer",
    "value_serializer",
    "class",
    "module",
    "doc",
    "subject_name_strategy",
    "compatibility",
    "on_decode_error",
    "dead_letter_topic",
)
SERIALIZERS = ("avro", "json", "raw", "str", "string")
STRATEGIES = ("topic", "record", "topic_record")
DECODE_POLICIES = ("raise", "skip", "dead_letter")
COMPATIBILITY = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INTEGER = re.compile(r"-?\d+\Z")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\Z")
_KAFKA_MAX = {"partitions": 2**31 - 1, "replicas": 2**15 - 1}  # int32, int16 on the wire
_MAX_RETENTION = (2**63 - 1) / 1000  # seconds in retention.ms
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, None: 1.0}


@dataclass(frozen=True)
class TypeRef:
    """A key or value type as written: an Avro type name, a union of names, or a JSON Schema."""

    names: tuple[str, ...]  # one name, or several for a union
    line: int

    @property
    def is_json_schema(self) -> bool:
        """True for a ``.json`` path or a URI-like ``$id``."""
        return len(self.names) == 1 and (self.names[0].endswith(".json") or "://" in self.names[0])


@dataclass
class TopicDescriptor:
    """One topic as declared in a descriptor file."""

    topic: str
    file: str
    line: int
    key: TypeRef | None = None
    value: TypeRef | None = None
    partitions: int | None = None
    replicas: int | None = None
    retention: float | None = None
    compacting: bool | None = None
    deleting: bool | None = None
    internal: bool = False
    acks: bool = True
    config: dict[str, str] = field(default_factory=dict)
    key_serializer: str | None = None
    value_serializer: str | None = None
    class_name: str | None = None
    module: str | None = None
    doc: str | None = None
    subject_name_strategy: str = "topic"
    compatibility: str | None = None
    on_decode_error: str | None = None
    dead_letter_topic: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    #: The line of each ``config`` entry.
    config_lines: dict[str, int] = field(default_factory=dict)


def load_descriptor(path: Path, rel: str) -> list[TopicDescriptor]:
    """Parse and validate one descriptor file (``rel`` is its path as reported).

    Raises :class:`GeneratorError` listing every problem found.
    """
    problems = ProblemCollector()
    out = read_descriptor(path, rel, problems)
    problems.raise_if_any()
    return out


def read_descriptor(path: Path, rel: str, problems: ProblemCollector) -> list[TopicDescriptor]:
    """Parse one descriptor file, recording every problem in ``problems``.

    Returns the topics it declares, even when some settings were invalid (those stay unset),
    so their key and value types are still checked against the schemas.
    """
    try:
        root = load_yaml(read_input(path, rel), rel)
    except GeneratorError as exc:
        problems.extend(exc)
        return []
    if root is None:
        problems.add(rel, 1, "empty topic descriptor; expected a 'topics:' mapping")
        return []
    if not isinstance(root.value, dict):
        problems.add(rel, root.line, "expected a mapping with a 'topics' key")
        return []
    for key, node in root.value.items():
        if key != "topics":
            problems.add(rel, node.line, f"unknown key {key!r}; expected 'topics'")
    topics = root.value.get("topics")
    if topics is None:
        problems.add(rel, root.line, "missing 'topics' mapping")
        return []
    if not isinstance(topics.value, dict):
        problems.add(rel, topics.line, "'topics' must map Kafka topic names to their settings")
        return []
    return [_topic(name, node, rel, problems) for name, node in topics.value.items()]


def _topic(name: str, node: Node, rel: str, problems: ProblemCollector) -> TopicDescriptor:
    desc = TopicDescriptor(topic=name, file=rel, line=node.line)
    if not _TOPIC_NAME.match(name) or name in (".", ".."):
        problems.add(
            rel, node.line, f"invalid Kafka topic name {name!r}: use 1-249 of [A-Za-z0-9._-]"
        )
    if node.value is None:
        problems.add(rel, node.line, f"topic {name!r} needs settings, at least 'value'")
        return desc
    if not isinstance(node.value, dict):
        problems.add(rel, node.line, f"settings of topic {name!r} must be a mapping")
        return desc
    settings: dict[str, Node] = node.value
    for key, value in settings.items():
        desc.lines[key] = value.line
        if key not in TOPIC_KEYS:
            problems.add(
                rel,
                value.line,
                f"unknown key {key!r} in topic {name!r}" + did_you_mean(key, TOPIC_KEYS),
            )
            continue
        try:
            _apply(desc, key, value)
        except ValueError as exc:
            problems.add(rel, value.line, f"topic {name!r}: {key}: {exc}")
    _check_config(desc, problems)
    if desc.dead_letter_topic is not None:
        line = desc.lines.get("dead_letter_topic", node.line)
        if desc.on_decode_error != "dead_letter":
            problems.add(
                rel,
                line,
                f"topic {name!r}: dead_letter_topic is used only with "
                "'on_decode_error: dead_letter'",
            )
        elif desc.dead_letter_topic == name:
            problems.add(
                rel, line, f"topic {name!r}: dead_letter_topic must be another topic than itself"
            )
    # An invalid 'value' setting was reported above; do not report it missing as well.
    if desc.value is None and desc.value_serializer is None and "value" not in settings:
        problems.add(
            rel,
            node.line,
            f"topic {name!r} has no 'value' type; expected 'value: <type>' (an Avro type name "
            "or a JSON Schema), or 'value_serializer: raw' for values that are raw bytes",
        )
    return desc


def _apply(desc: TopicDescriptor, key: str, node: Node) -> None:
    v: Any = node.value
    if key in ("key", "value"):
        setattr(desc, key, _type_ref(v, node))
    elif key in ("partitions", "replicas"):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"expected a positive integer, got {v!r}")
        if v > _KAFKA_MAX[key]:
            raise ValueError(f"{v} is more than Kafka allows ({_KAFKA_MAX[key]})")
        setattr(desc, key, v)
    elif key == "retention":
        desc.retention = _retention(v)
    elif key in ("compacting", "deleting", "internal", "acks"):
        if not isinstance(v, bool):
            raise ValueError(f"expected true or false, got {v!r}")
        setattr(desc, key, v)
    elif key == "config":
        desc.config = _config(v)
        desc.config_lines = {name: item.line for name, item in v.items()}
    elif key in ("key_serializer", "value_serializer"):
        if v not in SERIALIZERS:
            raise ValueError(
                f"expected one of {', '.join(SERIALIZERS)}, got {v!r}"
                + did_you_mean(str(v), SERIALIZERS)
            )
        setattr(desc, key, "str" if v == "string" else v)
    elif key in ("class", "module"):
        if not isinstance(v, str) or not _IDENTIFIER.match(v):
            raise ValueError(f"expected a Python identifier, got {v!r}")
        if keyword.iskeyword(v):
            raise ValueError(f"{v!r} is a Python keyword, which cannot name a {key}")
        setattr(desc, "class_name" if key == "class" else "module", v)
    elif key == "doc":
        if not isinstance(v, str):
            raise ValueError(f"expected a string, got {v!r}")
        desc.doc = v
    elif key == "subject_name_strategy":
        if v not in STRATEGIES:
            raise ValueError(
                f"expected one of {', '.join(STRATEGIES)}, got {v!r}"
                + did_you_mean(str(v), STRATEGIES)
            )
        desc.subject_name_strategy = v
    elif key == "compatibility":
        value = v.upper() if isinstance(v, str) else v
        if value not in COMPATIBILITY:
            raise ValueError(
                f"expected one of {', '.join(COMPATIBILITY)}, got {v!r}"
                + did_you_mean(str(v).upper(), COMPATIBILITY)
            )
        desc.compatibility = value
    elif key == "on_decode_error":
        if v not in DECODE_POLICIES:
            raise ValueError(
                f"expected one of {', '.join(DECODE_POLICIES)}, got {v!r}"
                + did_you_mean(str(v), DECODE_POLICIES)
            )
        desc.on_decode_error = v
    elif key == "dead_letter_topic":
        if not isinstance(v, str) or not _TOPIC_NAME.match(v) or v in (".", ".."):
            raise ValueError(f"expected a Kafka topic name (1-249 of [A-Za-z0-9._-]), got {v!r}")
        desc.dead_letter_topic = v


def _check_config(desc: TopicDescriptor, problems: ProblemCollector) -> None:
    """Report config entries the broker would refuse, and entries that contradict the
    topic's own settings: the broker keeps one value, and the generated types follow it
    (a compacted topic's values admit None), so a descriptor must say each thing once."""
    for key, value in desc.config.items():
        line = desc.config_lines.get(key, desc.lines.get("config", desc.line))
        where = f"topic {desc.topic!r}: config {key!r}"
        if key not in KNOWN_TOPIC_CONFIGS:
            instead = SETTING_INSTEAD.get(key)
            if instead is not None:
                message = (
                    f"{where} is not a Kafka topic config; set '{instead}:' in the topic's "
                    "settings, beside 'config'"
                )
            else:
                message = f"{where} is not a Kafka topic config" + (
                    did_you_mean(key, KNOWN_TOPIC_CONFIGS)
                    or "; expected a topic-level config name "
                    "(https://kafka.apache.org/documentation/#topicconfigs)"
                )
            problems.add(desc.file, line, message)
        elif key == "cleanup.policy":
            _check_cleanup_policy(desc, value, line, where, problems)
        elif key == "retention.ms":
            _check_retention_ms(desc, value, line, where, problems)
        elif key == "min.insync.replicas":
            _check_min_insync(desc, value, line, where, problems)


def _check_cleanup_policy(
    desc: TopicDescriptor, value: str, line: int, where: str, problems: ProblemCollector
) -> None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in CLEANUP_POLICIES]
    if unknown:
        problems.add(
            desc.file,
            line,
            f"{where}: expected 'compact', 'delete' or 'compact,delete', got {value!r}"
            + did_you_mean(unknown[0], CLEANUP_POLICIES),
        )
        return
    for setting, policy in (("compacting", "compact"), ("deleting", "delete")):
        said = getattr(desc, setting)
        if said is not None and said != (policy in parts):
            problems.add(
                desc.file,
                line,
                f"{where} is {value!r}, which contradicts '{setting}: "
                f"{'true' if said else 'false'}' (line {desc.lines[setting]}); "
                f"say the cleanup policy once: with '{setting}' or with cleanup.policy",
            )


def _check_retention_ms(
    desc: TopicDescriptor, value: str, line: int, where: str, problems: ProblemCollector
) -> None:
    if not _INTEGER.match(value.strip()) or int(value) < -1:
        problems.add(
            desc.file,
            line,
            f"{where}: expected a whole number of milliseconds (-1 keeps records forever), "
            f"got {value!r}",
        )
    elif desc.retention is not None and int(value) != int(desc.retention * 1000):
        problems.add(
            desc.file,
            line,
            f"{where} is {value} ms, which contradicts 'retention' "
            f"({int(desc.retention * 1000)} ms, line {desc.lines['retention']}); "
            "say the retention once: with 'retention' or with retention.ms",
        )


def _check_min_insync(
    desc: TopicDescriptor, value: str, line: int, where: str, problems: ProblemCollector
) -> None:
    # More in-sync replicas required than exist: every acks=all send would fail.
    if desc.replicas is not None and _INTEGER.match(value.strip()) and int(value) > desc.replicas:
        problems.add(
            desc.file,
            line,
            f"{where} is {value}, more than the topic's {desc.replicas} replicas "
            f"(line {desc.lines['replicas']}); every send that waits for all in-sync "
            "replicas would fail: expected at most 'replicas'",
        )


def _type_ref(v: Any, node: Node) -> TypeRef:
    if isinstance(v, str) and v.strip():
        return TypeRef((v.strip(),), node.line)
    if isinstance(v, list) and v and all(isinstance(i.value, str) for i in v):
        names = tuple(i.value.strip() for i in v)
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            # Avro forbids a union with the same type twice; a registry rejects it (HTTP 422).
            raise ValueError(
                f"{', '.join(map(repr, twice))} appears more than once in the union; "
                "an Avro union holds each type once"
            )
        return TypeRef(names, node.line)
    raise ValueError(
        f"expected an Avro type name, a list of them (a union) or a JSON Schema path, got {v!r}"
    )


def _retention(v: Any) -> float:
    seconds: float | None = None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
        seconds = float(v) if v <= _MAX_RETENTION else math.inf
    elif isinstance(v, str):
        match = _DURATION.match(v.strip())
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None or math.isnan(seconds):
        raise ValueError(f"expected seconds or a duration like 30m, 12h, 7d, got {v!r}")
    if seconds > _MAX_RETENTION:
        # Kafka's retention.ms is a 64-bit count of milliseconds; -1 means "keep forever".
        raise ValueError(
            f"{v!r} is longer than Kafka's retention.ms can hold; to keep records forever, "
            "leave out 'retention' and set config: {retention.ms: '-1'}"
        )
    return seconds


def _config(v: Any) -> dict[str, str]:
    if not isinstance(v, dict):
        raise ValueError("expected a mapping of Kafka topic config names to values")
    out = {}
    for name, item in v.items():
        value = item.value
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            out[name] = str(value)
        else:
            raise ValueError(f"config {name!r}: expected a scalar value, got {value!r}")
    return out


def topic_from_node(name: str, node: Node, rel: str, problems: ProblemCollector) -> TopicDescriptor:
    """One topic from its settings, given as the :class:`Node` mapping a ``topics:`` entry of a
    descriptor file holds. Other front ends (AsyncAPI documents) build that mapping, so their
    topics are validated by the same rules and get the same errors."""
    return _topic(name, node, rel, problems)
