"""The interface every transport implements: producer, consumer and admin."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from re import Pattern
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from gen_topics._messages import TP, Headers, Message, RecordMetadata
from gen_topics.errors import DeclareError, TransactionError

__all__ = [
    "AdminTransport",
    "ConsumerSettings",
    "ConsumerTransport",
    "DeliveryFn",
    "FetchedRecord",
    "GroupMetadata",
    "ProducerSettings",
    "ProducerTransport",
    "QueueFn",
    "RebalanceListener",
    "SendFn",
    "SendPath",
    "TopicDescription",
    "Transport",
    "passthrough",
]


@dataclass(frozen=True)
class ProducerSettings:
    """Producer knobs shared by all transports (Kafka names in parentheses).

    ``acks``: 0, 1 or -1/"all" (``acks``); ``linger_ms`` (``linger.ms``);
    ``compression_type``: None, "gzip", "snappy", "lz4", "zstd";
    ``enable_idempotence``; ``request_timeout_ms``; ``max_batch_size`` (``batch.size``);
    ``transactional_id`` (``transactional.id``: set, the producer sends in transactions) and
    ``transaction_timeout_ms`` (``transaction.timeout.ms``).
    """

    acks: int | str = -1
    linger_ms: int = 0
    compression_type: str | None = None
    enable_idempotence: bool = False
    request_timeout_ms: int = 40000
    max_batch_size: int = 16384
    client_id: str | None = None
    transactional_id: str | None = None
    transaction_timeout_ms: int = 60000


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
    isolation_level: str = "read_uncommitted"


@dataclass(frozen=True)
class GroupMetadata:
    """What the group coordinator checks before it takes a transaction's offsets (KIP-447,
    Java's ``ConsumerGroupMetadata``): the consumer's group, generation, member id and static
    instance id. Generation -1 with an empty member id: the consumer is not a member now."""

    group_id: str
    generation_id: int = -1
    member_id: str = ""
    group_instance_id: str | None = None

    @property
    def is_member(self) -> bool:
        """Whether the consumer holds a generation of the group now."""
        return self.generation_id >= 0 and bool(self.member_id)


@dataclass(frozen=True)
class TopicDescription:
    """What the broker reports about an existing topic."""

    name: str
    partitions: int
    replicas: int
    config: Mapping[str, str] = field(default_factory=dict)


SendFn = Callable[
    [str, bytes | None, bytes | None, int | None, int | None, Headers | None], Awaitable[Any]
]
"""``send(topic, value, key, partition, timestamp_ms, headers)``: queue one record; awaiting the
result returns once it is queued, with a delivery handle. The argument order is aiokafka's, so
its bound ``send`` serves as is."""

DeliveryFn = Callable[[Any, str, int | None, bytes | None], Awaitable[RecordMetadata]]
"""``delivery(handle, topic, partition, key)``: the awaitable of the record's
:class:`RecordMetadata`, from the handle that awaiting ``send`` returned. It raises a
:class:`~gen_topics.errors.DeliveryError` naming the topic and partition (the partition the key
maps to when none was given) when the broker does not acknowledge the record."""


QueueFn = Callable[[str, bytes | None, bytes | None, int | None, int | None, Headers | None], Any]
"""``queue(topic, value, key, partition, timestamp_ms, headers)``: queue one record at once,
without a coroutine: the same delivery handle awaiting ``send`` gives, or ``None`` when the
record cannot be queued without waiting or checking more (then ``send`` does it, nothing was
queued). It raises what ``send`` raises for a record that cannot be sent at all."""


def passthrough(handle: Any, topic: str, partition: int | None, key: bytes | None) -> Any:
    """The delivery of a transport whose handle already is the awaitable of our
    :class:`RecordMetadata`: the handle as it is (the sender skips the call)."""
    return handle


class SendPath(NamedTuple):
    """The callables a started producer sends through, fetched once per producer.

    Separate callables, and not methods, so the per-record path adds no Python frame over the
    client's own ``send``; ``queue`` (when the transport has one) not even a coroutine.
    """

    send: SendFn
    delivery: DeliveryFn
    queue: QueueFn | None = None


class ProducerTransport(ABC):
    """Sends records through :meth:`send_path`; a record's delivery resolves once acked."""

    on_send_path_change: Callable[[SendPath], None] | None = None
    """Set by the app: called with the new :class:`SendPath` when the producer replaced its
    client (after which the old path's ``send`` fails)."""

    @abstractmethod
    async def start(self) -> None:
        """Connect."""

    @abstractmethod
    async def stop(self) -> None:
        """Flush what is queued and disconnect."""

    @abstractmethod
    def send_path(self) -> SendPath:
        """The send and delivery callables of the started producer (valid until :meth:`stop`)."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until every queued record was acked or failed."""

    @abstractmethod
    async def abort(self, reason: str) -> None:
        """Fail every record queued or in flight now (``reason`` says why; their deliveries
        raise ``DeliveryError``) and disconnect without waiting for them; :meth:`stop` is a
        no-op afterwards."""

    # -- transactions (a producer with ``transactional_id``; exactly-once processing) ------

    async def begin_transaction(self) -> None:
        """Open a transaction: what is sent from now on is visible to ``read_committed``
        readers only once :meth:`commit_transaction` returns."""
        raise TransactionError(f"{type(self).__name__} does not support transactions")

    async def commit_transaction(
        self, offsets: Mapping[TP, int], group_id: str, member: GroupMetadata | None = None
    ) -> None:
        """Add the consumed ``offsets`` of ``group_id`` to the open transaction and commit it
        (sends and offsets together, or neither); a new transaction is then open.

        ``member``: the consuming member's group metadata, taken when the commit starts; the
        group refuses the offsets of a member it has fenced (a stale generation) and the
        commit raises :class:`~gen_topics.errors.MemberFencedError`."""
        raise TransactionError(f"{type(self).__name__} does not support transactions")

    async def abort_transaction(self) -> None:
        """Abort the open transaction (its records are never visible to ``read_committed``
        readers); a new transaction is then open."""
        raise TransactionError(f"{type(self).__name__} does not support transactions")

    def send_error(
        self, exc: Exception, topic: str, partition: int | None, key: bytes | None
    ) -> Exception | None:
        """The error to raise for ``exc``, raised by ``send`` (before the record was queued),
        or None to raise ``exc`` itself. Transports turn their client's errors into
        :class:`~gen_topics.errors.DeliveryError` here."""
        return None

    def retriable(self, exc: BaseException) -> bool:
        """Whether sending again may succeed after ``exc`` (a transient broker condition)."""
        return bool(getattr(exc, "retriable", False))


