"""The interface every transport implements: producer, consumer and admin."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

from runtime.messages import TP, Headers, Message, RecordMetadata

__all__ = [
    "AdminTransport",
    "ConsumerSettings",
    "ConsumerTransport",
    "ProducerSettings",
    "ProducerTransport",
    "TopicDescription",
    "Transport",
]


@dataclass(frozen=True)
class ProducerSettings:
    """Producer knobs shared by all transports (Kafka names in parentheses).

    ``acks``: 0, 1 or -1/"all" (``acks``); ``linger_ms`` (``linger.ms``);
    ``compression_type``: None, "gzip", "snappy", "lz4", "zstd";
    ``enable_idempotence``; ``request_timeout_ms``; ``max_batch_size`` (``batch.size``).
    """

    acks: int | str = -1
    linger_ms: int = 0
    compression_type: str | None = None
    enable_idempotence: bool = False
    request_timeout_ms: int = 40000
    max_batch_size: int = 16384
    client_id: str | None = None


@dataclass(frozen=True)
class ConsumerSettings:
    """Consumer knobs: group, where to start without a committed offset, metadata refresh."""

    group_id: str
    auto_offset_reset: str = "earliest"
    client_id: str | None = None
    metadata_max_age_ms: int = 300000
    max_poll_records: int | None = None
    session_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 3000


@dataclass(frozen=True)
class TopicDescription:
    """What the broker reports about an existing topic."""

    name: str
    partitions: int
    replicas: int
    config: Mapping[str, str] = field(default_factory=dict)


class ProducerTransport(ABC):
    """Sends records; ``send`` returns once the record is queued, its result once acked."""

    @abstractmethod
    async def start(self) -> None:
        """Connect."""

    @abstractmethod
    async def stop(self) -> None:
        """Flush what is queued and disconnect."""

    @abstractmethod
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers | None = None,
    ) -> Awaitable[Any]:
        """Queue a record: awaiting the result returns once it is queued, with a raw delivery
        handle that :meth:`delivery` turns into an awaitable of :class:`RecordMetadata`.

        Split in two so the hot path adds no coroutine frame over the client's own ``send``.
        """

    @abstractmethod
    def delivery(self, handle: Any) -> Awaitable[RecordMetadata]:
        """The awaitable of the record's metadata, from what awaiting :meth:`send` returned."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until every queued record was acked or failed."""

    @abstractmethod
    async def partitions_for(self, topic: str) -> int:
        """Number of partitions of ``topic`` (the broker may auto-create it)."""


class ConsumerTransport(ABC):
    """Reads records for a consumer group and commits offsets."""

    @abstractmethod
    async def start(self) -> None:
        """Connect and join the group."""

    @abstractmethod
    async def stop(self) -> None:
        """Leave the group and disconnect (does not commit)."""

    @abstractmethod
    async def subscribe(self, topics: frozenset[str], patterns: tuple[Pattern[str], ...]) -> None:
        """Replace the subscription with these names and patterns."""

    @abstractmethod
    async def getmany(self, timeout_ms: int) -> dict[TP, list[Message]]:
        """Return fetched records (possibly none after ``timeout_ms``)."""

    @abstractmethod
    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Commit ``offsets`` (the next offset to read, per partition) for the group."""

    @abstractmethod
    async def committed(self, tp: TP) -> int | None:
        """The group's committed offset for ``tp``, or None."""


class AdminTransport(ABC):
    """Creates and describes topics."""

    @abstractmethod
    async def start(self) -> None:
        """Connect."""

    @abstractmethod
    async def close(self) -> None:
        """Disconnect."""

    @abstractmethod
    async def create_topic(
        self, name: str, *, partitions: int, replicas: int, config: Mapping[str, str]
    ) -> bool:
        """Create ``name``; True when created, False when it already existed."""

    @abstractmethod
    async def describe_topic(self, name: str) -> TopicDescription | None:
        """Partitions, replicas and (non-default) config of ``name``, or None if it is missing."""


class Transport(ABC):
    """Builds the producer, consumer and admin client for one broker URL."""

    @abstractmethod
    def producer(self, settings: ProducerSettings) -> ProducerTransport:
        """A new, unstarted producer."""

    @abstractmethod
    def consumer(self, settings: ConsumerSettings) -> ConsumerTransport:
        """A new, unstarted consumer."""

    @abstractmethod
    def admin(self) -> AdminTransport:
        """A new, unstarted admin client."""
