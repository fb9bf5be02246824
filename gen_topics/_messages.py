"""Records on their way to and from the broker: what was sent, what came back, what was read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from gen_topics._schema import Schema

__all__ = [
    "TP",
    "FutureMessage",
    "Headers",
    "Message",
    "MessageCallback",
    "PendingMessage",
    "RecordMetadata",
    "normalize_headers",
]

Headers = list[tuple[str, bytes]]
"""Record headers as Kafka keeps them: ordered (name, value) pairs; names may repeat."""

MessageCallback = Callable[["FutureMessage"], Awaitable[None] | None]
"""Called with the FutureMessage once the broker acknowledged it; awaited when async."""


class TP(NamedTuple):
    """A topic partition."""

    topic: str
    partition: int


class RecordMetadata(NamedTuple):
    """Where the broker stored a produced record.

    The fields are those of aiokafka's (and Faust's) ``RecordMetadata``, in the same order,
    so the Kafka transport's batches build it where aiokafka builds its own. On Kafka
    ``topic_partition`` is aiokafka's ``TopicPartition``: a NamedTuple equal to :class:`TP`,
    with the same fields. ``timestamp_ms`` is what the broker reported, CreateTime (0) or
    LogAppendTime (1) per ``timestamp_type``; :attr:`timestamp` is the same in seconds, like
    Faust's API. Without acks (``producer_acks=0``) the offset is -1 and there is no timestamp.
    """

    topic: str
    partition: int
    topic_partition: TP
    offset: int
    timestamp_ms: int | None = None
    timestamp_type: int = 0
    log_start_offset: int | None = None

    @property
    def timestamp(self) -> float | None:
        """The record's timestamp in seconds, or None when the broker reported none."""
        ms = self.timestamp_ms
        return None if ms is None or ms < 0 else ms / 1000.0


@dataclass(slots=True)
class PendingMessage:
    """A serialized record waiting to be produced (Faust's ``PendingMessage``).

    ``channel`` is the topic object that publishes it; ``key``/``value`` are bytes
    (``None`` for a null key or a tombstone) once ``encoded`` is True. They are still the
    original objects when a codec needs async preparation first (e.g. a registry lookup).
    """

    channel: Any
    key: Any
    value: Any
    partition: int | None = None
    timestamp: float | None = None
    headers: Headers | Mapping[str, bytes] | None = None
    key_serializer: Any = None
    value_serializer: Any = None
    callback: MessageCallback | None = None
    topic: str | None = None
    offset: int | None = None
    schema: Schema | None = None
    encoded: bool = True


class FutureMessage(asyncio.Future[RecordMetadata]):
    """A future that resolves to the :class:`RecordMetadata` of ``message`` once it is acked."""

    message: PendingMessage

    def __init__(self, message: PendingMessage, *, loop: asyncio.AbstractEventLoop | None = None):
        super().__init__(loop=loop)
        self.message = message


@dataclass(slots=True)
class Message:
    """A record as consumed from the broker (raw bytes, before decoding).

    ``timestamp`` is in seconds (float). ``headers`` keeps Kafka's ordered pairs.
    """

    topic: str
    partition: int
    offset: int
    timestamp: float | None
    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)
    timestamp_type: int = 0

    @property
    def tp(self) -> TP:
        """The (topic, partition) the record came from."""
        return TP(self.topic, self.partition)


def normalize_headers(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> Headers:
    """Turn a mapping or sequence of headers into Kafka's list of (str, bytes) pairs.

    Raises ``TypeError`` naming the header when a name is not str or a value not bytes.
    """
    if not headers:
        return []
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    out: Headers = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"header {pair!r} is not a (name, value) pair") from None
        if not isinstance(name, str):
            raise TypeError(f"header name {name!r} must be str, got {type(name).__name__}")
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif isinstance(value, bytearray | memoryview):
            value = bytes(value)
        elif value is not None and not isinstance(value, bytes):
            raise TypeError(f"header {name!r} value must be bytes, got {type(value).__name__}")
        out.append((name, value))
    return out
