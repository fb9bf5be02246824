"""Sending: round trips, tombstones, encode errors before sending, callbacks, send_soon."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gen_topics import App, AvroCodec, EncodeError, FutureMessage, RecordMetadata
from gen_topics._transport.memory_broker import MemoryBroker
from gen_topics.codecs import Codec

ORDER = json.dumps(
    {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}
)


def _app(broker_url: str, unique: str) -> App:
    return App(f"send-{unique}", broker=broker_url, commit_interval=0.2)


async def test_round_trip_with_headers_partition_and_timestamp(
    broker_url: str, unique: str, take: Any
) -> None:
    async with _app(broker_url, unique) as app:
        topic = app.topic(f"rt-{unique}", partitions=3, value_serializer="json")
        await topic.declare()
        assert app.producer_or_none is None  # started lazily on first send
        pending = await topic.send(
            key=b"order-1",
            value={"id": 1, "items": ["a"]},
            partition=2,
            timestamp=1_700_000_000.25,
            headers={"trace": b"abc", "n": b"1"},
        )
        assert app.producer_or_none is not None
        md = await pending
        assert isinstance(md, RecordMetadata)
        assert (md.topic, md.partition, md.offset) == (f"rt-{unique}", 2, 0)
        assert md.topic_partition == (f"rt-{unique}", 2)
        assert (md.timestamp_ms, md.timestamp, md.timestamp_type) == (
            1_700_000_000_250,
            1_700_000_000.25,
            0,
        )
        [event] = await take(topic, 1)
        assert event.key == b"order-1"
        assert event.value == {"id": 1, "items": ["a"]}
        assert event.headers == {"trace": b"abc", "n": b"1"}
        assert event.message.headers == [("trace", b"abc"), ("n", b"1")]
        assert (event.message.topic, event.message.partition, event.message.offset) == (
            f"rt-{unique}",
            2,
            0,
        )
        assert event.message.timestamp == pytest.approx(1_700_000_000.25)


@pytest.mark.parametrize(
    "serializer", ["json", "raw", "str", AvroCodec(ORDER)], ids=["json", "raw", "str", "avro"]
)
async def test_tombstone_is_a_null_record_for_every_codec(
    memory_url: str, unique: str, take: Any, serializer: Codec[Any] | str
) -> None:
    # Fix over Faust: json turned value=None into b"null".
    async with _app(memory_url, unique) as app:
        topic = app.topic("tomb", value_serializer=serializer)
        md = await (await topic.send(key=b"k", value=None))
        stored = MemoryBroker.get(memory_url.removeprefix("memory://")).topics["tomb"]
        assert stored.partitions[md.partition][md.offset].value is None
        [event] = await take(topic, 1)
        assert event.value is None and event.message.value is None and event.key == b"k"


async def test_tombstone_on_broker(broker_url: str, unique: str, take: Any) -> None:
    async with _app(broker_url, unique) as app:
        topic = app.topic(f"tomb-{unique}")
        await topic.declare()
        await (await topic.send(key=b"gone", value=None))
        [event] = await take(topic, 1)
        assert (event.key, event.value, event.message.value) == (b"gone", None, None)


async def test_encode_failure_sends_nothing_and_names_topic_and_field(
    broker_url: str, unique: str, take: Any
) -> None:
    async with _app(broker_url, unique) as app:
        name = f"enc-{unique}"
        topic = app.topic(name, partitions=1)
        await topic.declare()
        with pytest.raises(EncodeError, match=rf"value for topic '{name}'.*json") as info:
            await topic.send(key=b"k", value={"when": object()})
        assert (info.value.topic, info.value.field) == (name, "value")
        with pytest.raises(EncodeError, match=rf"key for topic '{name}'.*got int") as kinfo:
            await topic.send(key=42, value={"ok": 1})
        assert kinfo.value.field == "key"
        await (await topic.send(key=b"good", value={"ok": 1}))
        [event] = await take(topic, 1)
        # The failed sends left no record behind: the good one is offset 0.
        assert (event.message.offset, event.key) == (0, b"good")


class _NotBytes(Codec[Any]):
    name = "bad"

    def encode(self, value: Any) -> bytes:
        return value  # type: ignore[no-any-return]

    def decode(self, data: bytes) -> Any:
        return data


async def test_codec_returning_non_bytes_is_rejected(memory_url: str, unique: str) -> None:
    async with _app(memory_url, unique) as app:
        topic = app.topic("nb", value_serializer=_NotBytes())
        with pytest.raises(EncodeError, match="codec 'bad' returned int, not bytes"):
            await topic.send(value=5)


class _Tagged(bytes):
    """A bytes subclass: what it would carry beyond its bytes cannot reach the broker."""


async def test_raw_codec_sends_bytes_as_they_are_and_converts_the_rest(
    memory_url: str, unique: str, take: Any
) -> None:
    async with _app(memory_url, unique) as app:
        topic = app.topic(f"raw-{unique}", key_serializer="raw", value_serializer="raw")
        await topic.send(key=b"k", value=b"bytes")
        await topic.send(key="k\u00e9", value="text \u00e9")
        await topic.send(key=bytearray(b"ba"), value=memoryview(b"view"))
        with pytest.raises(EncodeError, match="codec 'raw' returned _Tagged, not bytes"):
            await topic.send(key=b"k", value=_Tagged(b"tagged"))
        with pytest.raises(EncodeError, match="raw codec expects bytes or str, got int") as info:
            await topic.send(key=b"k", value=7)
        assert info.value.field == "value"
        events = await take(topic, 3)
        assert [(e.key, e.value) for e in events] == [
            (b"k", b"bytes"),
            ("k\u00e9".encode(), "text \u00e9".encode()),
            (b"ba", b"view"),
        ]
        assert all(type(e.key) is bytes and type(e.value) is bytes for e in events)


async def test_send_soon_then_stop_flushes_everything(
    broker_url: str, unique: str, take: Any
) -> None:
    name = f"soon-{unique}"
    futures: list[FutureMessage] = []
    async with _app(broker_url, unique) as app:
        topic = app.topic(name, partitions=2, value_serializer="json")
        await topic.declare()
        for i in range(300):
            futures.append(topic.send_soon(key=str(i).encode(), value={"i": i}))
        assert all(not f.done() for f in futures[-10:])
    # The app stopped: every buffered record was published and acked.
    assert all(f.done() and isinstance(f.result(), RecordMetadata) for f in futures)
    async with App(f"reader-{unique}", broker=broker_url) as reader:
        events = await take(reader.topic(name, value_serializer="json"), 300)
        assert sorted(e.value["i"] for e in events) == list(range(300))


async def test_callbacks_are_awaited_in_every_path(memory_url: str, unique: str) -> None:
    # Fix over Faust: an async callback was only awaited when wait=True.
    seen: list[tuple[str, RecordMetadata]] = []

    async def callback(fut: FutureMessage) -> None:
        await asyncio.sleep(0.01)
        seen.append((fut.message.value.decode(), fut.result()))

    def sync_callback(fut: FutureMessage) -> None:
        seen.append(("sync:" + fut.message.value.decode(), fut.result()))

    async with _app(memory_url, unique) as app:
        topic = app.topic("cb", value_serializer="raw")
        md = await (await topic.send(value=b"send", callback=callback))
        assert seen == [("send", md)]
        await (await topic.send(value=b"s", callback=sync_callback))
        assert seen[-1][0] == "sync:s"
        fut = topic.as_future_message(value=b"wait", callback=callback)
        returned = await topic.publish_message(fut, wait=True)
        assert returned is fut and seen[-1] == ("wait", fut.result())
        topic.send_soon(value=b"soon", callback=callback)
    assert seen[-1][0] == "soon"  # awaited before stop() returned


async def test_headers_forms(memory_url: str, unique: str, take: Any) -> None:
    async with _app(memory_url, unique) as app:
        topic = app.topic("h", value_serializer="raw")
        await topic.send(value=b"1", headers=[("a", b"1"), ("a", b"2")])
        await topic.send(value=b"2", headers={"s": "text"})  # type: ignore[dict-item]
        first, second = await take(topic, 2)
        assert first.message.headers == [("a", b"1"), ("a", b"2")]
        assert second.headers == {"s": b"text"}
        with pytest.raises(TypeError, match="header 'x' value must be bytes, got int"):
            await topic.send(value=b"3", headers={"x": 1})  # type: ignore[dict-item]


async def test_send_to_multi_name_topic_is_value_error(memory_url: str, unique: str) -> None:
    async with _app(memory_url, unique) as app:
        with pytest.raises(ValueError, match="multiple topic names"):
            await app.topic("a", "b").send(value=b"x")


async def test_send_soon_with_eager_partitioning(memory_url: str, unique: str) -> None:
    from gen_topics._partitioner import partition_for_key

    async with _app(memory_url, unique) as app:
        topic = app.topic("eager", partitions=5, value_serializer="raw")
        await topic.declare()
        fut = topic.send_soon(key=b"abc", value=b"v", eager_partitioning=True)
        assert fut.message.partition == partition_for_key(b"abc", 5)
        explicit = topic.send_soon(key=b"abc", value=b"v", partition=1, eager_partitioning=True)
        assert explicit.message.partition == 1


async def test_concurrent_first_sends_start_one_producer(memory_url: str, unique: str) -> None:
    async with _app(memory_url, unique) as app:
        topic = app.topic("c", value_serializer="raw")
        results = await asyncio.gather(*(topic.send(value=b"x") for _ in range(20)))
        offsets = sorted([(await r).offset for r in results])
        assert offsets == list(range(20))


async def test_send_soon_failure_is_set_on_its_future(memory_url: str, unique: str) -> None:
    async with _app(memory_url, unique) as app:
        topic = app.topic("fail", partitions=2, value_serializer="raw")
        await topic.declare()
        bad = topic.send_soon(value=b"x", partition=7)
        good = topic.send_soon(value=b"y", partition=1)
        await app.flush()
        assert isinstance(bad.exception(), ValueError)
        assert "partitions 0..1, got partition 7" in str(bad.exception())
        assert good.result().partition == 1
        with pytest.raises(ValueError, match="got partition 7"):
            await topic.send(value=b"x", partition=7)


@pytest.mark.kafka
async def test_without_acks_the_delivery_resolves_with_no_offset(
    kafka_bootstrap: str, unique: str
) -> None:
    # aiokafka resolves acks=0 deliveries with None: the topic still says where it went.
    async with App(f"noack-{unique}", broker=f"kafka://{kafka_bootstrap}", producer_acks=0) as app:
        topic = app.topic(f"noack-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        md = await (await topic.send(value=b"x"))
        assert isinstance(md, RecordMetadata)
        assert (md.topic, md.partition, md.offset, md.timestamp) == (
            f"noack-{unique}",
            -1,
            -1,
            None,
        )
