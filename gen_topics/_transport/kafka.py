"""The ``kafka://`` transport on aiokafka: producer, consumer and admin client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Generator, Mapping, Sequence
from re import Pattern
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    for_code,
)

from gen_topics._messages import TP, Message, RecordMetadata
from gen_topics._transport.base import (
    AdminTransport,
    ConsumerSettings,
    ConsumerTransport,
    ProducerSettings,
    ProducerTransport,
    RebalanceListener,
    SendPath,
    TopicDescription,
    Transport,
)
from gen_topics.errors import CommitFailed, DeclareError

__all__ = ["KafkaAdmin", "KafkaConsumer", "KafkaProducer", "KafkaTransport"]

_TOPIC_ALREADY_EXISTS = 36


_new_metadata = tuple.__new__

# What a commit raises when the group is rebalancing or has moved the partitions on.
_REBALANCE_ERRORS = (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)


class _Delivery:
    """Awaits aiokafka's delivery future and takes its metadata over (no extra Future)."""

    __slots__ = ("_fut", "_topic")

    def __init__(self, fut: Any, topic: str) -> None:
        self._fut = fut
        self._topic = topic

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        md = yield from self._fut
        if md is None:
            # acks=0: aiokafka resolves without metadata (the broker sends none).
            return RecordMetadata(self._topic, -1, TP(self._topic, -1), -1)
        # aiokafka's RecordMetadata has our field order: one tuple copy (runs per record).
        return _new_metadata(RecordMetadata, md)


class KafkaProducer(ProducerTransport):
    """aiokafka's producer with the app's settings (murmur2 default partitioner)."""

    def __init__(self, bootstrap_servers: str, settings: ProducerSettings) -> None:
        self._bootstrap = bootstrap_servers
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect to the cluster."""
        s = self.settings
        acks: int | str = "all" if s.acks in (-1, "all") else s.acks
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=s.client_id or "gen-topics",
            acks=acks,
            linger_ms=s.linger_ms,
            compression_type=s.compression_type,
            enable_idempotence=s.enable_idempotence,
            request_timeout_ms=s.request_timeout_ms,
            max_batch_size=s.max_batch_size,
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    def send_path(self) -> SendPath:
        """aiokafka's own bound ``send`` (same argument order) and :class:`_Delivery`."""
        if self._producer is None:
            raise RuntimeError("kafka producer is not started: call start() first")
        return SendPath(self._producer.send, _Delivery)

    async def flush(self) -> None:
        """Wait for all queued records."""
        if self._producer is not None:
            await self._producer.flush()


def _subscription_regex(topics: frozenset[str], patterns: tuple[Pattern[str], ...]) -> str:
    parts = [f"(?:{p.pattern})" for p in patterns]
    if topics:
        parts.append("(?:" + "|".join(re.escape(t) + "$" for t in sorted(topics)) + ")")
    return "|".join(parts)


