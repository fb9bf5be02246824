"""Exactly-once errors on real Kafka: a broker that cannot host transactions, and a transaction
that outlives its timeout. Each fails with an error that says what to change, within a bounded
time, and nothing of the failed transaction is committed."""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Iterator

import pytest

from gen_topics import TP, App
from gen_topics._transport.base import ConsumerSettings
from gen_topics.errors import TransactionError, TransactionTimeoutError
from scripts.kafka_service import start_kafka
from scripts.running import RunningService
from tests.gen_topics.eos_checks import read_committed

pytestmark = pytest.mark.kafka

_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def no_transactions_broker() -> Iterator[RunningService]:
    """A single broker configured as for three: its transaction state topic cannot be created,
    so no transaction coordinator ever becomes available (plain produce and consume work)."""
    service = start_kafka(
        overrides={
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
        }
    )
    try:
        yield service
    finally:
        service.stop()


async def _fill(url: str, name: str, n: int) -> None:
    async with App(f"fill-{uuid.uuid4().hex[:8]}", broker=url) as app:
        topic = app.topic(name, partitions=1, key_serializer="raw", value_serializer="raw")
        await topic.declare()
        for i in range(n):
            await (await topic.send(key=b"%d" % i, value=b"%d" % i))


async def test_a_broker_that_cannot_host_transactions_fails_in_bounded_time_saying_what_to_set(
    no_transactions_broker: RunningService, unique: str
) -> None:
    url = f"kafka://{no_transactions_broker.address}"
    source, sink = f"ntin-{unique}", f"ntout-{unique}"
    await _fill(url, source, 3)
    app = App(
        f"nt-{unique}",
        broker=url,
        processing_guarantee="exactly_once",
        producer_request_timeout_ms=5000,
    )
    inp = app.topic(source, key_serializer="raw", value_serializer="raw")
    out = app.topic(sink, partitions=1, key_serializer="raw", value_serializer="raw")
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(_TIMEOUT):
        with pytest.raises(TransactionError) as caught:
            async with app:
                async for event in inp:
                    await out.send(key=event.key, value=b"d-" + (event.value or b""))
    text = str(caught.value)
    assert "no transaction coordinator answered" in text
    assert "transaction.state.log.replication.factor" in text
    assert "transaction.state.log.min.isr" in text
    assert "1 broker(s) up" in text
    assert no_transactions_broker.address in text
    # Bounded by producer_request_timeout_ms (plus the group join and the first fetch).
    assert loop.time() - started < _TIMEOUT


async def _stable_end(url: str, tp: TP) -> int:
    async with App(f"lso-{uuid.uuid4().hex[:8]}", broker=url) as app:
        consumer = app.transport.consumer(
            ConsumerSettings(
                group_id=f"lso-{uuid.uuid4().hex[:8]}", isolation_level="read_committed"
            )
        )
        await consumer.start()
        try:
            return (await consumer.end_offsets([tp]))[tp]
        finally:
            await consumer.stop()


async def test_a_transaction_open_longer_than_its_timeout_fails_and_its_events_come_again(
    kafka_bootstrap: str, unique: str
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    source, sink, group = f"ttin-{unique}", f"ttout-{unique}", f"ttg-{unique}"
    records = 5
    await _fill(url, source, records)
    async with App(f"setup-{unique}", broker=url) as setup:
        await setup.topic(sink, partitions=1).declare()

    slow = App(
        group,
        broker=url,
        processing_guarantee="exactly_once",
        producer_transaction_timeout_ms=2000,
    )
    inp = slow.topic(source, key_serializer="raw", value_serializer="raw")
    out = slow.topic(sink, key_serializer="raw", value_serializer="raw")
    seen: list[bytes] = []
    async with asyncio.timeout(_TIMEOUT):
        with pytest.raises(TransactionTimeoutError) as caught:
            async with slow:
                async for event in inp:
                    await (await out.send(key=event.key, value=b"d-" + (event.value or b"")))
                    seen.append(event.value or b"")
                    # Processing outlives the transaction timeout: wait until the broker has
                    # aborted the transaction (its abort marker moves the stable end past the
                    # record just sent; the broker checks for timed-out ones every 10 s).
                    while await _stable_end(url, TP(sink, 0)) == 0:
                        await asyncio.sleep(0.2)
    assert seen == [b"0"]
    assert caught.value.timeout == 2.0 and caught.value.elapsed >= 2.0
    text = str(caught.value)
    assert "producer_transaction_timeout_ms=2000" in text
    assert "transaction_commit_interval" in text

    # The next run (a restart, or another member) processes every event, the first again.
    again = App(group, broker=url, processing_guarantee="exactly_once")
    inp = again.topic(source, key_serializer="raw", value_serializer="raw")
    out = again.topic(sink, key_serializer="raw", value_serializer="raw")
    values: list[bytes] = []
    async with asyncio.timeout(_TIMEOUT):
        async with again:
            async for event in inp:
                await out.send(key=event.key, value=b"d-" + (event.value or b""))
                values.append(event.value or b"")
                if len(values) == records:
                    again.request_stop()  # the next read acks this one and ends the loop
    assert values == [b"%d" % i for i in range(records)]
    found = await read_committed(url, sink, 1)
    assert found == collections.Counter({b"d-%d" % i: 1 for i in range(records)})
