"""The Kafka producer's synchronous way into aiokafka's batches (kafka_queue), and the fallback.

The queue function reaches into aiokafka's producer internals (aiokafka is pinned to 0.14.x):
the first test fails, naming what changed, when an upgrade moves them. Each behaviour is
checked with the queue function and without it (every record through aiokafka's ``send``),
and both must agree: partitions, order, offsets, headers, timestamps, errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from gen_topics import App
from gen_topics._partitioner import partition_for_key
from gen_topics._transport import kafka as kafka_transport
from gen_topics.errors import DeliveryError, UnknownPartitionError

pytestmark = pytest.mark.kafka


@pytest.fixture(params=["queued", "send"])
def send_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "send":
        # As if aiokafka's internals had changed: the producer has no queue function.
        monkeypatch.setattr(kafka_transport, "queue_function", lambda producer: None)
    yield request.param


async def test_the_pinned_aiokafka_takes_the_queue_path(kafka_bootstrap: str, unique: str) -> None:
    name = f"q-{unique}"
    async with App(f"q-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await topic.declare()
        await app.start_send_path()
        path = app.send_path
        assert path is not None
        assert path.queue is not None, (
            "aiokafka's producer send / add_message internals changed (see gen_topics/"
            "_transport/kafka_queue.py): every record now goes through aiokafka's send"
        )
        # No metadata for the topic yet: nothing is queued, send() has to wait for it.
        assert path.queue(name, b"early", None, None, None, None) is None
        first = await (await topic.send(value=b"first"))
        handle = path.queue(name, b"second", None, None, None, None)
        assert handle is not None
        second = await handle
        assert (first.offset, second.offset) == (0, 1)


async def test_more_records_than_a_batch_holds_arrive_in_order(
    kafka_bootstrap: str, unique: str, take: Any, send_way: str
) -> None:
    # A 1 KiB batch holds a few records: the queue function finds full batches and
    # hands over to send(), which waits for room.
    async with App(
        f"order-{unique}", broker=f"kafka://{kafka_bootstrap}", producer_max_batch_size=1024
    ) as app:
        topic = app.topic(f"order-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        values = [b"%04d-" % i + b"v" * 100 for i in range(300)]
        pending = [await topic.send(value=v) for v in values]
        offsets = [(await p).offset for p in pending]
        assert offsets == list(range(300))
        events = await take(topic, 300)
        assert [e.value for e in events] == values


async def test_keys_land_on_javas_murmur2_partitions(
    kafka_bootstrap: str, unique: str, send_way: str
) -> None:
    async with App(f"keys-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"keys-{unique}", partitions=5, value_serializer="raw")
        await topic.declare()
        keys = [b"key-%d" % i for i in range(40)]
        pending = [await topic.send(key=k, value=b"v") for k in keys]
        partitions = [(await p).partition for p in pending]
        assert partitions == [partition_for_key(k, 5) for k in keys]
        assert len(set(partitions)) > 1


async def test_headers_timestamps_and_tombstones_go_through(
    kafka_bootstrap: str, unique: str, take: Any, send_way: str
) -> None:
    async with App(f"hdr-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"hdr-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        await (await topic.send(value=b"warm"))  # metadata known: the next ones are queued
        first = await (
            await topic.send(
                key=b"k", value=b"v", timestamp=1_700_000_000.5, headers={"trace": b"abc"}
            )
        )
        tombstone = await (await topic.send(key=b"k", value=None))
        assert first.timestamp_ms == 1_700_000_000_500
        assert tombstone.offset == first.offset + 1
        _, event, dead = await take(topic, 3)
        assert (event.key, event.value, event.message.headers) == (b"k", b"v", [("trace", b"abc")])
        assert event.message.timestamp == pytest.approx(1_700_000_000.5)
        assert (dead.key, dead.value) == (b"k", None)


async def test_a_record_over_max_request_size_fails_before_anything_is_queued(
    kafka_bootstrap: str, unique: str, send_way: str
) -> None:
    async with App(f"size-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"size-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        await (await topic.send(value=b"warm"))
        with pytest.raises(DeliveryError, match="max_request_size") as caught:
            await topic.send(value=b"x" * 2_000_000)
        assert isinstance(caught.value.__cause__, MessageSizeTooLargeError)
        assert caught.value.topic == f"size-{unique}"
        after = await (await topic.send(value=b"after"))
        assert after.offset == 1  # the large record took no offset: it was never queued


async def test_an_unknown_partition_fails_with_a_typed_error_and_queues_nothing(
    kafka_bootstrap: str, unique: str, send_way: str
) -> None:
    async with App(f"part-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"part-{unique}", partitions=2, value_serializer="raw")
        await topic.declare()
        await (await topic.send(value=b"warm", partition=0))
        # The same error as on the memory broker, not aiokafka's bare assert.
        with pytest.raises(UnknownPartitionError, match=r"partitions 0\.\.1, got partition 2"):
            await topic.send(value=b"x", partition=2)
        after = await (await topic.send(value=b"after", partition=1))
        assert (after.partition, after.offset) == (1, 0)  # partition 1 got nothing before
