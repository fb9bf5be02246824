"""Broker outages on a real Kafka broker of the test's own: kill it, send, stop, bring it back.

These tests start a private single-node broker (scripts/kafka_service.py) so they can SIGKILL
it without disturbing the session's shared broker. They check the run-time rules: nothing
acknowledged is lost, every future resolves, every callback runs once, ``stop()`` does not
return normally while it owes records, errors say where and what to check, and the outage's
log lines are throttled.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiokafka.errors import KafkaError

from gen_topics import (
    App,
    DeliveryError,
    FutureMessage,
    RecordMetadata,
    UndeliveredRecordsError,
    _log_throttle,
)
from gen_topics._partitioner import partition_for_key
from scripts.kafka_service import start_kafka
from scripts.running import RunningService
from tests.gen_topics.kafka_log import read_keys
from tests.gen_topics.leaks import no_unretrieved_errors

pytestmark = pytest.mark.kafka

READY_TIMEOUT_S = 180.0


@pytest.fixture(scope="module", autouse=True)
def _nothing_unretrieved() -> Iterator[None]:
    """Abandoned clients (aborted, replaced) must leave no exception behind unretrieved."""
    with no_unretrieved_errors():
        yield


@pytest.fixture(scope="module")
def broker() -> Iterator[RunningService]:
    """A broker of this module's own, to be killed; stopped (and its data deleted) at the end."""
    service = start_kafka()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def running_broker(broker: RunningService) -> RunningService:
    """The private broker, restarted first if an earlier test left it down."""
    if not broker.ready():
        if broker.process.exit_code() is None:
            broker.kill()
        broker.restart(timeout=READY_TIMEOUT_S)
    return broker


async def wait_until_ready(service: RunningService) -> None:
    """Poll the broker from a worker thread (the probe blocks), the event loop keeps running."""
    async with asyncio.timeout(READY_TIMEOUT_S):
        while not await asyncio.to_thread(service.ready):
            await asyncio.sleep(0.2)


def never_retrieved(caplog: pytest.LogCaptureFixture) -> list[str]:
    gc.collect()
    return [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]


class CallbackLog:
    """Counts callback calls per record key, and what each saw."""

    def __init__(self) -> None:
        self.calls: collections.Counter[bytes] = collections.Counter()
        self.failed: set[bytes] = set()

    def __call__(self, fut: FutureMessage) -> None:
        key = fut.message.key
        assert fut.done(), "a callback runs once the future is resolved"
        self.calls[key] += 1
        if fut.exception() is not None:
            self.failed.add(key)


