"""The Kafka producer's deliveries: batches resolved with gen-topics' types, and the fallback.

The hook reaches into aiokafka's batch internals (aiokafka is pinned to 0.14.x): the first test
fails, naming what changed, when an aiokafka upgrade moves them. Each behaviour is checked on
both paths, the hooked batches and the converting wrapper that stands in without them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata as AiokafkaRecordMetadata

from gen_topics import App, RecordMetadata
from gen_topics._transport import kafka as kafka_transport
from gen_topics._transport.kafka_delivery import passthrough
from gen_topics.errors import DeliveryError

pytestmark = pytest.mark.kafka


@pytest.fixture(params=["hooked", "converting"])
def delivery_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "converting":
        # As if aiokafka's internals had changed: the hook declines to install.
        monkeypatch.setattr(kafka_transport, "install_batch_hook", lambda producer, error: False)
    yield request.param


async def test_the_pinned_aiokafka_takes_the_hook(kafka_bootstrap: str, unique: str) -> None:
    async with App(f"hook-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"hook-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        await (await topic.send(value=b"x"))
        path = app.send_path
        assert path is not None
        assert path.delivery is passthrough, (
            "aiokafka's MessageBatch internals changed (see gen_topics/_transport/"
            "kafka_delivery.py): the Kafka producer fell back to converting every delivery"
        )


async def test_deliveries_resolve_with_our_metadata(
    kafka_bootstrap: str, unique: str, delivery_path: str
) -> None:
    async with App(f"md-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"md-{unique}", partitions=2, value_serializer="raw")
        await topic.declare()
        pending = [await topic.send(value=b"v%d" % i, partition=i % 2) for i in range(6)]
        results = [await p for p in pending]
        path = app.send_path
        assert path is not None
        assert (path.delivery is passthrough) == (delivery_path == "hooked")
        assert all(type(md) is RecordMetadata for md in results)
        assert [(md.partition, md.offset) for md in results] == [
            (0, 0),
            (1, 0),
            (0, 1),
            (1, 1),
            (0, 2),
            (1, 2),
        ]
        assert all(md.topic_partition == (f"md-{unique}", md.partition) for md in results)
        assert all(md.timestamp is not None and md.timestamp > 0 for md in results)


async def test_without_acks_both_paths_say_where_it_went(
    kafka_bootstrap: str, unique: str, delivery_path: str
) -> None:
    async with App(f"noack-{unique}", broker=f"kafka://{kafka_bootstrap}", producer_acks=0) as app:
        topic = app.topic(f"noack-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        md = await (await topic.send(value=b"x"))
        assert type(md) is RecordMetadata
        assert (md.topic, md.partition, md.offset) == (f"noack-{unique}", -1, -1)


async def test_a_record_too_large_fails_with_a_delivery_error_naming_the_partition(
    kafka_bootstrap: str, unique: str, delivery_path: str
) -> None:
    name = f"big-{unique}"
    async with App(f"big-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(
            name, partitions=3, value_serializer="raw", config={"max.message.bytes": "2000"}
        )
        await topic.declare()
        small = await topic.send(value=b"ok", partition=1)
        large = await topic.send(value=b"x" * 50_000, partition=2)
        assert (await small).partition == 1
        with pytest.raises(DeliveryError) as caught:
            await large
    error = caught.value
    assert (error.topic, error.partition) == (name, 2)
    assert error.__cause__ is not None
    assert f"topic {name!r} partition 2" in str(error)
    assert "max.message.bytes" in str(error)
    assert error.elapsed is not None and error.elapsed >= 0


async def test_other_aiokafka_producers_in_the_process_are_untouched(
    kafka_bootstrap: str, unique: str
) -> None:
    name = f"mixed-{unique}"
    async with App(f"mixed-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await topic.declare()
        ours = await (await topic.send(value=b"a"))
        plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await plain.start()
        try:
            theirs = await (await plain.send(name, b"b"))
        finally:
            await plain.stop()
    assert type(ours) is RecordMetadata
    assert type(theirs) is AiokafkaRecordMetadata
    assert theirs.offset == ours.offset + 1


async def test_each_record_of_a_batch_reports_its_own_timestamp(
    kafka_bootstrap: str, unique: str
) -> None:
    # aiokafka's own batches report the first record's CreateTime for every record of the
    # batch (so does the converting fallback, which only sees aiokafka's metadata); the
    # hooked ones report each record's. The sends are queued before the loop runs: one batch.
    async with App(f"ts-{unique}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = app.topic(f"ts-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        await (await topic.send(value=b"warm"))
        stamps = [1_700_000_000.0 + i for i in range(5)]
        pending = [await topic.send(value=b"v", timestamp=ts) for ts in stamps]
        results = [await p for p in pending]
    assert len({md.offset for md in results}) == 5
    assert [md.timestamp_ms for md in results] == [int(ts * 1000) for ts in stamps]
    assert {md.timestamp_type for md in results} == {0}
