"""App: URLs, Faust's defaults, lifecycle, factories, and the schema-registry hook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gen_topics import App, AvroCodec, Event
from gen_topics._transport import parse_broker_url
from gen_topics._transport.memory import MemoryTransport
from gen_topics._transport.memory_broker import MemoryBroker, UnknownPartitionError
from gen_topics.codecs import Codec, JsonCodec


def test_broker_urls() -> None:
    url = parse_broker_url("kafka://h1:9092,h2:9093")
    assert (url.scheme, url.servers, url.bootstrap_servers) == (
        "kafka",
        ("h1:9092", "h2:9093"),
        "h1:9092,h2:9093",
    )
    assert parse_broker_url("memory://").servers == ("",)
    assert parse_broker_url("memory://unit").servers == ("unit",)
    with pytest.raises(ValueError, match="'redis://x' is not supported"):
        parse_broker_url("redis://x")
    with pytest.raises(ValueError, match="'h1' is not host:port"):
        parse_broker_url("kafka://h1")


def test_faust_defaults_and_group_id() -> None:
    app = App("orders-svc")
    c = app.conf
    assert (c.topic_partitions, c.topic_replication_factor, c.topic_allow_declare) == (8, 1, True)
    assert (c.key_serializer, c.value_serializer) == ("raw", "json")
    assert c.consumer_group_id == "orders-svc"
    assert c.consumer_auto_offset_reset == "earliest"
    assert c.topic_config_mismatch == "warn"
    assert c.producer_stop_timeout == 60.0
    assert isinstance(app.transport, MemoryTransport)
    assert App("a", consumer_group_id="g").conf.consumer_group_id == "g"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic_config_mismatch": "shout"}, "topic_config_mismatch must be"),
        ({"consumer_auto_offset_reset": "middle"}, "consumer_auto_offset_reset must be"),
        ({"producer_acks": 2}, "producer_acks must be"),
        ({"topic_partitions": 0}, "topic_partitions must be >= 1"),
        ({"producer_stop_timeout": 0}, "producer_stop_timeout must be > 0 seconds, got 0"),
    ],
)
def test_invalid_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        App("a", **kwargs)


def test_empty_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="App id must be a non-empty string"):
        App("")


def test_app_topic_honours_maxsize() -> None:
    # Fix over Faust: app.topic(maxsize=...) was dropped.
    assert App("a").topic("t", maxsize=3).maxsize == 3


async def test_stop_without_start_and_twice(memory_url: str) -> None:
    app = App("a", broker=memory_url)
    await app.stop()
    async with app:
        await app.topic("t").send(value={"x": 1})
    await app.stop()
    assert app.producer_or_none is None


class _Prepared(Codec[str]):
    """A real codec needing async set-up: encodes with a prefix learned in prepare()."""

    name = "prepared"

    def __init__(self) -> None:
        self.prefix: bytes | None = None
        self.prepare_calls = 0
        self.async_decodes = 0

    async def prepare(self) -> None:
        self.prepare_calls += 1
        await asyncio.sleep(0)
        self.prefix = b"v1:"

    def encode(self, value: str) -> bytes:
        if self.prefix is None:
            raise RuntimeError("encode before prepare")
        return self.prefix + value.encode()

    def decode(self, data: bytes) -> str:
        raise AssertionError("the consumer path must use decode_async")

    async def decode_async(self, data: bytes) -> str:
        self.async_decodes += 1
        return data.removeprefix(b"v1:").decode()


async def test_prepared_codec_hook_on_send_send_soon_and_consume(
    memory_url: str, take: Any
) -> None:
    codec = _Prepared()
    async with App("a", broker=memory_url) as app:
        topic = app.topic("p", value_serializer=codec)
        await (await topic.send(value="one"))
        fut = topic.send_soon(value="two")  # encoded when published, after prepare()
        assert not fut.message.encoded
        await app.flush()
        assert fut.result().offset == 1
        events: list[Event[Any, Any]] = await take(topic, 2)
        assert [e.value for e in events] == ["one", "two"]
        assert [e.message.value for e in events] == [b"v1:one", b"v1:two"]
        assert codec.prepare_calls == 2 and codec.async_decodes == 2


def test_registry_hook_wraps_schema_codecs_once_per_topic_and_field() -> None:
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    codec: AvroCodec[Any] = AvroCodec(schema)
    app = App("a", schema_registry="http://127.0.0.1:9/apis/ccompat/v7")
    topic = app.topic("t", value_serializer=codec)
    wrapped = app.wrap_codec(codec, topic="t", is_key=False, topic_cls=type(topic))
    assert wrapped is not codec
    assert app.wrap_codec(codec, topic="t", is_key=False, topic_cls=type(topic)) is wrapped
    assert app.wrap_codec(codec, topic="t", is_key=True, topic_cls=type(topic)) is not wrapped
    assert app.wrap_codec(codec, topic="u", is_key=False, topic_cls=type(topic)) is not wrapped
    plain = JsonCodec()
    assert app.wrap_codec(plain, topic="t", is_key=False, topic_cls=type(topic)) is plain
    assert App("b").wrap_codec(codec, topic="t", is_key=False, topic_cls=type(topic)) is codec


async def test_memory_broker_partitions_offsets_and_config(memory_url: str) -> None:
    broker = MemoryBroker.get(memory_url.removeprefix("memory://"))
    assert broker.create_topic("c", partitions=2, config={"cleanup.policy": "compact"})
    assert not broker.create_topic("c", partitions=5)
    assert len(broker.topics["c"].partitions) == 2  # existing topics are not changed
    first = broker.append("c", None, b"a")
    second = broker.append("c", None, b"b")
    assert (first.partition, second.partition) == (0, 1)  # keyless: round-robin
    assert broker.append("c", b"k", b"x", partition=1).offset == 1
    with pytest.raises(UnknownPartitionError, match=r"partitions 0..1, got partition 7"):
        broker.append("c", None, b"x", partition=7)
    assert len(broker.topic("auto").partitions) == 1  # auto-created like Kafka's num.partitions
