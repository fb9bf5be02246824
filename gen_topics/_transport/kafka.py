"""The ``kafka://`` transport on aiokafka: producer, consumer and admin client."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from re import Pattern
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    BrokerResponseError,
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    InvalidProducerEpoch,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
    ProducerClosed,
    ProducerFenced,
    RebalanceInProgressError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownMemberIdError,
    UnknownTopicOrPartitionError,
    for_code,
)
from aiokafka.protocol.metadata import MetadataRequest

from gen_topics import _log_throttle
from gen_topics._messages import TP, Message
from gen_topics._partitioner import partition_for_key
from gen_topics._transport import kafka_records
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
from gen_topics._transport.kafka_configs import (
    OP_DELETE,
    OP_SET,
    IncrementalAlterConfigsRequest,
)
from gen_topics._transport.kafka_delivery import (
    ConvertingDelivery,
    install_batch_hook,
    passthrough,
)
from gen_topics._transport.kafka_kip447 import (
    StaleMemberError,
    install_group_fencing,
    install_stable_offset_fetch,
)
from gen_topics._transport.kafka_queue import queue_function
from gen_topics.errors import (
    CommitFailed,
    DeclareError,
    DeliveryError,
    MemberFencedError,
    TransactionError,
    TransactionFencedError,
    TransactionTimeoutError,
    UnknownPartitionError,
)

__all__ = ["KafkaAdmin", "KafkaConsumer", "KafkaProducer", "KafkaTransport"]

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36
# How often an idempotent producer looks for records it has retried for too long.
_WATCHDOG_INTERVAL_S = 1.0
_monotonic = time.monotonic


# What a commit raises when the group is rebalancing or has moved the partitions on.
_REBALANCE_ERRORS = (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, BrokerResponseError):
        return f"{name} (error {exc.errno}: {exc.description})"
    text = str(exc).rstrip(".")
    if not text or text == name:
        return name
    return text if text.startswith(name) else f"{name}: {text}"


def _advice(exc: BaseException, bootstrap: str) -> str:
    if isinstance(exc, NotEnoughReplicasError | NotEnoughReplicasAfterAppendError):
        return (
            "fewer replicas are in sync than the topic's min.insync.replicas, which a record "
            "sent with acks=all needs: check that enough of the cluster's brokers are up"
        )
    if isinstance(exc, UnknownTopicOrPartitionError):
        return (
            "check that the topic exists (declare it, or let the broker auto-create topics) "
            "and that the partition is below its partition count"
        )
    if isinstance(exc, MessageSizeTooLargeError | RecordListTooLargeError | RecordTooLargeError):
        return (
            "the record is larger than the topic's max.message.bytes or the producer's "
            "max_request_size: make it smaller or raise the limit"
        )
    if isinstance(exc, TopicAuthorizationFailedError):
        return "check that this client may write to the topic (ACLs)"
    if _is_transient(exc):
        return (
            f"check that the brokers at {bootstrap} are up and reachable from this host, that "
            "the partition has a leader, and (with acks=all) that enough brokers are up for "
            "min.insync.replicas of its replicas to be in sync"
        )
    return "see the broker's log for the cause"


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DeliveryError):
        return exc.retriable
    # KafkaTimeoutError: buffer full or no metadata in time; ProducerClosed: the client was
    # replaced (idempotent producer restart) while the record was on its way.
    return isinstance(exc, KafkaError) and (
        bool(exc.retriable) or isinstance(exc, KafkaTimeoutError | ProducerClosed)
    )


class KafkaProducer(ProducerTransport):
    """aiokafka's producer with the app's settings (murmur2 default partitioner).

    Every record is acknowledged or fails within ``request_timeout_ms``: aiokafka itself
    gives up on a record after that long, except with idempotence, where it retries forever
    (a batch given up alone would break the partition's sequence numbers). There a watchdog
    fails every outstanding record once one is older than the timeout and starts a new
    client (a new producer id), like the Java client's delivery timeout.
    """

    def __init__(self, bootstrap_servers: str, settings: ProducerSettings) -> None:
        self._bootstrap = bootstrap_servers
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._hooked = False
        self.restarts = 0
        # The consuming member's group metadata for the commit under way (KIP-447).
        self._member: GroupMetadata | None = None
        # When the open transaction began (monotonic), to tell the broker's timeout abort
        # from a fencing by another producer: both make it answer with a newer epoch.
        self._txn_began: float | None = None

    def _build(self) -> AIOKafkaProducer:
        s = self.settings
        acks: int | str = "all" if s.acks in (-1, "all") else s.acks
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=s.client_id or "gen-topics",
            acks=acks,
            linger_ms=s.linger_ms,
            compression_type=s.compression_type,
            enable_idempotence=s.enable_idempotence,
            request_timeout_ms=s.request_timeout_ms,
            max_batch_size=s.max_batch_size,
            **(
                {
                    "transactional_id": s.transactional_id,
                    "transaction_timeout_ms": s.transaction_timeout_ms,
                }
                if s.transactional_id is not None
                else {}
            ),
        )
        self._hooked = install_batch_hook(producer, self.delivery_error)
        if s.transactional_id is not None:
            install_group_fencing(producer, lambda: self._member)
        return producer

    async def start(self) -> None:
        """Connect to the cluster."""
        producer = self._build()
        try:
            if self.settings.transactional_id is None:
                await producer.start()
            else:
                await self._start_transactional(producer)
        except BaseException:
            # Unreachable brokers, or cancelled (the app stops): leave no client behind.
            await asyncio.gather(asyncio.shield(producer.stop()), return_exceptions=True)
            raise
        self._producer = producer
        if self.settings.transactional_id is not None:
            try:
                await self.begin_transaction()
            except BaseException:
                self._producer = None
                await asyncio.gather(asyncio.shield(producer.stop()), return_exceptions=True)
                raise
            return
        if self.settings.enable_idempotence and self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="gen-topics-producer-watchdog")

    async def _start_transactional(self, producer: AIOKafkaProducer) -> None:
        # aiokafka's start waits for the producer id (FindCoordinator, InitProducerId) with
        # no bound: where no transaction coordinator can exist it would wait forever.
        timeout = self.settings.request_timeout_ms / 1000.0
        try:
            async with asyncio.timeout(timeout):
                await producer.start()
        except TimeoutError as exc:
            brokers = len(producer.client.cluster.brokers())
            raise TransactionError(
                f"no transaction coordinator answered for transactional id "
                f"{self.settings.transactional_id!r} within {timeout:g} s "
                f"(producer_request_timeout_ms): the cluster at {self._bootstrap} has "
                f"{brokers} broker(s) up, and its transaction state topic (__transaction_state) "
                "needs transaction.state.log.replication.factor brokers (default 3) with "
                "transaction.state.log.min.isr of its replicas in sync (default 2): set both "
                "in the brokers' config to at most the number of brokers (1 on a single "
                "broker), or start more brokers; see the broker's log for the transaction "
                "state topic"
            ) from exc

    async def stop(self) -> None:
        """Flush and disconnect."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    def send_path(self) -> SendPath:
        """aiokafka's own bound ``send`` (same argument order), and its delivery future as
        it is: this producer's batches resolve it with our types (see kafka_delivery); and
        the synchronous way into its batches for records that need no waiting (kafka_queue)."""
        if self._producer is None:
            raise RuntimeError("kafka producer is not started: call start() first")
        queue = queue_function(self._producer)
        if self._hooked:
            return SendPath(self._producer.send, passthrough, queue)
        delivery = type(
            "ConvertingDelivery",
            (ConvertingDelivery,),
            {"__slots__": (), "_error": staticmethod(self.delivery_error)},
        )
        return SendPath(self._producer.send, delivery, queue)

    async def flush(self) -> None:
        """Wait for all queued records."""
        if self._producer is not None:
            await self._producer.flush()

    async def abort(self, reason: str) -> None:
        """Fail every queued and in-flight record with ``reason`` and disconnect."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
        producer = self._producer
        if producer is not None:
            await _abandon(producer, reason)
        self._producer = None

    # -- transactions ----------------------------------------------------------------

    def _transactional(self) -> AIOKafkaProducer:
        if self._producer is None or self.settings.transactional_id is None:
            raise TransactionError(
                "the kafka producer is not started with a transactional id "
                "(processing_guarantee='exactly_once' or producer_transactional_id)"
            )
        return self._producer

    def _transaction_error(self, exc: BaseException, doing: str) -> TransactionError:
        tid = self.settings.transactional_id
        if isinstance(exc, StaleMemberError):
            md = exc.metadata
            return _member_fenced(
                f"{doing} transaction of transactional id {tid!r} failed: group "
                f"{md.group_id!r} fenced member {md.member_id!r} of generation "
                f"{md.generation_id} ({exc.error_name}: the group rebalanced without it, or "
                "another member took its group instance id)",
                md,
                exc.error_name,
            )
        timeout_s = self.settings.transaction_timeout_ms / 1000.0
        elapsed = None if self._txn_began is None else _monotonic() - self._txn_began
        if (
            isinstance(exc, ProducerFenced | InvalidProducerEpoch)
            and elapsed is not None
            and elapsed >= timeout_s
        ):
            return TransactionTimeoutError(
                f"{doing} transaction of transactional id {tid!r} failed: it was open for "
                f"{elapsed:.1f} s, longer than producer_transaction_timeout_ms="
                f"{self.settings.transaction_timeout_ms}, and the broker aborted it "
                f"({_reason(exc)}); nothing of it is visible and its events are processed "
                "again: process an event (or batch) faster, commit more often "
                "(transaction_commit_interval), or raise producer_transaction_timeout_ms (the "
                "broker caps it at transaction.max.timeout.ms)",
                elapsed=elapsed,
                timeout=timeout_s,
            )
        if isinstance(exc, ProducerFenced | InvalidProducerEpoch):
            return TransactionFencedError(
                f"{doing} transaction of transactional id {tid!r} failed: a newer producer with "
                f"that id started (another instance), or the transaction ran longer than "
                f"producer_transaction_timeout_ms={self.settings.transaction_timeout_ms} and the "
                f"broker aborted it: {_reason(exc)}"
            )
        if isinstance(exc, TimeoutError):
            timeout = self.settings.request_timeout_ms / 1000.0
            return TransactionError(
                f"{doing} transaction of transactional id {tid!r} did not finish within "
                f"{timeout:g} s (producer_request_timeout_ms): check that the brokers at "
                f"{self._bootstrap} allow transactions: the transaction state topic needs "
                "transaction.state.log.replication.factor (default 3) brokers and "
                "transaction.state.log.min.isr of them in sync; a single broker needs both "
                "set to 1"
            )
        return TransactionError(
            f"{doing} transaction of transactional id {tid!r} failed: {_reason(exc)}"
        )

    async def _txn_call(self, doing: str, call: Any) -> None:
        try:
            async with asyncio.timeout(self.settings.request_timeout_ms / 1000.0):
                await call
        except (KafkaError, TimeoutError) as exc:
            raise self._transaction_error(exc, doing) from exc

    async def begin_transaction(self) -> None:
        """Open a transaction (the first one waits for the producer id: InitProducerId)."""
        producer = self._transactional()
        await self._txn_call("beginning a", producer.begin_transaction())
        self._txn_began = _monotonic()

    async def commit_transaction(
        self, offsets: Mapping[TP, int], group_id: str, member: GroupMetadata | None = None
    ) -> None:
        """``send_offsets_to_transaction`` for ``group_id`` (TxnOffsetCommit v3 with
        ``member``'s generation, KIP-447), commit, and begin the next one."""
        producer = self._transactional()
        if offsets:
            if member is not None and not member.is_member:
                # A consumer that lost its membership (aiokafka reset its generation) would
                # send generation -1, which the coordinator takes unchecked (as from a client
                # without KIP-447): its partitions may belong to another member already.
                raise _member_fenced(
                    f"adding offsets to the transaction of transactional id "
                    f"{self.settings.transactional_id!r} refused: group {group_id!r} fenced "
                    "this member (NOT_A_MEMBER: the group removed it, it rejoins)",
                    member,
                    "NOT_A_MEMBER",
                )
            todo = {TopicPartition(tp.topic, tp.partition): o for tp, o in offsets.items()}
            self._member = member
            try:
                await self._txn_call(
                    "adding offsets to the", producer.send_offsets_to_transaction(todo, group_id)
                )
            finally:
                self._member = None
        await self._txn_call("committing the", producer.commit_transaction())
        await self.begin_transaction()

    async def abort_transaction(self) -> None:
        """Abort the open transaction and begin the next one."""
        producer = self._transactional()
        await self._txn_call("aborting the", producer.abort_transaction())
        await self.begin_transaction()

    # -- errors ------------------------------------------------------------------------

    def _partition_of(self, topic: str, partition: int | None, key: bytes | None) -> int | None:
        if partition is not None or key is None or self._producer is None:
            return partition
        partitions = self._producer.client.cluster.partitions_for_topic(topic)
        # aiokafka's default partitioner: murmur2 of the key over all partitions, like Java's.
        return partition_for_key(key, len(partitions)) if partitions else None

    def delivery_error(
        self,
        exc: BaseException,
        topic: str,
        partition: int | None,
        key: bytes | None,
        elapsed: float,
    ) -> DeliveryError:
        """The error for a record the broker did not acknowledge (see :class:`DeliveryError`)."""
        partition = self._partition_of(topic, partition, key)
        where = f"topic {topic!r}" + ("" if partition is None else f" partition {partition}")
        timeout = self.settings.request_timeout_ms / 1000.0
        return DeliveryError(
            f"record for {where} was not acknowledged after {elapsed:.1f} s (the producer "
            f"retries for up to {timeout:g} s, producer_request_timeout_ms): {_reason(exc)}; "
            f"{_advice(exc, self._bootstrap)}",
            topic=topic,
            partition=partition,
            elapsed=elapsed,
            retriable=_is_transient(exc),
        )

    def send_error(
        self, exc: Exception, topic: str, partition: int | None, key: bytes | None
    ) -> Exception | None:
        """aiokafka's ``send`` failed before queueing: no metadata for the topic, or its
        buffer stayed full, for ``request_timeout_ms``; or the producer was stopped."""
        if isinstance(exc, AssertionError):
            return self._unknown_partition(topic, partition)
        if not isinstance(exc, KafkaError):
            return None
        partition = self._partition_of(topic, partition, key)
        where = f"topic {topic!r}" + ("" if partition is None else f" partition {partition}")
        timeout = self.settings.request_timeout_ms / 1000.0
        return DeliveryError(
            f"record for {where} was not sent (the producer waits up to {timeout:g} s for the "
            f"topic's metadata and for room in its buffer, producer_request_timeout_ms): "
            f"{_reason(exc)}; {_advice(exc, self._bootstrap)}",
            topic=topic,
            partition=partition,
            retriable=_is_transient(exc),
        )

    def _unknown_partition(self, topic: str, partition: int | None) -> Exception | None:
        # aiokafka checks an explicit partition with a bare assert: say what is wrong.
        if partition is None or self._producer is None:
            return None
        partitions = self._producer.client.cluster.partitions_for_topic(topic)
        if not partitions or partition in partitions:
            return None
        return UnknownPartitionError(
            f"topic {topic!r} has partitions 0..{max(partitions)}, got partition {partition}"
        )

    def retriable(self, exc: BaseException) -> bool:
        """Transient: the broker unreachable, no leader, too few in-sync replicas, a timeout."""
        return _is_transient(exc)

    # -- the idempotent producer's delivery timeout --------------------------------------

    async def _watch(self) -> None:
        timeout = self.settings.request_timeout_ms / 1000.0
        broken: AIOKafkaProducer | None = None
        while True:
            await asyncio.sleep(_WATCHDOG_INTERVAL_S)
            producer = self._producer
            if producer is None:
                continue
            if producer is not broken:
                age = _oldest_batch_age(producer)
                if age is None or age <= timeout:
                    continue
                log.warning(
                    "idempotent producer to %s: a record has waited %.1f s for its "
                    "acknowledgement (producer_request_timeout_ms allows %g s); failing every "
                    "outstanding record and starting a new producer",
                    self._bootstrap,
                    age,
                    timeout,
                )
                await _abandon(
                    producer,
                    f"not acknowledged within {timeout:g} s (the idempotent producer gave up)",
                )
                broken = producer
            await self._replace(producer)

    async def _replace(self, old: AIOKafkaProducer) -> None:
        new = self._build()
        try:
            await new.start()
        except BaseException as exc:
            # Also when cancelled (the app stops): a half-started client must not linger.
            await asyncio.gather(asyncio.shield(new.stop()), return_exceptions=True)
            if not isinstance(exc, KafkaError):
                raise
            log.warning(
                "idempotent producer to %s: starting a new producer failed (%s); retrying",
                self._bootstrap,
                exc,
            )
            return
        current: Any = self._producer
        if current is not old:  # stopped meanwhile
            await new.stop()
            return
        self._producer = new
        self.restarts += 1
        if self.on_send_path_change is not None:
            self.on_send_path_change(self.send_path())


def _member_fenced(message: str, md: GroupMetadata, reason: str) -> MemberFencedError:
    return MemberFencedError(
        f"{message}; the transaction is aborted and its events are processed again by the "
        "partitions' owner (a member that takes longer than the consumer's session timeout "
        "to give its partitions up in a rebalance is removed from the group)",
        group_id=md.group_id,
        generation_id=md.generation_id,
        member_id=md.member_id,
        reason=reason,
    )


_ABANDON_GRACE_S = 5.0


async def _abandon(producer: AIOKafkaProducer, reason: str) -> None:
    """Fail everything ``producer`` holds with ``reason`` now, then close it without waiting
    for deliveries (bounded: it may still wait for a request in flight)."""
    _fail_all(producer, reason)
    try:
        async with asyncio.timeout(_ABANDON_GRACE_S):
            await producer.stop()
        return
    except TimeoutError:
        pass  # the sender waits for a request that the broker holds: close the connections
    except Exception as exc:  # the client is given up either way
        log.debug("stopping the abandoned producer: %r", exc)
    try:
        await producer.client.close()
    except Exception as exc:
        log.debug("closing the abandoned producer: %r", exc)


def _fail_all(producer: AIOKafkaProducer, reason: str) -> None:
    """Fail every queued and in-flight batch of ``producer``; later sends on it fail too.

    aiokafka has no public way to give up on queued records (aiokafka 0.14, pinned in
    pyproject.toml); its accumulator's ``fail_all`` is what it uses itself when its sender
    dies. A request still in flight may then try to re-enqueue a batch failed here, which
    aiokafka does not expect (KeyError in the request's task, logged as never retrieved):
    on this abandoned client, re-enqueueing a failed batch does nothing.
    """
    accumulator = producer._message_accumulator
    reenqueue = accumulator.reenqueue

    def reenqueue_unless_failed(batch: Any) -> None:
        if not batch.future.done():
            reenqueue(batch)

    accumulator.reenqueue = reenqueue_unless_failed
    batches = [b for queued in accumulator._batches.values() for b in queued]
    batches += list(accumulator._pending_batches)
    accumulator.fail_all(KafkaTimeoutError(reason))
    for batch in batches:
        # fail_all also fails each batch's drain waiter, which only a send blocked on a full
        # batch awaits: retrieve it, or asyncio reports it as never retrieved.
        waiter = batch._drain_waiter
        if waiter.done() and not waiter.cancelled():
            waiter.exception()


def _oldest_batch_age(producer: AIOKafkaProducer) -> float | None:
    """Seconds since the oldest unacknowledged batch was created (aiokafka internals)."""
    accumulator = producer._message_accumulator
    created = [batches[0]._ctime for batches in accumulator._batches.values() if batches]
    created.extend(batch._ctime for batch in accumulator._pending_batches)
    return _monotonic() - min(created) if created else None


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
        #: Whether this consumer fetches lean :class:`~gen_topics._transport.kafka_records.
        #: KafkaRecord` objects (else aiokafka's own ``ConsumerRecord``; see that module).
        self.lean_records = False

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
            isolation_level=s.isolation_level,
            **kwargs,
        )
        await self._consumer.start()
        # Before the first fetch (the group is joined after subscribe): every record is lean.
        self.lean_records = kafka_records.install(self._consumer)
        if s.isolation_level == "read_committed":
            # Offsets a transaction added but has not completed yet are not read as the
            # previous offset (KIP-447's require_stable; exactly-once implies read_committed).
            install_stable_offset_fetch(self._consumer)

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
        """A fetched record (a ``KafkaRecord``, or aiokafka's ``ConsumerRecord``) as a
        :class:`Message` (timestamp in seconds)."""
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
        """Fetch records: lean ``KafkaRecord`` objects built from aiokafka's fetched batches
        (aiokafka's own ``ConsumerRecord`` when its internals do not allow it; see
        :mod:`~gen_topics._transport.kafka_records`). A reader converts one with
        :meth:`to_message` only when it asks for ``message``."""
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

    def group_metadata(self) -> GroupMetadata | None:
        """This member's generation and member id now (aiokafka's group coordinator)."""
        coordinator = self._require()._coordinator
        if coordinator is None:
            return None
        return GroupMetadata(
            self.settings.group_id,
            int(coordinator.generation),
            str(coordinator.member_id or ""),
            coordinator._group_instance_id,
        )

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
    """Creates topics and reads partitions and config back with aiokafka's admin client.

    ``client_options`` go to aiokafka's ``AIOKafkaAdminClient`` as they are: TLS and SASL
    (``security_protocol``, ``ssl_context``, ``sasl_mechanism``, ``sasl_plain_username``...).
    """

    def __init__(
        self, bootstrap_servers: str, request_timeout_ms: int = 30000, **client_options: Any
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_ms = request_timeout_ms
        self._options = client_options
        self._admin: AIOKafkaAdminClient | None = None

    async def start(self) -> None:
        """Connect."""
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap,
                request_timeout_ms=self._timeout_ms,
                **self._options,
            )
            await admin.start()
            self._admin = admin

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

    async def _topic_metadata(self, names: list[str] | None) -> list[Any]:
        # aiokafka's describe_topics asks the broker to auto-create what it names (on brokers
        # with auto.create.topics.enable): describing must never create a topic.
        request = MetadataRequest(names, allow_auto_topic_creation=False)
        response = await self._require()._send_request(request)
        topics: list[Any] = response.to_object()["topics"]
        return topics

    async def describe_topic(self, name: str) -> TopicDescription | None:
        """Partitions and replication from metadata, config from DescribeConfigs."""
        admin = self._require()
        try:
            topics = await self._topic_metadata([name])
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

    async def list_topics(self) -> list[str]:
        """The names of the cluster's topics, without Kafka's internal ones, sorted."""
        try:
            topics = await self._topic_metadata(None)
        except KafkaError as exc:
            raise DeclareError(f"cannot list the topics: {exc}") from exc
        return sorted(t["topic"] for t in topics if not t.get("is_internal"))

    async def create_partitions(self, name: str, total: int) -> None:
        """Raise the partition count of ``name`` to ``total`` (Kafka cannot lower it)."""
        admin = self._require()
        try:
            await admin.create_partitions({name: NewPartitions(total)}, timeout_ms=self._timeout_ms)
        except KafkaError as exc:
            raise DeclareError(
                f"cannot raise the partitions of {name!r} to {total}: {exc}"
            ) from exc
        await self._wait_visible(name, total)

    async def alter_topic_config(self, name: str, changes: Mapping[str, str | None]) -> None:
        """Set (a value) or reset to the default (None) each named config of ``name``, leaving
        every other config as it is (IncrementalAlterConfigs)."""
        admin = self._require()
        configs = [
            (key, OP_SET if value is not None else OP_DELETE, value)
            for key, value in sorted(changes.items())
        ]
        request = IncrementalAlterConfigsRequest([(ConfigResourceType.TOPIC, name, configs)])
        try:
            response = await admin._send_request(request)
        except KafkaError as exc:
            raise DeclareError(f"cannot change the config of {name!r}: {exc}") from exc
        for error_code, error_message, _type, resource in response.responses:
            if error_code:
                error = for_code(error_code)
                raise DeclareError(
                    f"cannot change the config of {resource!r} ({dict(changes)}): "
                    f"{error_message or error.__name__}"
                )


class KafkaTransport(Transport[str]):
    """Builds aiokafka-backed clients for ``bootstrap_servers``."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(
            bootstrap_servers, producer=KafkaProducer, consumer=KafkaConsumer, admin=KafkaAdmin
        )
        # An outage makes aiokafka log the same connection errors many times a second.
        _log_throttle.install(["aiokafka", "gen_topics"])