class RebalanceListener(Protocol):
    """Told when the group moves partitions away from this member and to it."""

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Before ``revoked`` go to another member (commit what was processed now)."""

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """``assigned`` are newly this member's; reading resumes at their committed offsets."""


class FetchedRecord(Protocol):
    """A record as :meth:`ConsumerTransport.getmany` returns it: a :class:`Message`, or the
    client's own record object (converted to a Message only when a reader asks for one)."""

    @property
    def topic(self) -> str:
        """The topic name."""

    @property
    def partition(self) -> int:
        """The partition."""

    @property
    def offset(self) -> int:
        """The offset."""

    @property
    def key(self) -> bytes | None:
        """The raw key."""

    @property
    def value(self) -> bytes | None:
        """The raw value."""

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        """The headers, as ordered (name, value) pairs."""


class ConsumerTransport(ABC):
    """Reads records for a consumer group and commits offsets."""

    @staticmethod
    def to_message(record: Any) -> Message:
        """The :class:`Message` of a record that :meth:`getmany` returned (here: itself)."""
        return record  # type: ignore[no-any-return]

    @abstractmethod
    async def start(self) -> None:
        """Connect and join the group."""

    @abstractmethod
    async def stop(self) -> None:
        """Leave the group and disconnect (does not commit)."""

    @abstractmethod
    async def subscribe(
        self,
        topics: frozenset[str],
        patterns: tuple[Pattern[str], ...],
        listener: RebalanceListener | None = None,
    ) -> None:
        """Replace the subscription with these names and patterns; ``listener`` hears of
        every partition the group takes away from this member or gives to it."""

    @abstractmethod
    async def getmany(self, timeout_ms: int) -> Mapping[TP, Sequence[FetchedRecord]]:
        """Return fetched records, ascending offsets per partition (possibly none after
        ``timeout_ms``); :meth:`to_message` turns one into a :class:`Message`."""

    @abstractmethod
    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Commit ``offsets`` (the next offset to read, per partition) for the group."""

    @abstractmethod
    async def committed(self, tp: TP) -> int | None:
        """The group's committed offset for ``tp``, or None."""

    def group_metadata(self) -> GroupMetadata | None:
        """This member's group metadata now (generation, member id), for a transaction's
        offsets; None where the transport's groups have no generations (memory://)."""
        return None

    # -- positions (seek, replay, lag) -----------------------------------------------------

    @abstractmethod
    def assignment(self) -> frozenset[TP]:
        """The partitions the group assigned to this member now."""

    @abstractmethod
    async def seek(self, tp: TP, offset: int) -> None:
        """Fetch ``tp`` from ``offset`` next (an assigned partition; nothing is committed)."""

    @abstractmethod
    async def position(self, tp: TP) -> int:
        """The offset of the next record :meth:`getmany` returns for the assigned ``tp``."""

    @abstractmethod
    async def beginning_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """The first offset still in the log of each partition."""

    @abstractmethod
    async def end_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """The offset the next record written to each partition will get."""

    @abstractmethod
    async def offsets_for_times(self, timestamps: Mapping[TP, int]) -> dict[TP, int | None]:
        """Per partition, the first offset whose record timestamp (ms) is at or after the
        given one; None when no such record exists yet."""


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

    # What `gen-topics apply` needs beyond declaring; a transport without them says so.

    async def list_topics(self) -> list[str]:
        """The names of the cluster's (non-internal) topics, sorted."""
        raise DeclareError(f"{type(self).__name__} cannot list topics")

    async def create_partitions(self, name: str, total: int) -> None:
        """Raise the partition count of ``name`` to ``total``."""
        raise DeclareError(f"{type(self).__name__} cannot add partitions")

    async def alter_topic_config(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Set (or, for None, reset) the named configs of ``name``; others stay as they are."""
        raise DeclareError(f"{type(self).__name__} cannot change topic configs")


E = TypeVar("E")


class Transport(Generic[E]):
    """Builds the producer, consumer and admin client for one broker.

    Each client is built from ``endpoint`` (what the broker URL points at: a bootstrap
    string, an in-process broker) by the factory the subclass passes in.
    """

    def __init__(
        self,
        endpoint: E,
        *,
        producer: Callable[[E, ProducerSettings], ProducerTransport],
        consumer: Callable[[E, ConsumerSettings], ConsumerTransport],
        admin: Callable[[E], AdminTransport],
    ) -> None:
        self.endpoint = endpoint
        self._factories = (producer, consumer, admin)

    def producer(self, settings: ProducerSettings) -> ProducerTransport:
        """A new, unstarted producer."""
        return self._factories[0](self.endpoint, settings)

    def consumer(self, settings: ConsumerSettings) -> ConsumerTransport:
        """A new, unstarted consumer."""
        return self._factories[1](self.endpoint, settings)

    def admin(self) -> AdminTransport:
        """A new, unstarted admin client."""
        return self._factories[2](self.endpoint)
