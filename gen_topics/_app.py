"""App: one broker connection (producer, consumer, admin) shared by its topics."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Coroutine
from re import Pattern
from types import TracebackType
from typing import Any, TypeVar, Unpack

from gen_topics._consumer import Conductor
from gen_topics._messages import FutureMessage
from gen_topics._partitioner import partition_for_key
from gen_topics._producer_buffer import ProducerBuffer
from gen_topics._runner import Service, ShutdownReport, run, run_until_stopped
from gen_topics._schema import Schema, Serializer
from gen_topics._settings import AppSettings, Settings
from gen_topics._topic import Topic
from gen_topics._topic_core import TopicCore
from gen_topics._topic_options import TopicOptionArgs
from gen_topics._topic_reading import TopicReading
from gen_topics._transactions import Transactions
from gen_topics._transport.base import (
    AdminTransport,
    ProducerSettings,
    ProducerTransport,
    SendPath,
    Transport,
)
from gen_topics._transport.urls import parse_broker_url, transport_for
from gen_topics.codecs import Codec, SchemaCodec
from gen_topics.errors import UndeliveredRecordsError
from gen_topics.sensors import SensorSet

__all__ = ["App"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# After the producer was aborted, tracked publishes fail at once; this bounds a transport that
# would not keep that promise.
_SETTLE_TIMEOUT_S = 10.0


class App:
    """A gen-topics application: ``async with App("orders-svc", broker="kafka://host:9092")``.

    The producer starts on first send; the consumer starts when a topic is iterated.
    Stopping flushes ``send_soon``'s buffer, waits for deliveries (up to
    ``producer_stop_timeout`` seconds, then raises :class:`UndeliveredRecordsError` with the
    records it could not deliver), and commits every processed offset. Defaults follow Faust
    (8 partitions, replication 1, declaring on).
    """

    def __init__(
        self,
        id: str,
        *,
        schema_registry: Any = None,
        **settings: Unpack[AppSettings],
    ) -> None:
        """``id`` names the app (and is its default consumer group); ``settings`` are the
        fields of :class:`Settings`; ``schema_registry`` is a registry URL or client."""
        self.conf = Settings(id=id, **settings)
        self.id = id
        self.broker_url = parse_broker_url(self.conf.broker)
        self.transport: Transport[Any] = transport_for(self.broker_url)
        #: The app's sensors (``app.sensors.add(sensor)``); see :mod:`gen_topics.sensors`.
        self.sensors = SensorSet()
        self.conductor = Conductor(self)
        # Exactly-once processing's transaction bookkeeping (None: at-least-once).
        self.transactions: Transactions | None = (
            Transactions(self) if self.conf.exactly_once else None
        )
        self.producer_buffer = ProducerBuffer(self.retriable)
        self._lag_task: asyncio.Task[None] | None = None
        self._metrics_server: Any = None
        if self.conf.tracing:
            from gen_topics.tracing import TracingSensor

            self.sensors.add(TracingSensor())
        if self.conf.metrics_port is not None:
            from gen_topics.metrics import PrometheusSensor

            self.sensors.add(PrometheusSensor(id))
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
        if self.conf.metrics_port is not None and self._metrics_server is None:
            from gen_topics.metrics import serve_metrics

            self._metrics_server = serve_metrics(
                self.conf.metrics_port, host=self.conf.metrics_host
            )
        interval = self.sensors.lag_interval()
        if interval is not None and self._lag_task is None:
            self._lag_task = asyncio.create_task(self._report_lag(interval), name=f"{self.id}-lag")
        if len(self.conductor):
            await self.conductor.ensure_running()

    async def _report_lag(self, interval: float) -> None:
        # Lag per assigned partition: the end offset minus the committed offset (what a
        # restarted member would have to read again), refreshed every ``interval`` seconds.
        while True:
            try:
                lags = await self.conductor.lag()
            except Exception as exc:
                log.warning("app %r: consumer lag not refreshed: %s", self.id, exc)
            else:
                if lags:
                    self.sensors.lag(lags)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Flush ``send_soon``, wait for deliveries, commit processed offsets, disconnect.

        Records ``send_soon`` buffered are retried while the broker is unreachable, for up to
        ``producer_stop_timeout`` seconds. Those still undelivered then, or failed for good
        meanwhile, are given back by the :class:`UndeliveredRecordsError` raised once the app
        has stopped: their futures hold each record's error and their callbacks have run.
        """
        self.begin_stopping()
        lag_task, self._lag_task = self._lag_task, None
        if lag_task is not None:
            lag_task.cancel()
            await asyncio.gather(lag_task, return_exceptions=True)
        undelivered: UndeliveredRecordsError | None = None
        try:
            undelivered = await self._stop_producing()
        finally:
            try:
                await self.conductor.stop()
            finally:
                starting, self._producer_starting = self._producer_starting, None
                if starting is not None and not starting.done():
                    # A first send still connecting (the broker is slow or down).
                    starting.cancel()
                    await asyncio.gather(starting, return_exceptions=True)
                producer, self._producer = self._producer, None
                self.send_path = None
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
                server, self._metrics_server = self._metrics_server, None
                if server is not None:
                    server[0].shutdown()
                    server[0].server_close()
                self.started = False
        if undelivered is not None:
            raise undelivered

    async def _stop_producing(self) -> UndeliveredRecordsError | None:
        # Wait for the buffer, the tracked publishes and the producer's own queue, all within
        # one deadline; past it, fail what is left so that nothing waits any longer.
        loop = asyncio.get_running_loop()
        timeout = self.conf.producer_stop_timeout
        deadline = loop.time() + timeout
        buffer = self.producer_buffer
        owed = len(buffer)
        buffer.begin_stop()
        done = await buffer.drain(deadline)
        if done and self._inflight:
            _, pending = await asyncio.wait(
                set(self._inflight), timeout=max(0.0, deadline - loop.time())
            )
            done = not pending
        producer = self._producer
        if done and producer is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    await producer.flush()
            except TimeoutError:
                done = False
        reason = f"stop() gave up after {timeout:g} s (producer_stop_timeout)"
        if not done:
            await buffer.halt(reason)
            if producer is not None:
                await producer.abort(reason)
        failed = await buffer.close(reason)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=_SETTLE_TIMEOUT_S)
        if not failed:
            return None
        counts = collections.Counter(str(fut.message.topic) for fut in failed)
        per_topic = ", ".join(f"{topic!r}: {n}" for topic, n in sorted(counts.items()))
        first = failed[0].exception()
        return UndeliveredRecordsError(
            f"app {self.id!r} stopped with {len(failed)} of {max(owed, len(failed))} records "
            "buffered by send_soon "
            f"not delivered ({per_topic}) within producer_stop_timeout={timeout:g} s; their "
            f"futures hold each record's error, the first: {first}. The records are in this "
            "error's .messages (.pending): persist them or send them again",
            failed,
        )

    async def flush(self) -> None:
        """Publish the ``send_soon`` buffer and wait until every record is acked (or failed
        for good; during an outage, until the broker is back)."""
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
        producer = self.transport.producer(c.producer())
        await producer.start()
        self._producer = producer
        if self.transactions is not None:
            self.transactions.producer_started()
        self.send_path = producer.send_path()
        producer.on_send_path_change = self._set_send_path
        return producer

    def _set_send_path(self, path: SendPath) -> None:
        self.send_path = path

    def send_error(
        self, exc: Exception, topic: str, partition: int | None, key: bytes | None
    ) -> Exception | None:
        """The transport's error for ``exc`` raised by a send (None: raise ``exc`` as is)."""
        producer = self._producer
        return None if producer is None else producer.send_error(exc, topic, partition, key)

    def retriable(self, exc: BaseException) -> bool:
        """Whether a send that failed with ``exc`` may succeed if tried again (the broker was
        briefly unreachable, had no leader, too few in-sync replicas)."""
        producer = self._producer
        if producer is not None:
            return producer.retriable(exc)
        # Before the producer started (its start failed): ask a fresh one.
        return self.transport.producer(ProducerSettings()).retriable(exc)

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
        allow_empty: bool = False,
        **options: Unpack[TopicOptionArgs],
    ) -> Topic[Any, Any]:
        """A :class:`Topic` on this app named ``topics`` (or matching ``pattern``), with the
        :class:`TopicOptions` given as keywords.

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
            allow_empty=allow_empty,
            **options,
        )
