"""End to end: a generated topic on an App with a registry writes framed records, unchanged
user code; consumers on another schema version read them (memory broker and real Kafka)."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from typing import Any

import pytest

from gen_topics import App
from gen_topics.codecs import AvroCodec
from gen_topics.registry import SchemaRegistryClient
from generated.avro.com.acme.inventory import Location, StockKey, StockLevel
from generated.inventory_stock import InventoryStockTopic
from tests.gen_topics.registry.helpers import avro_record, unique

pytestmark = pytest.mark.registry


def _broker(request: pytest.FixtureRequest, kind: str) -> str:
    if kind == "memory":
        return "memory://"
    return "kafka://" + str(request.getfixturevalue("kafka_bootstrap"))


async def _first(topic: Any) -> asyncio.Task[Any]:
    """Start reading ``topic``. No pause is needed before sending: a new group reads from the
    earliest offset, so a record sent before the subscription attaches is still read."""
    return asyncio.create_task(topic.__aiter__().__anext__())


BROKERS = [
    pytest.param("memory", id="memory"),
    pytest.param("kafka", id="kafka", marks=pytest.mark.kafka),
]


@pytest.mark.parametrize("kind", BROKERS)
async def test_generated_topic_sends_framed_records(
    request: pytest.FixtureRequest, registry_url: str, kind: str
) -> None:
    name = unique("e2e-stock")
    key = StockKey(sku="SKU-1", warehouse="AMS")
    value = StockLevel(
        sku="SKU-1",
        warehouse="AMS",
        on_hand=7,
        updated_at=dt.datetime(2024, 5, 1, 12, 0, 0),
        location=Location(aisle="B", shelf=3),
    )
    async with App(
        unique("e2e"), broker=_broker(request, kind), schema_registry=registry_url
    ) as app:
        topic = InventoryStockTopic(app, topics=[name])  # only the topic name differs
        await topic.maybe_declare()  # a consumer on a missing Kafka topic waits for metadata
        raw = app.topic(name, key_serializer="raw", value_serializer="raw")
        typed_task = await _first(topic)
        raw_task = await _first(raw)
        await topic.send(key=key, value=value)
        raw_event = await asyncio.wait_for(raw_task, 60)
        typed_event = await asyncio.wait_for(typed_task, 60)
    async with SchemaRegistryClient(registry_url) as client:
        key_latest = await client.get_latest("com.acme.inventory.StockKey")  # record strategy
        value_latest = await client.get_latest("com.acme.inventory.StockLevel")
    for data, registered in ((raw_event.key, key_latest), (raw_event.value, value_latest)):
        assert data[0] == 0
        assert struct.unpack(">I", data[1:5])[0] == registered.schema_id
    assert typed_event.key == key
    assert typed_event.value == value


V1 = avro_record("Reading", [{"name": "sensor", "type": "string"}])
V2 = avro_record(
    "Reading",
    [{"name": "sensor", "type": "string"}, {"name": "unit", "type": "string", "default": "C"}],
)


@pytest.mark.parametrize("kind", BROKERS)
async def test_consumer_on_v2_reads_producer_on_v1_and_back(
    request: pytest.FixtureRequest, registry_url: str, kind: str
) -> None:
    name = unique("e2e-evolve")
    broker = _broker(request, kind)
    async with SchemaRegistryClient(registry_url) as client:
        await client.register(f"{name}-value", V1)
        await client.set_config("BACKWARD", f"{name}-value")
    async with (
        App(unique("p1"), broker=broker, schema_registry=registry_url) as producer_app,
        App(unique("c2"), broker=broker, schema_registry=registry_url) as consumer_app,
    ):
        producer_v1 = producer_app.topic(name, value_serializer=AvroCodec(V1))
        consumer_v2 = consumer_app.topic(name, value_serializer=AvroCodec(V2))
        producer_v2 = consumer_app.topic(name, value_serializer=AvroCodec(V2))
        consumer_v1 = producer_app.topic(name, value_serializer=AvroCodec(V1))
        await producer_v1.maybe_declare()
        v2_reader = consumer_v2.__aiter__()
        v1_reader = consumer_v1.__aiter__()
        first_v2 = asyncio.create_task(v2_reader.__anext__())
        first_v1 = asyncio.create_task(v1_reader.__anext__())
        await producer_v1.send(value={"sensor": "s1"})
        assert (await asyncio.wait_for(first_v2, 60)).value == {"sensor": "s1", "unit": "C"}
        assert (await asyncio.wait_for(first_v1, 60)).value == {"sensor": "s1"}
        await producer_v2.send(value={"sensor": "s2", "unit": "F"})
        assert (await asyncio.wait_for(v1_reader.__anext__(), 60)).value == {"sensor": "s2"}
        assert (await asyncio.wait_for(v2_reader.__anext__(), 60)).value == {
            "sensor": "s2",
            "unit": "F",
        }
