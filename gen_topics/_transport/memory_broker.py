"""The in-process broker behind ``memory://``: topics, partitions, offsets, consumer groups.

One broker per name per process (``memory://`` is the default one, ``memory://x``
another), so several apps in one process share topics and consumer groups exactly as
they would on Kafka. Keys are partitioned with Kafka's murmur2, keyless records round-robin.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from re import Pattern
from typing import ClassVar

from gen_topics._messages import TP, Headers, Message, RecordMetadata
from gen_topics._partitioner import RoundRobin, partition_for_key
from gen_topics.errors import TransactionFencedError, UnknownPartitionError

__all__ = ["MemoryBroker", "MemoryTopic", "UnknownPartitionError"]


@dataclass
class MemoryTopic:
    """A topic's partitions (lists of records, index == offset), replicas and declared config."""

    name: str
    partitions: list[list[Message]]
    replicas: int = 1
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class _Member:
    """A consumer in a group: its subscription and a wake-up hook for new records."""

    topics: frozenset[str]
    patterns: tuple[Pattern[str], ...]
    wake: Callable[[], None]

    def wants(self, topic: str) -> bool:
        return topic in self.topics or any(p.match(topic) for p in self.patterns)


@dataclass
class _Group:
    committed: dict[TP, int] = field(default_factory=dict)
    members: dict[int, _Member] = field(default_factory=dict)
    generation: int = 0
    # Which member reads each partition now; a new owner waits until the old one let go.
    owners: dict[TP, int] = field(default_factory=dict)

    def rebalance(self) -> None:
        self.generation += 1
        for member in self.members.values():
            member.wake()


