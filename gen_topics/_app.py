"""App: one broker connection (producer, consumer, admin) shared by its topics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import timedelta
from re import Pattern
from types import TracebackType
from typing import Any, TypeVar

from gen_topics._consumer import Conductor
from gen_topics._decode_policy import DecodePolicy
from gen_topics._messages import FutureMessage
from gen_topics._partitioner import partition_for_key
from gen_topics._producer_buffer import ProducerBuffer
from gen_topics._runner import Service, ShutdownReport, run, run_until_stopped
from gen_topics._schema import Schema, Serializer
from gen_topics._settings import MismatchPolicy, Settings
from gen_topics._topic import Topic
from gen_topics._topic_core import TopicCore
from gen_topics._topic_reading import TopicReading
from gen_topics._transport.base import (
    AdminTransport,
    ProducerSettings,
    ProducerTransport,
    SendPath,
    Transport,
)
from gen_topics._transport.urls import parse_broker_url, transport_for
from gen_topics.codecs import Codec, SchemaCodec

__all__ = ["App"]

T = TypeVar("T")


class App:
    """A gen-topics application: ``async with App("orders-svc", broker="kafka://host:9092")``.

    The producer starts on first send; the consumer starts when a topic is iterated.
    Stopping flushes ``send_soon``'s buffer, waits for deliveries, and commits every
    processed offset. Defaults follow Faust (8 partitions, replication 1, declaring on).
    """

    def __init__(
        self,
        id: str,
        *,
        broker: str = "memory://",
        topic_partitions: int = 8,
        topic_replication_factor: int = 1,
        topic_allow_declare: bool = True,
        topic_config_mismatch: MismatchPolicy = "warn",
        key_serializer: str = "raw",
        value_serializer: str = "json",
        stream_buffer_maxsize: int = 4096,
        producer_acks: int | str = -1,
        producer_linger_ms: int = 0,
        producer_compression_type: str | None = None,
        producer_enable_idempotence: bool = False,
        producer_request_timeout_ms: int = 40000,
        producer_max_batch_size: int = 16384,
        consumer_group_id: str | None = None,
        consumer_auto_offset_reset: str = "earliest",
        consumer_metadata_max_age_ms: int = 300000,
        consumer_max_poll_records: int | None = None,
        commit_interval: float = 2.8,
        client_id: str | None = None,
        schema_registry: Any = None,
        registry_auto_register: bool = True,
        consumer_decode_retry_timeout: float = 60.0,
    ) -> None:
        if not id:
            raise ValueError("App id must be a non-empty string (it is the default group id)")
        self.conf = Settings(
            id=id,
            broker=broker,
            topic_partitions=topic_partitions,
            topic_replication_factor=topic_replication_factor,
            topic_allow_declare=topic_allow_declare,
            topic_config_mismatch=topic_config_mismatch,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            stream_buffer_maxsize=stream_buffer_maxsize,
            producer_acks=producer_acks,
            producer_linger_ms=producer_linger_ms,
            producer_compression_type=producer_compression_type,
            producer_enable_idempotence=producer_enable_idempotence,
            producer_request_timeout_ms=producer_request_timeout_ms,
            producer_max_batch_size=producer_max_batch_size,
            consumer_group_id=consumer_group_id or id,
            consumer_auto_offset_reset=consumer_auto_offset_reset,
            consumer_metadata_max_age_ms=consumer_metadata_max_age_ms,
            consumer_max_poll_records=consumer_max_poll_records,
            commit_interval=commit_interval,
            client_id=client_id,
            registry_auto_register=registry_auto_register,
            consumer_decode_retry_timeout=consumer_decode_retry_timeout,
        )
        self.id = id
        self.broker_url = parse_broker_url(broker)
        self.transport: Transport[Any] = transport_for(self.broker_url)
        self.conductor = Conductor(self)
        self.producer_buffer = ProducerBuffer()
        self._schema_registry = schema_registry
        self._registry: Any = None
        self._wrapped: dict[tuple[str, bool, int], Codec[Any]] = {}
        self._producer: ProducerTransport | None = None
        # The started producer's send callables; read per record by Topic.send (no call).
        self.send_path: SendPath | None = None
        self._producer_starting: asyncio.Future[ProducerTransport] | None = None
        self._admin: AdminTransport | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self.started = False
        self._stopping = False
        self._stopping_event: asyncio.Event | None = None
        # Set while run() / run_until_stopped() runs: how request_stop() reaches it.
        self._stop_request: Callable[[str], None] | None = None

    def __repr__(self) -> str:
        return f"<App {self.id!r} broker={self.conf.broker!r}>"

    # -- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Mark the app running; consumers of already-iterated topics start fetching."""
        self.started = True
        self._stopping = False
        if self._stopping_event is not None:
            self._stopping_event.clear()
        self.conductor.reopen()
        if len(self.conductor):
            await self.conductor.ensure_running()

    async def stop(self) -> None:
        """Flush ``send_soon``, wait for deliveries, commit processed offsets, disconnect."""
        self.begin_stopping()
        try:
            await self.producer_buffer.stop()
            await self.flush()
        finally:
            try:
                await self.conductor.stop()
            finally:
                producer, self._producer = self._producer, None
                self.send_path = None
                self._producer_starting = None
                if producer is not None:
                    await producer.stop()
                admin, self._admin = self._admin, None
                if admin is not None:
                    await admin.close()
                registry, self._registry = self._registry, None
                close = getattr(registry, "aclose", None)
                if (
                    registry is not None
                    and close is not None
                    and registry is not self._schema_registry
                ):
                    await close()
                self.started = False

    async def flush(self) -> None:
        """Publish the ``send_soon`` buffer and wait until every record is acked."""
        await self.producer_buffer.flush()
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        if self._producer is not None:
            await self._producer.flush()

    # -- running a service ----------------------------------------------------------------

    def run(
        self,
        main: Callable[[App], Coroutine[Any, Any, Any]] | None = None,
        *,
        shutdown_timeout: float = 30.0,
    ) -> int:
        """Run a service: ``sys.exit(app.run(main))``. Starts the app, runs ``main(app)`` until
        it returns or SIGTERM/SIGINT arrives, then stops cleanly within ``shutdown_timeout``
        seconds (readers finish the event in hand, buffered sends are published and acked,
        processed offsets committed). Returns the exit status: 0 when nothing was left undone.
        """
        return run(self, main, shutdown_timeout=shutdown_timeout)

    async def run_until_stopped(
        self, *services: Service, shutdown_timeout: float = 30.0
    ) -> ShutdownReport:
        """The async form of :meth:`run`, for several services (coroutines, or callables taking
        the app); returns the :class:`ShutdownReport` of what the stop did and left undone."""
        return await run_until_stopped(self, *services, shutdown_timeout=shutdown_timeout)

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop a service started with :meth:`run` / :meth:`run_until_stopped` as SIGTERM
        would; without one, only end the readers' iteration."""
        if self._stop_request is not None:
            self._stop_request(reason)
        else:
            self.begin_stopping()
            self.conductor.stop_reading()

    @property
    def stopping(self) -> bool:
        """True once the app began to stop (a signal, ``request_stop()``, ``stop()``): loops
        that do not read a topic can end on it."""
        return self._stopping

    def begin_stopping(self) -> None:
        """Mark the app stopping (wakes :meth:`wait_stopping`); reading is not touched."""
        self._stopping = True
        if self._stopping_event is not None:
            self._stopping_event.set()

    async def wait_stopping(self, timeout: float | None = None) -> bool:
        """Wait until the app begins to stop (True) or ``timeout`` seconds pass (False)."""
        if self._stopping:
            return True
        if self._stopping_event is None:
            self._stopping_event = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._stopping_event.wait()
        except TimeoutError:
            return False
        return True

    # -- producer ---------------------------------------------------------------------

    @property
    def producer_or_none(self) -> ProducerTransport | None:
        """The started producer, or None before the first send."""
        return self._producer

    async def maybe_start_producer(self) -> ProducerTransport:
        """Start the producer once; concurrent first senders share the start."""
        if self._producer is not None:
            return self._producer
        if self._producer_starting is None:
            self._producer_starting = asyncio.ensure_future(self._start_producer())
        try:
            return await asyncio.shield(self._producer_starting)
        except BaseException:
            self._producer_starting = None
            raise

    async def _start_producer(self) -> ProducerTransport:
        c = self.conf
        producer = self.transport.producer(
            ProducerSettings(
                acks=c.producer_acks,
                linger_ms=c.producer_linger_ms,
                compression_type=c.producer_compression_type,
                enable_idempotence=c.producer_enable_idempotence,
                request_timeout_ms=c.producer_request_timeout_ms,
                max_batch_size=c.producer_max_batch_size,
                client_id=c.client_id,
            )
        )
        await producer.start()
        self._producer = producer
        self.send_path = producer.send_path()
        return producer

    async def start_send_path(self) -> SendPath:
        """The producer's :class:`SendPath`, starting the producer first if needed."""
        return self.send_path or (await self.maybe_start_producer()).send_path()

    def send_soon(self, fut: FutureMessage) -> None:
        """Buffer ``fut`` for background publishing (used by ``Topic.send_soon``)."""
        self.producer_buffer.put(fut)

    def track(self, coro: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """Run ``coro`` as a task that :meth:`stop` waits for."""
        task = asyncio.ensure_future(coro)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    def key_partition(self, topic: str, key: bytes) -> int | None:
        """The partition Kafka's default partitioner picks for ``key`` on ``topic``, when the
        partition count is known locally (memory broker), else None."""
        broker = getattr(self.transport, "broker", None)
        if broker is None:
            return None
        return partition_for_key(key, len(broker.topic(topic).partitions))

    # -- admin ------------------------------------------------------------------------

    async def admin(self) -> AdminTransport:
        """The admin client (connected on first use)."""
        if self._admin is None:
            admin = self.transport.admin()
            await admin.start()
            self._admin = admin
        return self._admin

    # -- consumer ---------------------------------------------------------------------

    async def commit(self) -> None:
        """Commit every processed offset now (the consumer also does it periodically)."""
        await self.conductor.commit()

    @property
    def topics(self) -> frozenset[TopicReading[Any, Any]]:
        """The topics being consumed (iterator clones), like Faust's ``app.topics``."""
        return self.conductor.topics

    # -- schema registry hook ---------------------------------------------------------

    @property
    def registry(self) -> Any:
        """The schema-registry client (``gen_topics.registry.client.SchemaRegistryClient``),
        built on first use from ``schema_registry``; None when no registry is configured."""
        if self._registry is None and self._schema_registry is not None:
            if isinstance(self._schema_registry, str):
                from gen_topics.registry.client import (  # type: ignore[import-not-found,unused-ignore]
                    SchemaRegistryClient,
                )

                self._registry = SchemaRegistryClient(self._schema_registry)
            else:
                self._registry = self._schema_registry
        return self._registry

    def wrap_codec(
        self, codec: Codec[Any], *, topic: str, is_key: bool, topic_cls: type[TopicCore[Any, Any]]
    ) -> Codec[Any]:
        """With a registry configured, a :class:`SchemaCodec` becomes a registry codec (one per
        topic name and key/value); otherwise ``codec`` is returned unchanged."""
        if self._schema_registry is None or not isinstance(codec, SchemaCodec):
            return codec
        # id() cannot be reused while cached: the registry codec keeps ``codec`` alive.
        cache_key = (topic, is_key, id(codec))
        wrapped = self._wrapped.get(cache_key)
        if wrapped is None:
            from gen_topics.registry.codec import (  # type: ignore[import-not-found,unused-ignore]
                registry_codec,
            )

            wrapped = registry_codec(
                codec,
                client=self.registry,
                topic=topic,
                is_key=is_key,
                strategy=topic_cls.subject_name_strategy,
                auto_register=self.conf.registry_auto_register,
            )
            self._wrapped[cache_key] = wrapped
        return wrapped

    # -- factories --------------------------------------------------------------------

    def topic(
        self,
        *topics: str,
        pattern: str | Pattern[str] | None = None,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        partitions: int | None = None,
        retention: timedelta | float | str | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        acks: bool = True,
        internal: bool = False,
        config: Mapping[str, Any] | None = None,
        maxsize: int | None = None,
        allow_empty: bool = False,
        has_prefix: bool = False,
        on_decode_error: DecodePolicy | None = None,
        dead_letter_topic: str | None = None,
    ) -> Topic[Any, Any]:
        """A :class:`Topic` on this app named ``topics`` (or matching ``pattern``).

        Unlike Faust, ``maxsize`` is honoured.
        """
        return Topic(
            self,
            topics=topics or None,
            pattern=pattern,
            schema=schema,
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            partitions=partitions,
            retention=retention,
            compacting=compacting,
            deleting=deleting,
            replicas=replicas,
            acks=acks,
            internal=internal,
            config=config,
            maxsize=maxsize,
            allow_empty=allow_empty,
            has_prefix=has_prefix,
            on_decode_error=on_decode_error,
            dead_letter_topic=dead_letter_topic,
        )