async def test_stop_waits_for_the_broker_and_delivers_every_send_soon_record(
    running_broker: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 item 1: send_soon, the broker goes down, stop(); the broker comes back during
    stop() (after the producer gave up on the first attempts): everything is delivered."""
    name = f"outage-back-{uuid.uuid4().hex[:8]}"
    callbacks = CallbackLog()
    bootstrap = running_broker.address
    # A short request timeout makes aiokafka give up on the records during the outage, so the
    # buffer's own retries are what delivers them.
    app = App(name, broker=f"kafka://{bootstrap}", producer_request_timeout_ms=2000)
    await app.start()
    topic = app.topic(name, partitions=3, value_serializer="raw")
    await topic.declare()
    await (await topic.send(key=b"before", value=b"x"))
    running_broker.kill()
    futures = [
        topic.send_soon(key=f"k{i}".encode(), value=b"v", callback=callbacks) for i in range(2000)
    ]
    stopping = asyncio.ensure_future(app.stop())
    # Keep the broker down until a first attempt has failed (longer than the request timeout).
    down_at = time.monotonic()
    async with asyncio.timeout(60):
        while time.monotonic() - down_at < 5.0:
            await asyncio.sleep(0.5)
    assert not stopping.done(), "stop() must not return while it owes records"
    running_broker.start_again()
    await wait_until_ready(running_broker)
    await stopping  # returns normally: every record was delivered

    assert all(f.done() and isinstance(f.result(), RecordMetadata) for f in futures)
    assert set(callbacks.calls.values()) == {1} and len(callbacks.calls) == 2000
    assert not callbacks.failed
    log = await read_keys(bootstrap, name, 3)
    for i, fut in enumerate(futures):
        md = fut.result()
        assert log[(md.partition, md.offset)] == f"k{i}".encode(), "the ack points at the record"
    keys = collections.Counter(log.values())
    assert all(keys[f"k{i}".encode()] >= 1 for i in range(2000)), "nothing lost"
    assert never_retrieved(caplog) == []


@dataclass
class Outage:
    """Apps that talked to the private broker before it was killed (they know the topics)."""

    broker: RunningService
    names: tuple[str, str]
    apps: dict[str, App]


async def _warm_app(broker: RunningService, names: tuple[str, str], **settings: Any) -> App:
    app = App(f"down-{uuid.uuid4().hex[:8]}", broker=f"kafka://{broker.address}", **settings)
    await app.start()
    for name in names:
        await (await app.topic(name, value_serializer="raw").send(key=b"warm", value=b"x"))
    return app


@pytest_asyncio.fixture(scope="class", loop_scope="class")
async def outage(broker: RunningService) -> AsyncIterator[Outage]:
    """Apps used while the private broker was up, then the broker killed (once per class)."""
    if not broker.ready():
        broker.restart(timeout=READY_TIMEOUT_S)
    names = (f"down-a-{uuid.uuid4().hex[:8]}", f"down-b-{uuid.uuid4().hex[:8]}")
    async with App("down-setup", broker=f"kafka://{broker.address}") as setup:
        for name in names:
            await setup.topic(name, partitions=3).declare()
    fast = {"producer_request_timeout_ms": 2000}
    apps = {
        "stop": await _warm_app(broker, names, producer_stop_timeout=6.0, **fast),
        "plain": await _warm_app(broker, names, **fast),
        "idempotent": await _warm_app(broker, names, producer_enable_idempotence=True, **fast),
    }
    broker.kill()
    yield Outage(broker, names, apps)
    for app in apps.values():
        if app.started:
            app.conf = dataclasses.replace(app.conf, producer_stop_timeout=1.0)
            with contextlib.suppress(UndeliveredRecordsError):
                await app.stop()


@pytest.mark.asyncio(loop_scope="class")
class TestBrokerStaysDown:
    """One outage for every test that needs the broker down: the apps are started and used
    while it is up, then it is killed; the next test that needs it running restarts it."""

    async def test_stop_raises_with_the_records_it_could_not_deliver(
        self, outage: Outage, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Issue 10 item 1, the broker down through stop(): stop() waits producer_stop_timeout,
        then raises with every undelivered record, each future failed and called back once."""
        app = outage.apps["stop"]
        name_a, name_b = outage.names
        a, b = (app.topic(n, value_serializer="raw") for n in outage.names)
        callbacks = CallbackLog()
        futures = [
            a.send_soon(key=f"a{i}".encode(), value=b"v", callback=callbacks) for i in range(300)
        ]
        futures += [
            b.send_soon(key=f"b{i}".encode(), value=b"v", callback=callbacks) for i in range(200)
        ]
        with pytest.raises(UndeliveredRecordsError) as info:
            await app.stop()
        error = info.value
        assert error.counts == {name_a: 300, name_b: 200}
        assert [id(f) for f in error.messages] == [id(f) for f in futures]
        assert [m.key for m in error.pending] == [f.message.key for f in futures]
        text = str(error)
        assert "500 of 500 records buffered by send_soon not delivered" in text
        assert f"{name_a!r}: 300" in text and f"{name_b!r}: 200" in text
        assert "producer_stop_timeout=6" in text
        for fut in futures:
            exc = fut.exception()
            assert isinstance(exc, DeliveryError) and exc.topic == fut.message.topic
            assert exc.retriable and "was not delivered: stop() gave up after 6 s" in str(exc)
        assert len(callbacks.calls) == 500 and set(callbacks.calls.values()) == {1}
        assert callbacks.failed == set(callbacks.calls)
        assert not app.started
        assert never_retrieved(caplog) == []

    async def test_stop_of_an_app_that_never_reached_the_broker(self, outage: Outage) -> None:
        """The producer cannot even start: send_soon records are retried, then given back."""
        app = App(
            f"down-{uuid.uuid4().hex[:8]}",
            broker=f"kafka://{outage.broker.address}",
            producer_stop_timeout=3.0,
        )
        await app.start()
        topic = app.topic(outage.names[0], value_serializer="raw")
        with pytest.raises(KafkaError, match=outage.broker.address.split(":")[1]):
            await topic.send(key=b"k", value=b"v")
        futures = [topic.send_soon(key=f"k{i}".encode(), value=b"v") for i in range(10)]
        with pytest.raises(UndeliveredRecordsError) as info:
            await app.stop()
        assert info.value.counts == {outage.names[0]: 10}
        assert all(isinstance(f.exception(), DeliveryError) for f in futures)
        assert "Unable to bootstrap" in str(futures[0].exception())

    async def test_failed_send_names_topic_partition_time_and_what_to_check(
        self, outage: Outage
    ) -> None:
        """Issue 10 item 3: not a bare ``LeaderNotAvailableError: [Error 5]``."""
        app = outage.apps["plain"]
        name = outage.names[0]
        topic = app.topic(name, value_serializer="raw")
        with pytest.raises(DeliveryError) as info:
            await (await topic.send(key=b"order-17", value=b"v"))
        error = info.value
        expected = partition_for_key(b"order-17", 3)
        assert (error.topic, error.partition) == (name, expected)
        assert error.elapsed is not None and error.elapsed >= 1.0
        assert error.retriable
        assert isinstance(error.__cause__, KafkaError)
        text = str(error)
        assert f"record for topic {name!r} partition {expected} was not acknowledged after" in text
        assert "producer_request_timeout_ms" in text
        assert f"check that the brokers at {outage.broker.address} are up and reachable" in text
        with pytest.raises(DeliveryError, match=rf"topic {name!r} partition 1 was not ack"):
            await (await topic.send(value=b"v", partition=1))

    async def test_idempotent_send_fails_instead_of_waiting_forever(self, outage: Outage) -> None:
        """aiokafka retries an idempotent producer's records forever; ours fail after
        producer_request_timeout_ms, and a new producer (a new producer id) takes over."""
        app = outage.apps["idempotent"]
        topic = app.topic(outage.names[1], value_serializer="raw")
        with pytest.raises(DeliveryError, match="idempotent producer gave up") as info:
            async with asyncio.timeout(120):
                await (await topic.send(key=b"k", value=b"v"))
        assert info.value.retriable and info.value.topic == outage.names[1]

    async def test_outage_log_is_throttled(
        self, outage: Outage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Issue 10 item 3: aiokafka repeats its connection errors many times a second while
        the broker is down; a few lines per interval get through, with a count of the rest."""
        interval = 2.0
        monkeypatch.setattr(_log_throttle.THROTTLE, "interval", interval)
        _log_throttle.THROTTLE.reset()
        made = collections.Counter[tuple[str, int, str]]()
        logged: list[logging.LogRecord] = []

        def count(record: logging.LogRecord) -> bool:
            if record.levelno >= logging.WARNING:
                made[(record.name, record.levelno, str(record.msg))] += 1
            return True

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.name.startswith("aiokafka") and record.levelno >= logging.WARNING:
                    logged.append(record)

        # A counting filter ahead of the throttle sees every line aiokafka makes.
        loggers = [
            logging.getLogger(name)
            for name in list(logging.Logger.manager.loggerDict)
            if name == "aiokafka" or name.startswith("aiokafka.")
        ]
        for logger in loggers:
            logger.filters.insert(0, count)
        handler = Keep()
        root = logging.getLogger()
        root.addHandler(handler)
        began = time.monotonic()
        try:
            # The apps of this outage keep trying to reach the broker; give one work to do.
            topic = outage.apps["plain"].topic(outage.names[0], value_serializer="raw")
            for i in range(50):
                topic.send_soon(key=f"k{i}".encode(), value=b"v")
            # Until a line reports what was held back (a whole interval of errors went by).
            async with asyncio.timeout(120):
                while not any("were not logged" in r.getMessage() for r in logged):
                    await asyncio.sleep(0.2)
        finally:
            elapsed = time.monotonic() - began
            root.removeHandler(handler)
            for logger in loggers:
                logger.removeFilter(count)
        print(
            f"\noutage log: aiokafka made {sum(made.values())} lines of {len(made)} kinds in "
            f"{elapsed:.1f} s; {len(logged)} were logged"
        )
        assert sum(made.values()) > 2 * len(logged), "the throttle held lines back"
        # Per kind of line, at most `burst` per interval (plus the annotated first of a window).
        windows = elapsed / interval + 2
        per_kind = collections.Counter((r.name, r.levelno) for r in logged)
        kinds = {(name, level) for name, level, _ in made}
        burst = _log_throttle.THROTTLE.burst
        assert len(logged) <= len(made) * burst * windows, (per_kind, kinds)
        held = [r.getMessage() for r in logged if "were not logged" in r.getMessage()]
        assert held and all(int(m.rsplit("[", 1)[1].split()[0]) > 0 for m in held)
