"""The ``memory://`` transport: producer, consumer and admin on a :class:`MemoryBroker`."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Generator, Mapping, Sequence
from re import Pattern
from typing import Any, Generic, TypeVar

from gen_topics._messages import TP, Headers, Message, RecordMetadata
from gen_topics._transport.base import (
    AdminTransport,
    ConsumerSettings,
    ConsumerTransport,
    GroupMetadata,
    ProducerSettings,
    ProducerTransport,
    RebalanceListener,
    SendPath,
    TopicDescription,
    Transport,
)
from gen_topics._transport.memory_broker import MemoryBroker, new_member

__all__ = ["MemoryAdmin", "MemoryConsumer", "MemoryProducer", "MemoryTransport", "Resolved"]

T = TypeVar("T")

_MAX_FETCH = 500


class Resolved(Generic[T]):
    """An awaitable that is already done: cheaper than a Future for synchronous appends."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self._value
        yield  # pragma: no cover - makes this a generator


def _delivered(
    metadata: RecordMetadata, topic: str, partition: int | None, key: bytes | None
) -> Resolved[RecordMetadata]:
    return Resolved(metadata)


class MemoryProducer(ProducerTransport):
    """Appends straight to the broker; every send is acked at once.

    With a ``transactional_id``, records join the open transaction: ``read_committed``
    readers see them once it commits, never when it aborts (as on Kafka).
    """

    def __init__(self, broker: MemoryBroker, settings: ProducerSettings) -> None:
        self.broker = broker
        self.settings = settings
        self._transaction: tuple[str, int] | None = None

    async def start(self) -> None:
        """Nothing to connect; a transactional producer fences older ones of its id."""
        tid = self.settings.transactional_id
        if tid is not None and self._transaction is None:
            self._transaction = (tid, self.broker.init_transactions(tid))

    async def begin_transaction(self) -> None:
        """Every send of a transactional producer is in the open transaction."""
        if self._transaction is None:
            await super().begin_transaction()

    async def commit_transaction(
        self, offsets: Mapping[TP, int], group_id: str, member: GroupMetadata | None = None
    ) -> None:
        """Commit the records sent since the last commit or abort, with ``offsets`` (the
        memory broker's groups have no generations: ``member`` is not checked)."""
        if self._transaction is None:
            await super().commit_transaction(offsets, group_id, member)
            return
        self.broker.end_transaction(
            *self._transaction, commit=True, group_id=group_id, offsets=offsets
        )

    async def abort_transaction(self) -> None:
        """Abort the records sent since the last commit or abort."""
        if self._transaction is None:
            await super().abort_transaction()
            return
        self.broker.end_transaction(*self._transaction, commit=False)

    async def stop(self) -> None:
        """Nothing is buffered."""

    def send_path(self) -> SendPath:
        """Append at once (the handle is the metadata); the delivery is already done."""
        return SendPath(self._send, _delivered, self._queue)

    async def _send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers | None = None,
    ) -> RecordMetadata:
        return self._queue(topic, value, key, partition, timestamp_ms, headers)

    def _queue(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers | None = None,
    ) -> RecordMetadata:
        # Appending never waits: the same as _send without its coroutine.
        return self.broker.append(
            topic,
            key,
            value,
            partition=partition,
            timestamp_ms=timestamp_ms,
            headers=headers,
            transaction=self._transaction,
        )

    async def flush(self) -> None:
        """Nothing is buffered."""

    async def abort(self, reason: str) -> None:
        """Nothing is ever in flight: every send is acked (or fails) at once."""


