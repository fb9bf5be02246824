"""Topic[K, V]: a typed Kafka topic description with Faust's ``Topic`` API.

Faust behaviour is followed except where DESIGN.md ("The runtime Topic") fixes it:
``topics="orders"`` is one topic; a passed Schema is never mutated and ``derive``
copies; ``send(value=None)`` is a tombstone for every codec; a key/value that does not
encode fails before anything is sent; async callbacks are always awaited;
``maybe_declare`` shares one call, delivers failures to every waiter and retries later.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from datetime import timedelta
from re import Pattern
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, cast

from runtime.codecs import Codec, PreparedCodec, get_codec
from runtime.declare import declare_names, parse_retention, topic_config
from runtime.errors import DecodeError, EncodeError, TopicConfigMismatch
from runtime.events import Event
from runtime.messages import (
    TP,
    FutureMessage,
    Message,
    MessageCallback,
    PendingMessage,
    RecordMetadata,
    normalize_headers,
)
from runtime.schema import Schema, Serializer

if TYPE_CHECKING:
    from runtime.app import App

__all__ = ["Topic"]

K = TypeVar("K")
V = TypeVar("V")

HeadersArg = Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None


class _Failure:
    """A decode error queued in place of the event it could not become."""

    __slots__ = ("error", "message")

    def __init__(self, error: BaseException, message: Message | None) -> None:
        self.error = error
        self.message = message


class _SharedDeclare:
    """The in-flight / completed ``maybe_declare`` of a topic, shared by its clones."""

    __slots__ = ("done", "task")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.done = False


class Topic(Generic[K, V]):
    """A named Kafka channel whose keys are ``K`` and values ``V``.

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
        root: Topic[Any, Any] | None = None,
        active_partitions: set[TP] | None = None,
        allow_empty: bool | None = None,
        has_prefix: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
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
        self._current: Event[K, V] | Message | None = None

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
        # (name, key codec, key needs prepare, value codec, value needs prepare) for send().
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
        if isinstance(obj, Topic):
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

    # -- derive / clone -----------------------------------------------------------

    def derive(self, **kwargs: Any) -> Self:
        """A new topic of the same class with this one's configuration and ``kwargs`` applied."""
        return self.derive_topic(**kwargs)

    def derive_topic(
        self,
        *,
        topics: Sequence[str] | str | None = None,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        partitions: int | None = None,
        retention: timedelta | float | str | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        internal: bool | None = None,
        config: Mapping[str, Any] | None = None,
        replicas: int | None = None,
        acks: bool | None = None,
        maxsize: int | None = None,
        allow_empty: bool | None = None,
        prefix: str = "",
        suffix: str = "",
        **kwargs: Any,
    ) -> Self:
        """Derive a topic: copies (never shares) this topic's schema and config.

        Unlike Faust, ``replicas``, ``acks`` and ``maxsize`` carry over, and unknown
        keyword arguments raise ``TypeError`` instead of being dropped silently.
        """
        if kwargs:
            raise TypeError(
                f"derive_topic() got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
            )
        names: Sequence[str] = (
            (topics,)
            if isinstance(topics, str)
            else (topics if topics is not None else self.topics)
        )
        if prefix or suffix:
            if self._pattern is not None:
                raise ValueError("Cannot add prefix/suffix to Topic with pattern")
            names = [f"{prefix}{name}{suffix}" for name in names]
        base = schema if schema is not None else self.schema
        return type(self)(
            self.app,
            topics=tuple(names),
            pattern=self._pattern,
            schema=base.replace(
                key_type=key_type,
                value_type=value_type,
                key_serializer=key_serializer,
                value_serializer=value_serializer,
                allow_empty=allow_empty,
            ),
            partitions=self.partitions if partitions is None else partitions,
            retention=self.retention if retention is None else retention,
            compacting=self.compacting if compacting is None else compacting,
            deleting=self.deleting if deleting is None else deleting,
            internal=self.internal if internal is None else internal,
            config=dict(self.config if config is None else config),
            replicas=self.replicas if replicas is None else replicas,
            acks=self.acks if acks is None else acks,
            maxsize=self.maxsize if maxsize is None else maxsize,
            has_prefix=bool(self.has_prefix or prefix),
        )

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

    def _encode(self, name: str, field: str, codec: Codec[Any], obj: Any) -> bytes | None:
        if obj is None:
            return None  # a null key, or a tombstone: never passed to the codec
        try:
            data = codec.encode(obj)
        except Exception as exc:
            raise EncodeError(
                f"cannot encode the {field} for topic {name!r} with codec "
                f"{getattr(codec, 'name', type(codec).__name__)!r}: {exc}",
                topic=name,
                field=field,
            ) from exc
        if type(data) is not bytes:
            if isinstance(data, bytearray | memoryview):
                return bytes(data)
            raise EncodeError(
                f"codec {getattr(codec, 'name', type(codec).__name__)!r} returned "
                f"{type(data).__name__}, not bytes, for the {field} of topic {name!r}",
                topic=name,
                field=field,
            )
        return data

    async def prepare_key(
        self,
        key: K | None,
        key_serializer: Serializer | None = None,
        schema: Schema | None = None,
        *,
        topic: str | None = None,
    ) -> bytes | None:
        """Serialize ``key`` for ``topic`` (default: this topic's name)."""
        name = topic or self.get_topic_name()
        codec, needs_prepare = self._codec(name, True, key_serializer, schema)
        if needs_prepare and key is not None:
            await cast(PreparedCodec, codec).prepare()
        return self._encode(name, "key", codec, key)

    async def prepare_value(
        self,
        value: V | None,
        value_serializer: Serializer | None = None,
        schema: Schema | None = None,
        *,
        topic: str | None = None,
    ) -> bytes | None:
        """Serialize ``value`` for ``topic``; ``None`` stays ``None`` (a tombstone)."""
        name = topic or self.get_topic_name()
        codec, needs_prepare = self._codec(name, False, value_serializer, schema)
        if needs_prepare and value is not None:
            await cast(PreparedCodec, codec).prepare()
        return self._encode(name, "value", codec, value)

    # -- sending ------------------------------------------------------------------

    async def send(
        self,
        *,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        force: bool = False,
    ) -> Awaitable[RecordMetadata]:
        """Encode and queue a record; returns an awaitable of its :class:`RecordMetadata`.

        Encoding happens before anything is sent (an :class:`EncodeError` names the topic
        and field). ``value=None`` is a tombstone. An async ``callback`` is awaited before
        the returned awaitable resolves. ``force`` is accepted for Faust compatibility.
        """
        # Inlined prepare_key/prepare_value: this is the hot path of every producer.
        fast = self._fast
        if (
            fast is None
            or key_serializer is not None
            or value_serializer is not None
            or (schema is not None)
        ):
            fast = self._send_codecs(key_serializer, value_serializer, schema)
        name, key_codec, value_codec, prepared = fast
        if prepared:
            await self._prepare_codecs(key_codec, value_codec, key, value)
        key_bytes: bytes | None = None
        value_bytes: bytes | None = None
        try:
            if key is not None:
                key_bytes = key_codec.encode(key)
            if value is not None:
                value_bytes = value_codec.encode(value)
        except Exception:
            key_bytes = value_bytes = None  # re-encode below for the precise error
        if (key is not None and type(key_bytes) is not bytes) or (
            value is not None and type(value_bytes) is not bytes
        ):
            key_bytes = self._encode(name, "key", key_codec, key)
            value_bytes = self._encode(name, "value", value_codec, value)
        hdrs = normalize_headers(headers) if headers else None
        if callback is None:
            producer = self.app._producer or await self.app.maybe_start_producer()
            return producer.delivery(
                await producer.send(
                    name,
                    key_bytes,
                    value_bytes,
                    partition=partition,
                    timestamp_ms=None if timestamp is None else int(timestamp * 1000),
                    headers=hdrs,
                )
            )
        fut = FutureMessage(
            PendingMessage(
                self,
                key_bytes,
                value_bytes,
                partition,
                timestamp,
                hdrs or [],
                key_serializer,
                value_serializer,
                callback,
                name,
                schema=schema,
            )
        )
        return await self.publish_message(fut)

    def _send_codecs(
        self,
        key_serializer: Serializer | None,
        value_serializer: Serializer | None,
        schema: Schema | None,
    ) -> tuple[str, Codec[Any], Codec[Any], bool]:
        name = self.get_topic_name()
        key_codec, key_prepared = self._codec(name, True, key_serializer, schema)
        value_codec, value_prepared = self._codec(name, False, value_serializer, schema)
        result = (name, key_codec, value_codec, key_prepared or value_prepared)
        if key_serializer is None and value_serializer is None and schema is None:
            self._fast = result
        return result

    @staticmethod
    async def _prepare_codecs(
        key_codec: Codec[Any], value_codec: Codec[Any], key: Any, value: Any
    ) -> None:
        if key is not None and isinstance(key_codec, PreparedCodec):
            await key_codec.prepare()
        if value is not None and isinstance(value_codec, PreparedCodec):
            await value_codec.prepare()

    def as_future_message(
        self,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        eager_partitioning: bool = False,
    ) -> FutureMessage:
        """Build the FutureMessage for a record, encoding now unless a codec needs async
        preparation (then encoding happens when it is published)."""
        name = self.get_topic_name()
        kc, k_prep = self._codec(name, True, key_serializer, schema)
        vc, v_prep = self._codec(name, False, value_serializer, schema)
        encoded = not (k_prep or v_prep)
        key_out: Any = self._encode(name, "key", kc, key) if encoded else key
        value_out: Any = self._encode(name, "value", vc, value) if encoded else value
        if eager_partitioning and partition is None and key_out is not None and encoded:
            partition = self.app.key_partition(name, key_out)
        message = PendingMessage(
            self,
            key_out,
            value_out,
            partition,
            timestamp,
            normalize_headers(headers),
            key_serializer,
            value_serializer,
            callback,
            name,
            schema=schema,
            encoded=encoded,
        )
        return FutureMessage(message)

    def send_soon(
        self,
        *,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        force: bool = False,
        eager_partitioning: bool = False,
    ) -> FutureMessage:
        """Encode now and buffer the record; the app's producer sends it in the background.

        Returns the FutureMessage, resolved once the broker acked the record. The app
        flushes the buffer when it stops.
        """
        fut = self.as_future_message(
            key,
            value,
            partition,
            timestamp,
            headers,
            schema,
            key_serializer,
            value_serializer,
            callback,
            eager_partitioning,
        )
        self.app.send_soon(fut)
        return fut

    async def publish_message(
        self, fut: FutureMessage, wait: bool = False
    ) -> Awaitable[RecordMetadata]:
        """Send ``fut``'s record. ``wait=True`` waits for the ack and returns ``fut``;
        otherwise returns an awaitable that resolves after the ack and the callback."""
        message = fut.message
        name = self._topic_name_or_default(message.topic or message.channel)
        if not message.encoded:
            message.key = await self.prepare_key(
                message.key, message.key_serializer, message.schema, topic=name
            )
            message.value = await self.prepare_value(
                message.value, message.value_serializer, message.schema, topic=name
            )
            message.encoded = True
        producer = self.app.producer_or_none or await self.app.maybe_start_producer()
        delivery = producer.delivery(
            await producer.send(
                name,
                message.key,
                message.value,
                partition=message.partition,
                timestamp_ms=None if message.timestamp is None else int(message.timestamp * 1000),
                headers=normalize_headers(message.headers) or None,
            )
        )
        if wait:
            await self._finalize(fut, delivery)
            return fut
        return self.app.track(self._finalize(fut, delivery))

    async def _finalize(
        self, fut: FutureMessage, delivery: Awaitable[RecordMetadata]
    ) -> RecordMetadata:
        try:
            metadata = await delivery
        except BaseException as exc:
            if not fut.done():
                fut.set_exception(exc)
            raise
        if not fut.done():
            fut.set_result(metadata)
        callback = fut.message.callback
        if callback is not None:
            result = callback(fut)
            if result is not None and hasattr(result, "__await__"):
                await result
        return metadata

    # -- declaring ----------------------------------------------------------------

    async def declare(self) -> list[TopicConfigMismatch]:
        """Create each name with partitions, replicas, retention, cleanup policy and config;
        compare existing topics and report differences by the app's policy.

        Returns the mismatches found (the seed's ``None`` is an empty list here).
        """
        if not self.app.conf.topic_allow_declare or not self.topics:
            return []
        admin = await self.app.admin()
        config = topic_config(
            retention=self.retention_seconds,
            compacting=self.compacting,
            deleting=self.deleting,
            config=self.config,
        )
        return await declare_names(
            self.app,
            admin,
            self.topics,
            partitions=self.partitions,
            replicas=self.replicas,
            config=config,
        )

    async def maybe_declare(self) -> None:
        """Declare once: concurrent callers share one call; a failure reaches all of them and
        a later call tries again."""
        state = self._declare
        if state.done:
            return
        if state.task is None:
            state.task = asyncio.ensure_future(self._declare_once(state))
        await asyncio.shield(state.task)

    async def _declare_once(self, state: _SharedDeclare) -> None:
        try:
            await self.declare()
        except BaseException:
            state.task = None
            raise
        state.done = True

    # -- consuming ----------------------------------------------------------------

    @property
    def queue(self) -> asyncio.Queue[Any]:
        """The delivery queue (created on first use, bounded by ``maxsize``)."""
        if self._queue is None:
            size = self.maxsize if self.maxsize is not None else self.app.conf.stream_buffer_maxsize
            self._queue = asyncio.Queue(maxsize=size)
        return self._queue

    def __aiter__(self) -> Self:
        if self.is_iterator:
            return self
        clone = self.clone(is_iterator=True)
        self.app.conductor.add(clone)
        return clone

    async def __anext__(self) -> Event[K, V]:
        if not self.is_iterator:
            raise RuntimeError("Need to call channel.__aiter__()")
        self._ack_current()
        await self.app.conductor.ensure_running()
        item = await self.queue.get()
        if type(item) is _Failure:
            self._current = item.message
            raise item.error
        self._current = item
        return cast(Event[K, V], item)

    def _ack_current(self) -> None:
        # The reader asking for the next event means the previous one is processed.
        current, self._current = self._current, None
        if current is None:
            return
        if isinstance(current, Event):
            current.ack()
        elif self.acks:
            self.app.conductor.ack(current)

    def ack(self, event: Event[K, V]) -> bool:
        """Mark ``event`` processed now (otherwise it is when the next one is read)."""
        return event.ack()

    async def get(self, timeout: float | None = None) -> Event[K, V]:
        """The next event, waiting at most ``timeout`` seconds when given."""
        if timeout:
            return await asyncio.wait_for(self.__anext__(), timeout)
        return await self.__anext__()

    def empty(self) -> bool:
        """Whether no event is waiting."""
        return self.queue.empty()

    async def put(self, event: Event[K, V]) -> None:
        """Put ``event`` on this iterator's own queue (local; nothing goes to Kafka)."""
        if not self.is_iterator:
            raise RuntimeError(f"Cannot put on Topic channel before aiter({self})")
        await self.queue.put(event)

    def throw(self, exc: BaseException) -> None:
        """Make the reader's next read raise ``exc``."""
        self.queue.put_nowait(_Failure(exc, None))

    async def decode(self, message: Message, *, propagate: bool = True) -> Event[K, V]:
        """Decode ``message`` into a typed event; a failure is a :class:`DecodeError` naming
        topic, partition, offset and field."""
        name = message.topic
        key: Any = None
        value: Any = None
        field = "key"
        try:
            if message.key is not None:
                codec, prepared = self._codec(name, True, None, None)
                key = (
                    await cast(PreparedCodec, codec).decode_async(message.key)
                    if prepared
                    else codec.decode(message.key)
                )
            field = "value"
            if message.value is not None:
                codec, prepared = self._codec(name, False, None, None)
                value = (
                    await cast(PreparedCodec, codec).decode_async(message.value)
                    if prepared
                    else codec.decode(message.value)
                )
        except Exception as exc:
            raise DecodeError(
                f"cannot decode the {field} of {name}[{message.partition}]@{message.offset}: {exc}",
                topic=name,
                partition=message.partition,
                offset=message.offset,
                field=field,
                data=message.key if field == "key" else message.value,
            ) from exc
        on_ack = self.app.conductor.ack if self.acks else None
        return Event(key, value, dict(message.headers), message, on_ack=on_ack)

    async def deliver(self, message: Message) -> None:
        """The consumer's path: decode and queue the event, or queue the decode error."""
        try:
            item: Any = await self.decode(message)
        except DecodeError as exc:
            item = _Failure(exc, message)
        await self.queue.put(item)

    def on_stop_iteration(self) -> None:
        """Iteration stopped: an isolated-partition clone leaves the app's subscriptions."""
        if self.active_partitions is not None:
            self.app.conductor.discard(self)

    def subscribed_names(self) -> Iterable[str]:
        """The topic names this topic reads (empty for a pattern topic)."""
        return self.topics
