"""TopicCore[K, V]: what a topic description is: names or pattern, schema, config, clones.

The sending and reading halves of :class:`gen_topics._topic.Topic` build on it
(``topic_sending.py``, ``topic_reading.py``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from re import Pattern
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from gen_topics._declare import parse_retention
from gen_topics._decode_policy import DecodePolicy, check_policy
from gen_topics._events import Event
from gen_topics._messages import TP
from gen_topics._schema import Schema, Serializer
from gen_topics.codecs import Codec, PreparedCodec, get_codec

if TYPE_CHECKING:
    from gen_topics._app import App

K = TypeVar("K")
V = TypeVar("V")

HeadersArg = Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None

__all__ = ["HeadersArg", "ReadStats", "TopicCore"]


class _SharedDeclare:
    """The in-flight / completed ``maybe_declare`` of a topic, shared by its clones."""

    __slots__ = ("done", "task")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.done = False


class ReadStats:
    """How many records that did not decode a topic's readers skipped or dead-lettered."""

    __slots__ = ("dead_lettered", "skipped")

    def __init__(self) -> None:
        self.skipped = 0
        self.dead_lettered = 0

    def __repr__(self) -> str:
        return f"<ReadStats skipped={self.skipped} dead_lettered={self.dead_lettered}>"


class TopicCore(Generic[K, V]):
    """The description part of a topic whose keys are ``K`` and values ``V``.

    Generated subclasses set the ``default_*`` class attributes; each constructor
    argument left as ``None`` takes the matching default.
    """

    default_topics: ClassVar[tuple[str, ...]] = ()
    default_key_serializer: ClassVar[Codec[Any] | str | None] = None
    default_value_serializer: ClassVar[Codec[Any] | str | None] = None
    default_key_type: ClassVar[type | None] = None
    default_value_type: ClassVar[type | None] = None
    default_partitions: ClassVar[int | None] = None
    default_replicas: ClassVar[int | None] = None
    default_retention: ClassVar[float | None] = None
    default_compacting: ClassVar[bool | None] = None
    default_deleting: ClassVar[bool | None] = None
    default_internal: ClassVar[bool] = False
    default_acks: ClassVar[bool] = True
    default_config: ClassVar[Mapping[str, str]] = {}
    subject_name_strategy: ClassVar[str] = "topic"
    compatibility: ClassVar[str | None] = None
    default_on_decode_error: ClassVar[DecodePolicy] = "raise"
    default_dead_letter_topic: ClassVar[str | None] = None

    def __init__(
        self,
        app: App,
        *,
        topics: Sequence[str] | str | None = None,
        pattern: str | Pattern[str] | None = None,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        is_iterator: bool = False,
        partitions: int | None = None,
        retention: timedelta | float | str | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        acks: bool | None = None,
        internal: bool | None = None,
        config: Mapping[str, Any] | None = None,
        queue: asyncio.Queue[Any] | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        maxsize: int | None = None,
        root: TopicCore[Any, Any] | None = None,
        active_partitions: set[TP] | None = None,
        allow_empty: bool | None = None,
        has_prefix: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        on_decode_error: DecodePolicy | None = None,
        dead_letter_topic: str | None = None,
    ) -> None:
        self.app = app
        if isinstance(topics, str):
            names: tuple[str, ...] = (topics,)  # one topic, not one per character
        elif topics:
            names = tuple(topics)
        elif topics is None and pattern is None:
            names = tuple(self.default_topics)
        else:
            names = ()
        # send()'s codecs without overrides: (name, key codec, value codec, any needs prepare).
        self._fast: tuple[str, Codec[Any], Codec[Any], bool] | None = None
        self._codecs: dict[tuple[str, bool], tuple[Codec[Any], bool]] = {}
        self._topics: tuple[str, ...] = names
        self._pattern: Pattern[str] | None = None
        self.pattern = pattern
        base = Schema(
            key_type=self.default_key_type,
            value_type=self.default_value_type,
            key_serializer=self.default_key_serializer,
            value_serializer=self.default_value_serializer,
        )
        if schema is not None:
            base = base.replace(
                key_type=schema.key_type,
                value_type=schema.value_type,
                key_serializer=schema.key_serializer,
                value_serializer=schema.value_serializer,
                allow_empty=schema.allow_empty,
            )
        self._schema: Schema = base.replace(
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            allow_empty=allow_empty,
        )
        self.is_iterator = is_iterator
        self._partitions: int | None = None
        self.partitions = partitions if partitions is not None else self.default_partitions
        self.retention: timedelta | float | str | None = (
            retention if retention is not None else self.default_retention
        )
        parse_retention(self.retention)  # fail at construction, not at declare time
        self.compacting = compacting if compacting is not None else self.default_compacting
        self.deleting = deleting if deleting is not None else self.default_deleting
        self.replicas = replicas if replicas is not None else self.default_replicas
        self.acks: bool = acks if acks is not None else self.default_acks
        self.internal: bool = internal if internal is not None else self.default_internal
        self.config: dict[str, Any] = dict(self.default_config)
        if config:
            self.config.update(config)
        self.maxsize = maxsize
        self.root = root
        self.active_partitions = active_partitions
        self.has_prefix = has_prefix
        self.loop = loop
        self._queue = queue
        self._declare: _SharedDeclare = root._declare if root is not None else _SharedDeclare()
        self._current: Event[K, V] | None = None
        # What a reader does with a record that does not decode (see _decode_policy.py).
        self.on_decode_error: DecodePolicy = check_policy(
            on_decode_error if on_decode_error is not None else self.default_on_decode_error
        )
        self.dead_letter_topic: str | None = (
            dead_letter_topic if dead_letter_topic is not None else self.default_dead_letter_topic
        )
        # Counters of skipped and dead-lettered records, shared with the iterator clones.
        self.read_stats: ReadStats = root.read_stats if root is not None else ReadStats()

    # -- schema views -------------------------------------------------------------

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic names (empty for a pattern topic)."""
        return self._topics

    @topics.setter
    def topics(self, topics: Sequence[str] | str) -> None:
        self._topics = (topics,) if isinstance(topics, str) else tuple(topics)
        self._forget_codecs()

    @property
    def schema(self) -> Schema:
        """Key/value types and serializers (immutable; assign a new one to change it)."""
        return self._schema

    @schema.setter
    def schema(self, schema: Schema) -> None:
        self._schema = schema
        self._forget_codecs()

    def _forget_codecs(self) -> None:
        # Both caches depend on the names and the schema: rebuilt on the next send/read.
        self._fast = None
        self._codecs = {}

    @property
    def key_type(self) -> Any:
        """The key type (from the schema)."""
        return self.schema.key_type

    @property
    def value_type(self) -> Any:
        """The value type (from the schema)."""
        return self.schema.value_type

    @property
    def key_serializer(self) -> Serializer | None:
        """The key serializer (from the schema); ``None`` means the app default."""
        return self.schema.key_serializer

    @property
    def value_serializer(self) -> Serializer | None:
        """The value serializer (from the schema); ``None`` means the app default."""
        return self.schema.value_serializer

    @property
    def allow_empty(self) -> bool:
        """Kept for Faust compatibility: null values always decode to ``None`` here."""
        return self.schema.allow_empty

    # -- properties ---------------------------------------------------------------

    @property
    def pattern(self) -> Pattern[str] | None:
        """Regular expression used by this topic (if any)."""
        return self._pattern

    @pattern.setter
    def pattern(self, pattern: str | Pattern[str] | None) -> None:
        if pattern and self.topics:
            raise TypeError("Cannot specify both topics and pattern")
        self._fast = None
        self._pattern = (
            re.compile(pattern) if isinstance(pattern, str) and pattern else (pattern or None)
        )

    @property
    def partitions(self) -> int | None:
        """The configured number of partitions (used when declaring), or None."""
        return self._partitions

    @partitions.setter
    def partitions(self, partitions: int | None) -> None:
        if partitions == 0:
            raise ValueError("Topic cannot have zero partitions")
        self._partitions = partitions

    @property
    def retention_seconds(self) -> float | None:
        """Retention in seconds, whatever form it was given in."""
        return parse_retention(self.retention)

    # -- identity -----------------------------------------------------------------

    def get_topic_name(self) -> str:
        """The single topic name; TypeError for a pattern or no names, ValueError for many."""
        if self._pattern is not None:
            raise TypeError("Topic with pattern subscription cannot be identified")
        if len(self.topics) > 1:
            raise ValueError("Topic with multiple topic names cannot be identified")
        if self.topics:
            return self.topics[0]
        raise TypeError("Topic has no subscriptions (no pattern, no topics)")

    def _topic_name_or_default(self, obj: Any) -> str:
        if isinstance(obj, str):
            return obj
        if isinstance(obj, TopicCore):
            return obj.get_topic_name()
        return self.get_topic_name()

    def wants(self, name: str) -> bool:
        """Whether records of topic ``name`` are routed to this topic."""
        if self._pattern is not None:
            return self._pattern.match(name) is not None
        return name in self.topics

    def __str__(self) -> str:
        if self._pattern is not None:
            return str(self._pattern)
        return ",".join(self.topics)

    @property
    def label(self) -> str:
        """``Topic: <names>``, prefixed with ``(*)`` for an iterator."""
        return f"{'(*)' if self.is_iterator else ''}Topic: {self}"

    def __repr__(self) -> str:
        active = ""
        if self.active_partitions is not None:
            if self.active_partitions:
                inner = ", ".join(f"{t}:{p}" for t, p in sorted(self.active_partitions))
                active = f" active={{{inner}}}"
            else:
                active = " active={<pending for assignment>}"
        return f"<{type(self).__name__} {self.label}@{id(self):#x}{active}>"

    def _clone_args(self) -> dict[str, Any]:
        return {
            "topics": self.topics,
            "pattern": self._pattern,
            "schema": self.schema,
            "partitions": self.partitions,
            "retention": self.retention,
            "compacting": self.compacting,
            "deleting": self.deleting,
            "replicas": self.replicas,
            "acks": self.acks,
            "internal": self.internal,
            "config": self.config,
            "maxsize": self.maxsize,
            "active_partitions": self.active_partitions,
            "has_prefix": self.has_prefix,
            "loop": self.loop,
            "root": self,
            "on_decode_error": self.on_decode_error,
            "dead_letter_topic": self.dead_letter_topic,
        }

    def clone(self, *, is_iterator: bool | None = None, **overrides: Any) -> Self:
        """A copy with its own queue; an iterator clone is what ``async for`` reads from."""
        args = self._clone_args()
        args.update(overrides)
        return type(self)(
            self.app, is_iterator=self.is_iterator if is_iterator is None else is_iterator, **args
        )

    def clone_using_queue(self, queue: asyncio.Queue[Any]) -> Self:
        """An iterator clone reading from ``queue``."""
        return self.clone(queue=queue, is_iterator=True)

    # -- codecs -------------------------------------------------------------------

    def _codec(
        self, name: str, is_key: bool, override: Serializer | None, schema: Schema | None
    ) -> tuple[Codec[Any], bool]:
        """The (possibly registry-wrapped) codec for ``name``'s key or value, and whether it
        needs async preparation."""
        if override is None and schema is None:
            cached = self._codecs.get((name, is_key))
            if cached is not None:
                return cached
        return self._resolve_codec(name, is_key, override, schema)

    def _resolve_codec(
        self, name: str, is_key: bool, override: Serializer | None, schema: Schema | None
    ) -> tuple[Codec[Any], bool]:
        s = schema if schema is not None else self.schema
        chosen = (
            override
            if override is not None
            else (s.key_serializer if is_key else s.value_serializer)
        )
        if chosen is None:
            chosen = self.app.conf.key_serializer if is_key else self.app.conf.value_serializer
        codec = get_codec(chosen)
        assert codec is not None
        codec = self.app.wrap_codec(codec, topic=name, is_key=is_key, topic_cls=type(self))
        result = (codec, isinstance(codec, PreparedCodec))
        if override is None and schema is None:
            self._codecs[(name, is_key)] = result
        return result
