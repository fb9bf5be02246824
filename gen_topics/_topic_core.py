"""TopicCore[K, V]: what a topic description is: names or pattern, schema, config, clones.

The sending and reading halves of :class:`gen_topics._topic.Topic` build on it
(``topic_sending.py``, ``topic_reading.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from re import Pattern
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, Unpack, overload

from gen_topics._decode_policy import DecodePolicy
from gen_topics._events import Event
from gen_topics._messages import TP
from gen_topics._schema import Schema, Serializer
from gen_topics._topic_options import TopicOptionArgs, TopicOptions
from gen_topics.codecs import Codec, PreparedCodec, get_codec

if TYPE_CHECKING:
    from gen_topics._app import App

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

HeadersArg = Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None

SendCodecs = tuple[str, Codec[Any], Codec[Any], bool, bool, bool]
"""What ``send`` needs without overrides: the topic name, key and value codecs, whether either
needs async preparation, and whether each is exactly the raw codec (bytes pass as they are)."""

__all__ = ["HeadersArg", "ReadStats", "SendCodecs", "TopicCore"]


class _OptionView(Generic[T]):
    """``topic.<name>``: reads the option from ``topic.options``; assigning replaces the
    frozen options object (Faust lets a topic's attributes be assigned)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _OptionView[T]: ...

    @overload
    def __get__(self, obj: TopicCore[Any, Any], objtype: type | None = None) -> T: ...

    def __get__(
        self, obj: TopicCore[Any, Any] | None, objtype: type | None = None
    ) -> T | _OptionView[T]:
        if obj is None:
            return self
        value: T = getattr(obj.options, self.name)
        return value

    def __set__(self, obj: TopicCore[Any, Any], value: T) -> None:
        changes: dict[str, Any] = {self.name: value}
        obj.options = dataclasses.replace(obj.options, **changes)


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

    Generated subclasses set the ``default_*`` class attributes and ``default_options``;
    each constructor argument left as ``None`` takes the matching default.
    """

    default_topics: ClassVar[tuple[str, ...]] = ()
    default_key_serializer: ClassVar[Codec[Any] | str | None] = None
    default_value_serializer: ClassVar[Codec[Any] | str | None] = None
    default_key_type: ClassVar[type | None] = None
    default_value_type: ClassVar[type | None] = None
    default_options: ClassVar[TopicOptions] = TopicOptions()
    subject_name_strategy: ClassVar[str] = "topic"
    compatibility: ClassVar[str | None] = None

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
        queue: asyncio.Queue[Any] | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        root: TopicCore[Any, Any] | None = None,
        active_partitions: set[TP] | None = None,
        allow_empty: bool | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        base_options: TopicOptions | None = None,
        **options: Unpack[TopicOptionArgs],
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
        # send()'s codecs without overrides (see SendCodecs).
        self._fast: SendCodecs | None = None
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
        if base_options is None:
            # Constructor config is added to the class's declared config, not a replacement.
            base_options = self.default_options
            extra = options.get("config")
            if extra:
                options["config"] = {**base_options.config, **extra}
        #: The topic's options (frozen; the attribute views below replace it when assigned).
        self.options: TopicOptions = base_options.replace(**options)
        self.root = root
        self.active_partitions = active_partitions
        self.loop = loop
        self._queue = queue
        self._declare: _SharedDeclare = root._declare if root is not None else _SharedDeclare()
        self._current: Event[K, V] | None = None
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

    partitions = _OptionView[int | None]()
    replicas = _OptionView[int | None]()
    retention = _OptionView[timedelta | float | str | None]()
    compacting = _OptionView[bool | None]()
    deleting = _OptionView[bool | None]()
    acks = _OptionView[bool]()
    internal = _OptionView[bool]()
    config = _OptionView[Mapping[str, Any]]()
    maxsize = _OptionView[int | None]()
    has_prefix = _OptionView[bool]()
    on_decode_error = _OptionView[DecodePolicy]()
    dead_letter_topic = _OptionView[str | None]()

    @property
    def retention_seconds(self) -> float | None:
        """Retention in seconds, whatever form it was given in."""
        return self.options.retention_seconds

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
            "base_options": self.options,
            "active_partitions": self.active_partitions,
            "loop": self.loop,
            "root": self,
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
