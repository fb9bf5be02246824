"""A registry outage while consuming: valid records wait, are never skipped, never committed
past; a registry-framed record read without a registry is a decode error that says so.

The outage test stops a private Apicurio instance (started here, so the session's registry
stays up for the other tests): paused (SIGSTOP: requests time out) and resumed, then killed
(connections refused) for longer than the reader may wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gen_topics import TP, App, DecodeError, Event, TransientDecodeError
from gen_topics._transport.base import ConsumerSettings
from gen_topics.registry import SchemaRegistryClient
from generated.avro.com.acme.common import Address, Money
from generated.avro.com.acme.customers import Customer
from generated.customers import CustomersTopic
from scripts.registry_service import start_registry
from scripts.running import RunningService
from tests.gen_topics.registry.helpers import unique

pytestmark = [pytest.mark.registry, pytest.mark.kafka]


@pytest.fixture(scope="module")
def private_registry() -> Iterator[RunningService]:
    """An Apicurio instance of this module's own, which the test may pause and kill."""
    service = start_registry()
    try:
        yield service
    finally:
        service.stop()


def _customers(n: int) -> list[Customer]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return [
        Customer(
            id=uuid.uuid4(),
            name=f"customer {i}",
            address=Address(street="Main St 1", city="Amsterdam", postal_code="1011AB"),
            created_at=now,
            credit_limit=Money(amount=decimal.Decimal("50.00")),
        )
        for i in range(n)
    ]


async def _committed(url: str, group: str, tp: TP) -> int | None:
    consumer = App(group, broker=url).transport.consumer(ConsumerSettings(group))
    await consumer.start()
    try:
        return await consumer.committed(tp)
    finally:
        await consumer.stop()


def _signal(service: RunningService, signum: signal.Signals) -> None:
    os.killpg(service.process.pid, signum)


def _quick_client(url: str) -> SchemaRegistryClient:
    # Short timeouts: the outage shows in seconds, not in the default 10 s x 4 attempts.
    return SchemaRegistryClient(url, timeout=1.0, retries=1, backoff=0.1)


@pytest.mark.timeout(300)
async def test_records_wait_out_a_registry_outage_and_are_never_skipped(
    kafka_bootstrap: str, private_registry: RunningService
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    name = unique("outage-customers")
    tp = TP(name, 0)
    sent = _customers(3)
    async with App(
        unique("outage-producer"), broker=url, schema_registry=private_registry.address
    ) as app:
        topic = CustomersTopic(app, topics=name, partitions=1)
        await topic.declare()
        for customer in sent:
            await (await topic.send(key=str(customer.id), value=customer))

    # 1. Paused for a while: the reader waits (no event, no error), then reads everything.
    group = unique("outage-group")
    client = _quick_client(private_registry.address)
    _signal(private_registry, signal.SIGSTOP)
    resumed = False
    try:
        async with App(
            group, broker=url, schema_registry=client, consumer_decode_retry_timeout=120
        ) as app:
            reader = aiter(CustomersTopic(app, topics=name, on_decode_error="skip"))
            first = asyncio.ensure_future(anext(reader))
            # Wait until the reader has the record and has failed to decode it at least twice.
            async with asyncio.timeout(60):
                while reader.buffered == 0 and not first.done():
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3.0)  # the outage lasts; the reader keeps retrying
            assert not first.done(), first
            assert await app.conductor.commit() == {}  # nothing processed, nothing committed
            _signal(private_registry, signal.SIGCONT)
            resumed = True
            async with asyncio.timeout(60):
                events: list[Event[Any, Any]] = [await first]
                while len(events) < len(sent):
                    events.append(await anext(reader))
            assert [e.value for e in events] == sent
            assert reader.skipped == 0  # valid records: never skipped, although allowed to
            events[-1].ack()
    finally:
        if not resumed:
            _signal(private_registry, signal.SIGCONT)
    assert await _committed(url, group, tp) == len(sent)

    # 2. Gone for longer than the reader may wait: a clear error, distinct from DecodeError,
    # stops the reader; nothing is committed, so a later run reads the records again.
    group = unique("outage-group")
    private_registry.stop()
    async with App(
        group,
        broker=url,
        schema_registry=_quick_client(private_registry.address),
        consumer_decode_retry_timeout=3,
    ) as app:
        reader = aiter(CustomersTopic(app, topics=name, on_decode_error="dead_letter"))
        with pytest.raises(TransientDecodeError) as info:
            async with asyncio.timeout(120):
                await anext(reader)
        error = info.value
        assert not isinstance(error, DecodeError)
        assert (error.topic, error.partition, error.offset) == (name, 0, 0)
        assert error.attempts >= 2 and error.waited >= 3
        assert "not committed" in str(error) and "registry" in str(error)
        with pytest.raises(TransientDecodeError):  # the reader stays stopped
            await anext(reader)
        assert reader.dead_lettered == 0
    assert await _committed(url, group, tp) is None


async def test_a_framed_record_read_without_a_registry_says_so(
    kafka_bootstrap: str, registry_url: str
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    name = unique("framed-customers")
    [customer] = _customers(1)
    async with App(unique("framed-producer"), broker=url, schema_registry=registry_url) as app:
        topic = CustomersTopic(app, topics=name, partitions=1)
        await topic.declare()
        await (await topic.send(key="c-1", value=customer))
    async with App(unique("framed-reader"), broker=url) as app:  # no schema_registry
        with pytest.raises(DecodeError) as info:
            async with asyncio.timeout(30):
                await anext(aiter(CustomersTopic(app, topics=name)))
    text = str(info.value)
    assert f"{name}[0]@0" in text
    assert "magic byte 0 and schema id" in text and "schema_registry" in text
