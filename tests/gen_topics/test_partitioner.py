"""Kafka's default partitioner: murmur2 like the Java client, checked against a real broker."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from gen_topics import App
from gen_topics._partitioner import RoundRobin, murmur2, partition_for_key, to_positive

# Kafka's own test vectors (clients UtilsTest.testMurmur2): signed Java ints.
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("data", "expected"), sorted(JAVA_VECTORS.items()))
def test_murmur2_matches_java_vectors(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


@given(st.binary(max_size=64))
def test_murmur2_matches_aiokafka(data: bytes) -> None:
    assert murmur2(data) & 0xFFFFFFFF == aiokafka_murmur2(data)


def test_to_positive_clears_sign_bit_not_abs() -> None:
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-973932308) == (-973932308) & 0x7FFFFFFF
    assert partition_for_key(b"21", 10) == to_positive(-973932308) % 10


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        partition_for_key(b"k", 0)


def test_round_robin_cycles_per_topic() -> None:
    rr = RoundRobin()
    assert [rr.partition("a", 3) for _ in range(4)] == [0, 1, 2, 0]
    assert rr.partition("b", 3) == 0


async def test_memory_broker_places_keys_like_java(memory_url: str) -> None:
    async with App("p", broker=memory_url) as app:
        topic = app.topic("keys", partitions=7, value_serializer="raw")
        await topic.declare()
        for key in JAVA_VECTORS:
            md = await (await topic.send(key=key, value=b"v"))
            assert md.partition == to_positive(JAVA_VECTORS[key]) % 7


@pytest.mark.kafka
async def test_real_broker_places_keys_where_we_compute(kafka_bootstrap: str) -> None:
    name = f"murmur-{uuid.uuid4().hex[:8]}"
    async with App("p", broker=f"kafka://{kafka_bootstrap}") as app:
        await app.topic(name, partitions=7).declare()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        keys = [*JAVA_VECTORS, *(f"key-{i}".encode() for i in range(30))]
        for key in keys:
            md = await (await producer.send(name, b"v", key=key))
            assert md.partition == partition_for_key(key, 7), key
    finally:
        await producer.stop()