class _ListenerAdapter(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's rebalance callbacks, passed on with :class:`TP` sets."""

    def __init__(self, listener: RebalanceListener) -> None:
        self._listener = listener

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._listener.on_partitions_revoked({TP(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._listener.on_partitions_assigned({TP(tp.topic, tp.partition) for tp in assigned})


class KafkaConsumer(ConsumerTransport):
    """aiokafka's group consumer with auto-commit off: the app commits processed offsets."""

    def __init__(self, bootstrap_servers: str, settings: ConsumerSettings) -> None:
        self._bootstrap = bootstrap_servers
        self.settings = settings
        self._consumer: AIOKafkaConsumer | None = None
        self._subscribed = False

    async def start(self) -> None:
        """Connect (the group is joined on the first fetch after :meth:`subscribe`)."""
        s = self.settings
        kwargs: dict[str, Any] = {}
        if s.max_poll_records is not None:
            kwargs["max_poll_records"] = s.max_poll_records
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=s.group_id,
            client_id=s.client_id or "gen-topics",
            enable_auto_commit=False,
            auto_offset_reset=s.auto_offset_reset,
            metadata_max_age_ms=s.metadata_max_age_ms,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            **kwargs,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        """Leave the group and disconnect."""
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("kafka consumer is not started")
        return self._consumer

    async def subscribe(
        self,
        topics: frozenset[str],
        patterns: tuple[Pattern[str], ...],
        listener: RebalanceListener | None = None,
    ) -> None:
        """Subscribe to names and patterns (one regex when any pattern is involved)."""
        consumer = self._require()
        self._subscribed = bool(topics or patterns)
        adapter = _ListenerAdapter(listener) if listener is not None else None
        if patterns:
            consumer.subscribe(pattern=_subscription_regex(topics, patterns), listener=adapter)
        elif topics:
            consumer.subscribe(topics=sorted(topics), listener=adapter)
        else:
            consumer.unsubscribe()

    @staticmethod
    def to_message(record: Any) -> Message:
        """aiokafka's ``ConsumerRecord`` as a :class:`Message` (timestamp in seconds)."""
        ts = record.timestamp
        return Message(
            record.topic,
            record.partition,
            record.offset,
            None if ts is None else ts / 1000.0,
            record.key,
            record.value,
            list(record.headers or ()),
            record.timestamp_type,
        )

    async def getmany(self, timeout_ms: int) -> Mapping[TP, Sequence[Any]]:
        """Fetch records: aiokafka's own ``ConsumerRecord`` objects (no copy per record; a
        reader converts one with :meth:`to_message` only when it asks for ``message``)."""
        consumer = self._require()
        if not self._subscribed:
            await asyncio.sleep(timeout_ms / 1000.0)
            return {}
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        return {TP(tp.topic, tp.partition): records for tp, records in batches.items()}

    async def commit(self, offsets: Mapping[TP, int]) -> None:
        """Commit offsets of partitions still assigned to this member."""
        consumer = self._require()
        assigned = consumer.assignment()
        todo = {
            TopicPartition(tp.topic, tp.partition): offset
            for tp, offset in offsets.items()
            if TopicPartition(tp.topic, tp.partition) in assigned
        }
        if todo:
            try:
                await consumer.commit(todo)
            except _REBALANCE_ERRORS as exc:
                where = ", ".join(f"{tp.topic}[{tp.partition}]@{o}" for tp, o in todo.items())
                raise CommitFailed(
                    f"group {self.settings.group_id!r} did not take the commit of {where} "
                    f"(it is rebalancing; the records will be read again): {exc}",
                    offsets={(tp.topic, tp.partition): o for tp, o in todo.items()},
                ) from exc

    async def committed(self, tp: TP) -> int | None:
        """The group's committed offset for ``tp``."""
        result: int | None = await self._require().committed(TopicPartition(tp.topic, tp.partition))
        return result

    def assignment(self) -> frozenset[TP]:
        """The partitions the group assigned to this member."""
        return frozenset(TP(tp.topic, tp.partition) for tp in self._require().assignment())

    async def seek(self, tp: TP, offset: int) -> None:
        """aiokafka's ``seek`` (prefetched records of ``tp`` are dropped)."""
        try:
            self._require().seek(TopicPartition(tp.topic, tp.partition), offset)
        except IllegalStateError as exc:
            raise ValueError(f"partition {tp.topic}[{tp.partition}] is not assigned") from exc

    async def position(self, tp: TP) -> int:
        """aiokafka's ``position``."""
        try:
            result: int = await self._require().position(TopicPartition(tp.topic, tp.partition))
        except IllegalStateError as exc:
            raise ValueError(f"partition {tp.topic}[{tp.partition}] is not assigned") from exc
        return result

    async def beginning_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """ListOffsets(earliest)."""
        found = await self._require().beginning_offsets([TopicPartition(*tp) for tp in tps])
        return {TP(tp.topic, tp.partition): int(offset) for tp, offset in found.items()}

    async def end_offsets(self, tps: Collection[TP]) -> dict[TP, int]:
        """ListOffsets(latest)."""
        found = await self._require().end_offsets([TopicPartition(*tp) for tp in tps])
        return {TP(tp.topic, tp.partition): int(offset) for tp, offset in found.items()}

    async def offsets_for_times(self, timestamps: Mapping[TP, int]) -> dict[TP, int | None]:
        """ListOffsets by timestamp (Kafka's offsets-for-times)."""
        found = await self._require().offsets_for_times(
            {TopicPartition(*tp): ts for tp, ts in timestamps.items()}
        )
        return {
            TP(tp.topic, tp.partition): None if entry is None else int(entry.offset)
            for tp, entry in found.items()
        }


class KafkaAdmin(AdminTransport):
    """Creates topics and reads partitions and config back with aiokafka's admin client."""

    def __init__(self, bootstrap_servers: str, request_timeout_ms: int = 30000) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._admin: AIOKafkaAdminClient | None = None

    async def start(self) -> None:
        """Connect."""
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, request_timeout_ms=self._timeout_ms
            )
            await self._admin.start()

    async def close(self) -> None:
        """Disconnect."""
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.close()

    def _require(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise RuntimeError("kafka admin client is not started")
        return self._admin

    async def create_topic(
        self, name: str, *, partitions: int, replicas: int, config: Mapping[str, str]
    ) -> bool:
        """CreateTopics; False when it already exists, :class:`DeclareError` on other errors."""
        admin = self._require()
        response = await admin.create_topics(
            [NewTopic(name, partitions, replicas, topic_configs=dict(config))],
            timeout_ms=self._timeout_ms,
        )
        for entry in response.topic_errors:
            topic, code = entry[0], entry[1]
            message = entry[2] if len(entry) > 2 else None
            if code == 0:
                await self._wait_visible(name, partitions)
                return True
            if code == _TOPIC_ALREADY_EXISTS:
                return False
            error = for_code(code)
            raise DeclareError(
                f"Cannot create topic: {topic} ({code}): {message or error.__name__} "
                f"(partitions={partitions}, replicas={replicas}, config={dict(config)})"
            )
        raise DeclareError(f"Cannot create topic: {name}: empty CreateTopics response")

    async def _wait_visible(self, name: str, partitions: int) -> None:
        # CreateTopics returns before every broker's metadata has the topic; callers
        # describe or produce right away, so wait until all partitions have a leader.
        admin = self._require()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_ms / 1000.0
        while loop.time() < deadline:
            topics = await admin.describe_topics([name])
            meta = next((t for t in topics if t["topic"] == name), None)
            if (
                meta is not None
                and meta["error_code"] == 0
                and len(meta["partitions"]) == partitions
                and all(p["leader"] >= 0 for p in meta["partitions"])
            ):
                return
            await asyncio.sleep(0.05)
        raise DeclareError(
            f"topic {name!r} was created but its {partitions} partitions did not get a leader "
            f"within {self._timeout_ms} ms"
        )

    async def describe_topic(self, name: str) -> TopicDescription | None:
        """Partitions and replication from metadata, config from DescribeConfigs."""
        admin = self._require()
        try:
            topics = await admin.describe_topics([name])
        except KafkaError as exc:
            raise DeclareError(f"cannot describe topic {name!r}: {exc}") from exc
        meta = next((t for t in topics if t["topic"] == name), None)
        if meta is None or meta["error_code"] != 0 or not meta["partitions"]:
            return None
        partitions = meta["partitions"]
        replicas = len(partitions[0]["replicas"])
        try:
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name)]
            )
        except KafkaError as exc:
            raise DeclareError(f"cannot read config of topic {name!r}: {exc}") from exc
        config: dict[str, str] = {}
        for response in responses:
            for resource in response.resources:
                error_code, error_message, entries = resource[0], resource[1], resource[4]
                if error_code:
                    raise DeclareError(
                        f"cannot read config of topic {name!r}: ({error_code}) {error_message}"
                    )
                for entry in entries:
                    if entry[1] is not None:
                        config[entry[0]] = entry[1]
        return TopicDescription(name, len(partitions), replicas, config)


class KafkaTransport(Transport[str]):
    """Builds aiokafka-backed clients for ``bootstrap_servers``."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(
            bootstrap_servers, producer=KafkaProducer, consumer=KafkaConsumer, admin=KafkaAdmin
        )