class MemoryConsumer(ConsumerTransport):
    """A group member on the memory broker; positions start at the committed offset."""

    def __init__(self, broker: MemoryBroker, settings: ConsumerSettings) -> None:
        self.broker = broker
        self.settings = settings
        self._wake = asyncio.Event()
        self._member_id: int | None = None
        self._generation = -1
        self._assigned: list[TP] = []
        self._positions: dict[TP, int] = {}
        self._topics: frozenset[str] = frozenset()
        self._patterns: tuple[Pattern[str], ...] = ()
        self._listener: RebalanceListener | None = None

    async def start(self) -> None:
        """Join the group (with an empty subscription until :meth:`subscribe`)."""
        if self._member_id is None:
            self._member_id = self.broker.join(
                self.settings.group_id, new_member(self._topics, self._patterns, self._wake)
            )

    async def stop(self) -> None:
        """Leave the group."""
        if self._member_id is not None:
            self.broker.leave(self.settings.group_id, self._member_id)
            self._member_id = None

    async def subscribe(
        self,
        topics: frozenset[str],
        patterns: tuple[Pattern[str], ...],
        listener: RebalanceListener | None = None,
    ) -> None:
        """Replace the subscription; the group rebalances."""
        self._topics, self._patterns = topics, patterns
        self._listener = listener
        if self._member_id is None:
            await self.start()
        assert self._member_id is not None
        self.broker.update_member(
            self.settings.group_id, self._member_id, new_member(topics, patterns, self._wake)
        )
        self._wake.set()

    async def _refresh_assignment(self) -> None:
        assert self._member_id is not None
        group_id, member_id = self.settings.group_id, self._member_id
        generation = self.broker.generation(group_id)
        if generation != self._generation:
            self._generation = generation
            self._assigned = self.broker.assignment(group_id, member_id)
            revoked = set(self._positions) - set(self._assigned)
            if revoked:
                # Like Kafka: the listener commits before the partitions are given up.
                if self._listener is not None:
                    await self._listener.on_partitions_revoked(revoked)
                self.broker.release(group_id, member_id, revoked)
                self._positions = {
                    tp: pos for tp, pos in self._positions.items() if tp not in revoked
                }
        claimed: set[TP] = set()
        for tp in self._assigned:
            if tp not in self._positions and self.broker.claim(group_id, member_id, tp):
                claimed.add(tp)
                self._positions[tp] = self._start_offset(tp)
        if claimed and self._listener is not None:
            await self._listener.on_partitions_assigned(claimed)

    def _start_offset(self, tp: TP) -> int:
        committed = self.broker.committed(self.settings.group_id, tp)
        if committed is not None:
            return committed
        if self.settings.auto_offset_reset == "latest":
            return len(self.broker.topics[tp.topic].partitions[tp.partition])
        return 0

    async def getmany(self, timeout_ms: int) -> dict[TP, Sequence[Message]]:
        """Records past each position, waiting up to ``timeout_ms`` for some to arrive."""
        if self._member_id is None:
            await asyncio.sleep(timeout_ms / 1000.0)
            return {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000.0
        limit = self.settings.max_poll_records or _MAX_FETCH
        while True:
            self._wake.clear()
            await self._refresh_assignment()
            out: dict[TP, Sequence[Message]] = {}
            budget = limit
            committed_only = self.settings.isolation_level == "read_committed"
            for tp, pos in list(self._positions.items()):
                log = self.broker.topics[tp.topic].partitions[tp.partition]
                end = self.broker.stable_end(tp) if committed_only else len(log)
                if pos < end and budget > 0:
                    batch = log[pos : min(end, pos + budget)]
                    self._positions[tp] = pos + len(batch)
                    aborted = self.broker.aborted(tp) if committed_only else None
                    if aborted:
                        batch = [m for m in batch if m.offset not in aborted]
                    if batch:
                        out[tp] = batch
                        budget -= len(batch)
            if out:
                return out
            remaining = deadline - loop.time()
            if remaining <= 0:
                return {}
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            # that races with the event being set, and the app could then never stop.
            try:
                async with asyncio.timeout(remaining):
                    await self._wake.wait()
            except TimeoutError:
                return {}

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Store the offsets for the group."""
        self.broker.commit(self.settings.group_id, offsets)

    async def committed(self, tp: TP) -> int | None:
        """The group's committed offset for ``tp``."""
        return self.broker.committed(self.settings.group_id, tp)

    def assignment(self) -> frozenset[TP]:
        """The partitions this member reads now."""
        return frozenset(self._positions)

    async def seek(self, tp: TP, offset: int) -> None:
        """Read ``tp`` from ``offset`` next."""
        if tp not in self._positions:
            raise ValueError(f"partition {tp.topic}[{tp.partition}] is not assigned")
        self._positions[tp] = offset
        self._wake.set()

    async def position(self, tp: TP) -> int:
        """The next offset :meth:`getmany` returns for ``tp``."""
        try:
            return self._positions[tp]
        except KeyError:
            raise ValueError(f"partition {tp.topic}[{tp.partition}] is not assigned") from None

    def _log(self, tp: TP) -> list[Message]:
        topic = self.broker.topics.get(tp.topic)
        if topic is None or not 0 <= tp.partition < len(topic.partitions):
            raise ValueError(f"topic {tp.topic!r} has no partition {tp.partition}")
        return topic.partitions[tp.partition]

    async def beginning_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """0: the memory broker keeps every record."""
        for tp in tps:
            self._log(tp)
        return dict.fromkeys(tps, 0)

    async def end_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """The length of each partition's log (``read_committed``: its last stable offset,
        before the first record of an open transaction, as on Kafka)."""
        if self.settings.isolation_level == "read_committed":
            return {tp: (self._log(tp), self.broker.stable_end(tp))[1] for tp in tps}
        return {tp: len(self._log(tp)) for tp in tps}

    async def offsets_for_times(self, timestamps: Mapping[TP, int]) -> dict[TP, int | None]:
        """The first record at or after each timestamp (ms), as Kafka's index finds it."""
        out: dict[TP, int | None] = {}
        for tp, ts_ms in timestamps.items():
            found: int | None = None
            for message in self._log(tp):
                ts = message.timestamp
                if ts is not None and round(ts * 1000.0) >= ts_ms:
                    found = message.offset
                    break
            out[tp] = found
        return out


class MemoryAdmin(AdminTransport):
    """Creates and describes topics on the memory broker."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Nothing to close."""

    async def create_topic(
        self, name: str, *, partitions: int, replicas: int, config: Mapping[str, str]
    ) -> bool:
        """Create the topic; False when it exists."""
        return self.broker.create_topic(
            name, partitions=partitions, replicas=replicas, config=config
        )

    async def describe_topic(self, name: str) -> TopicDescription | None:
        """The stored partitions, replicas and declared config."""
        topic = self.broker.topics.get(name)
        if topic is None:
            return None
        return TopicDescription(name, len(topic.partitions), topic.replicas, dict(topic.config))


class MemoryTransport(Transport[MemoryBroker]):
    """Builds memory producers, consumers and admins for the broker named ``name``."""

    def __init__(self, name: str = "") -> None:
        self.broker = MemoryBroker.get(name)
        super().__init__(
            self.broker, producer=MemoryProducer, consumer=MemoryConsumer, admin=MemoryAdmin
        )
