"""The ``kafka://`` transport on aiokafka: producer, consumer and admin client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Generator, Mapping
from re import Pattern
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, for_code

from runtime.errors import DeclareError
from runtime.messages import TP, Headers, Message, RecordMetadata
from runtime.transport.base import (
    AdminTransport,
    ConsumerSettings,
    ConsumerTransport,
    ProducerSettings,
    ProducerTransport,
    TopicDescription,
    Transport,
)

__all__ = ["KafkaAdmin", "KafkaConsumer", "KafkaProducer", "KafkaTransport"]

_TOPIC_ALREADY_EXISTS = 36
_NO_TIMESTAMP = -1


_new_metadata = tuple.__new__


class _Delivery:
    """Awaits aiokafka's delivery future and converts its metadata (no extra Future per send)."""

    __slots__ = ("_fut",)

    def __init__(self, fut: Any) -> None:
        self._fut = fut

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        fut = self._fut
        md = fut.result() if fut.done() else (yield from fut.__await__())
        # aiokafka's RecordMetadata: (topic, partition, topic_partition, offset, timestamp ms,
        # timestamp_type, log_start_offset); built with tuple.__new__ because this runs per record.
        topic, partition, _, offset, ts, ts_type, _ = md
        seconds = None if ts is None or ts == _NO_TIMESTAMP else ts / 1000.0
        return _new_metadata(RecordMetadata, (topic, partition, offset, seconds, ts_type or 0))


class KafkaProducer(ProducerTransport):
    """aiokafka's producer with the app's settings (murmur2 default partitioner)."""

    def __init__(self, bootstrap_servers: str, settings: ProducerSettings) -> None:
        self._bootstrap = bootstrap_servers
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._send: Callable[..., Awaitable[Any]] | None = None

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
        # Bound once: send() runs per record and should add as little as possible.
        self._send = self._producer.send

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            producer, self._producer, self._send = self._producer, None, None
            await producer.stop()

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
        """aiokafka's own ``send`` coroutine (queues in its accumulator; returns its future)."""
        send = self._send
        if send is None:
            raise RuntimeError(f"kafka producer for {topic!r} is not started")
        return send(topic, value, key, partition, timestamp_ms, headers or None)

    def delivery(self, handle: Any) -> Awaitable[RecordMetadata]:
        """Wrap aiokafka's delivery future so it resolves to our :class:`RecordMetadata`."""
        return _Delivery(handle)

    async def flush(self) -> None:
        """Wait for all queued records."""
        if self._producer is not None:
            await self._producer.flush()

    async def partitions_for(self, topic: str) -> int:
        """Partition count from cluster metadata."""
        if self._producer is None:
            raise RuntimeError(f"kafka producer for {topic!r} is not started")
        return len(await self._producer.partitions_for(topic))


def _subscription_regex(topics: frozenset[str], patterns: tuple[Pattern[str], ...]) -> str:
    parts = [f"(?:{p.pattern})" for p in patterns]
    if topics:
        parts.append("(?:" + "|".join(re.escape(t) + "$" for t in sorted(topics)) + ")")
    return "|".join(parts)


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

    async def subscribe(self, topics: frozenset[str], patterns: tuple[Pattern[str], ...]) -> None:
        """Subscribe to names and patterns (one regex when any pattern is involved)."""
        consumer = self._require()
        self._subscribed = bool(topics or patterns)
        if patterns:
            consumer.subscribe(pattern=_subscription_regex(topics, patterns))
        elif topics:
            consumer.subscribe(topics=sorted(topics))
        else:
            consumer.unsubscribe()

    async def getmany(self, timeout_ms: int) -> dict[TP, list[Message]]:
        """Fetch records, converted to :class:`Message`."""
        consumer = self._require()
        if not self._subscribed:
            await asyncio.sleep(timeout_ms / 1000.0)
            return {}
        batches = await consumer.getmany(timeout_ms=timeout_ms)
        out: dict[TP, list[Message]] = {}
        for tp, records in batches.items():
            out[TP(tp.topic, tp.partition)] = [
                Message(
                    r.topic,
                    r.partition,
                    r.offset,
                    None if r.timestamp is None else r.timestamp / 1000.0,
                    r.key,
                    r.value,
                    list(r.headers or ()),
                    r.timestamp_type,
                )
                for r in records
            ]
        return out

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
            await consumer.commit(todo)

    async def committed(self, tp: TP) -> int | None:
        """The group's committed offset for ``tp``."""
        result: int | None = await self._require().committed(TopicPartition(tp.topic, tp.partition))
        return result


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
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
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


class KafkaTransport(Transport):
    """Builds aiokafka-backed clients for ``bootstrap_servers``."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    def producer(self, settings: ProducerSettings) -> KafkaProducer:
        """A new aiokafka producer."""
        return KafkaProducer(self.bootstrap_servers, settings)

    def consumer(self, settings: ConsumerSettings) -> KafkaConsumer:
        """A new aiokafka consumer."""
        return KafkaConsumer(self.bootstrap_servers, settings)

    def admin(self) -> KafkaAdmin:
        """A new aiokafka admin client."""
        return KafkaAdmin(self.bootstrap_servers)