class MemoryBroker:
    """An in-process Kafka stand-in. Get one with :meth:`get`; :meth:`reset` forgets them all."""

    _brokers: ClassVar[dict[str, MemoryBroker]] = {}

    def __init__(self, name: str = "", *, num_partitions: int = 1):
        self.name = name
        self.num_partitions = num_partitions
        self.topics: dict[str, MemoryTopic] = {}
        self.groups: dict[str, _Group] = {}
        self._round_robin = RoundRobin()
        self._ids = 0
        # Transactions: each transactional id's epoch, and its open transaction's records.
        self._epochs: dict[str, int] = {}
        self._open: dict[str, dict[TP, list[int]]] = {}
        self._aborted: dict[TP, set[int]] = {}

    @classmethod
    def get(cls, name: str = "") -> MemoryBroker:
        """The process-wide broker called ``name`` (created on first use)."""
        broker = cls._brokers.get(name)
        if broker is None:
            broker = cls._brokers[name] = MemoryBroker(name)
        return broker

    @classmethod
    def reset(cls, name: str | None = None) -> None:
        """Forget one broker (or all of them): its topics, records and groups."""
        if name is None:
            cls._brokers.clear()
        else:
            cls._brokers.pop(name, None)

    # -- topics -----------------------------------------------------------------

    def create_topic(
        self, name: str, *, partitions: int, replicas: int = 1, config: Mapping[str, str] = {}
    ) -> bool:
        """Create ``name``; False when it already exists (nothing changes then)."""
        if name in self.topics:
            return False
        if partitions < 1:
            raise ValueError(f"topic {name!r}: partitions must be >= 1, got {partitions}")
        self.topics[name] = MemoryTopic(
            name, [[] for _ in range(partitions)], replicas, {k: str(v) for k, v in config.items()}
        )
        self._bump_all_groups()
        return True

    def topic(self, name: str) -> MemoryTopic:
        """The topic ``name``, auto-created with ``num_partitions`` like Kafka's default."""
        topic = self.topics.get(name)
        if topic is None:
            self.create_topic(name, partitions=self.num_partitions)
            topic = self.topics[name]
        return topic

    # -- produce ----------------------------------------------------------------

    def append(
        self,
        topic_name: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers | None = None,
        transaction: tuple[str, int] | None = None,
    ) -> RecordMetadata:
        """Append one record and wake the consumers that want it; ``transaction`` (a
        transactional id and its epoch) makes it part of that id's open transaction."""
        topic = self.topic(topic_name)
        count = len(topic.partitions)
        if partition is None:
            if key is None:
                partition = self._round_robin.partition(topic_name, count)
            else:
                partition = partition_for_key(key, count)
        elif not 0 <= partition < count:
            raise UnknownPartitionError(
                f"topic {topic_name!r} has partitions 0..{count - 1}, got partition {partition}"
            )
        log = topic.partitions[partition]
        offset = len(log)
        if transaction is not None:
            self._check_epoch(*transaction)
            records = self._open.setdefault(transaction[0], {})
            records.setdefault(TP(topic_name, partition), []).append(offset)
        ts_ms = int(time.time() * 1000.0) if timestamp_ms is None else timestamp_ms
        log.append(
            Message(topic_name, partition, offset, ts_ms / 1000.0, key, value, headers or [])
        )
        for group in self.groups.values():
            for member in group.members.values():
                if member.wants(topic_name):
                    member.wake()
        return RecordMetadata(topic_name, partition, TP(topic_name, partition), offset, ts_ms, 0)

    # -- transactions -----------------------------------------------------------

    def init_transactions(self, transactional_id: str) -> int:
        """Register a producer for ``transactional_id``: the transaction a previous producer
        of that id left open is aborted, and that producer is fenced. Returns the epoch."""
        self._finish(transactional_id, commit=False)
        epoch = self._epochs.get(transactional_id, -1) + 1
        self._epochs[transactional_id] = epoch
        return epoch

    def _check_epoch(self, transactional_id: str, epoch: int) -> None:
        if self._epochs.get(transactional_id) != epoch:
            raise TransactionFencedError(
                f"transactional id {transactional_id!r} was taken over by a newer producer "
                "(another instance with the same id started): this one may not send or commit "
                "in a transaction any more; stop it"
            )

    def end_transaction(
        self,
        transactional_id: str,
        epoch: int,
        *,
        commit: bool,
        group_id: str | None = None,
        offsets: Mapping[TP, int] | None = None,
    ) -> None:
        """Commit (with the group's consumed ``offsets``) or abort the open transaction."""
        self._check_epoch(transactional_id, epoch)
        if commit and group_id is not None and offsets:
            self.commit(group_id, offsets)
        self._finish(transactional_id, commit=commit)

    def _finish(self, transactional_id: str, *, commit: bool) -> None:
        records = self._open.pop(transactional_id, None)
        if not records:
            return
        if not commit:
            for tp, offsets in records.items():
                self._aborted.setdefault(tp, set()).update(offsets)
        for group in self.groups.values():
            for member in group.members.values():
                member.wake()

    def stable_end(self, tp: TP) -> int:
        """The last stable offset of ``tp``: below it no record is in an open transaction
        (what a ``read_committed`` reader may read up to)."""
        end = len(self.topics[tp.topic].partitions[tp.partition])
        for records in self._open.values():
            offsets = records.get(tp)
            if offsets:
                end = min(end, offsets[0])
        return end

    def aborted(self, tp: TP) -> set[int]:
        """The offsets of ``tp`` written by aborted transactions."""
        return self._aborted.get(tp, set())

    # -- consumer groups --------------------------------------------------------

    def join(self, group_id: str, member: _Member) -> int:
        """Add a member to ``group_id``; returns its id."""
        self._ids += 1
        group = self.groups.setdefault(group_id, _Group())
        group.members[self._ids] = member
        group.rebalance()
        return self._ids

    def leave(self, group_id: str, member_id: int) -> None:
        """Remove a member; its partitions go to the others."""
        group = self.groups.get(group_id)
        if group is not None and group.members.pop(member_id, None) is not None:
            group.rebalance()

    def update_member(self, group_id: str, member_id: int, member: _Member) -> None:
        """Change a member's subscription (a rebalance)."""
        group = self.groups[group_id]
        group.members[member_id] = member
        group.rebalance()

    def generation(self, group_id: str) -> int:
        """Changes whenever the group's assignment may change."""
        return self.groups[group_id].generation

    def assignment(self, group_id: str, member_id: int) -> list[TP]:
        """The partitions of ``member_id``: each wanted partition goes round-robin to the
        members that want its topic, in join order."""
        group = self.groups[group_id]
        owned: list[TP] = []
        for name in sorted(self.topics):
            wanting = [mid for mid, m in group.members.items() if m.wants(name)]
            if member_id not in wanting:
                continue
            for partition in range(len(self.topics[name].partitions)):
                if wanting[partition % len(wanting)] == member_id:
                    owned.append(TP(name, partition))
        return owned

    def claim(self, group_id: str, member_id: int, tp: TP) -> bool:
        """Take ``tp`` for ``member_id``: False while the member that read it before has not
        released it (it may still commit what it processed)."""
        group = self.groups[group_id]
        owner = group.owners.get(tp)
        if owner is not None and owner != member_id and owner in group.members:
            return False
        group.owners[tp] = member_id
        return True

    def release(self, group_id: str, member_id: int, tps: set[TP]) -> None:
        """``member_id`` stopped reading ``tps``; members waiting for them are woken."""
        group = self.groups[group_id]
        for tp in tps:
            if group.owners.get(tp) == member_id:
                del group.owners[tp]
        for member in group.members.values():
            member.wake()

    def commit(self, group_id: str, offsets: Mapping[TP, int]) -> None:
        """Store the group's next offsets to read."""
        self.groups.setdefault(group_id, _Group()).committed.update(offsets)

    def committed(self, group_id: str, tp: TP) -> int | None:
        """The group's committed offset for ``tp``."""
        group = self.groups.get(group_id)
        return None if group is None else group.committed.get(tp)

    def _bump_all_groups(self) -> None:
        # A new topic can match a pattern subscription: every group re-assigns.
        for group in self.groups.values():
            group.rebalance()


def new_member(
    topics: frozenset[str], patterns: tuple[Pattern[str], ...], wake: asyncio.Event
) -> _Member:
    """A group member that sets ``wake`` when records it may want arrive."""

    def notify() -> None:
        # A member whose event loop is gone (an app never stopped) must not break producers.
        with contextlib.suppress(RuntimeError):
            wake.set()

    return _Member(topics, patterns, notify)
