"""seek, seek_to_beginning / _end / _timestamp, positions and end_offsets (memory and Kafka)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from gen_topics import TP, App, Event, SeekError, Topic

COUNT = 10
# CreateTime timestamps a day ago, 10 s apart (Kafka accepts past timestamps by default).
T0 = float(int(time.time()) - 86400)
SENTINEL = b"sentinel"


async def _produce(app: App, name: str) -> Topic[Any, Any]:
    topic = app.topic(name, partitions=1, value_serializer="raw")
    await topic.declare()
    for i in range(COUNT):
        await (await topic.send(value=str(i).encode(), timestamp=T0 + 10.0 * i))
    return topic


async def _until_sentinel(stream: Topic[Any, Any], producer: Topic[Any, Any]) -> list[int]:
    """Offsets the reader gets from here up to a sentinel record sent now (exclusive)."""
    await (await producer.send(value=SENTINEL))
    offsets: list[int] = []
    async with asyncio.timeout(30):
        async for event in stream:
            if event.value == SENTINEL:
                event.ack()
                return offsets
            offsets.append(event.message.offset)
    raise AssertionError("the stream ended before the sentinel")


async def _read(stream: Topic[Any, Any], n: int) -> list[Event[Any, Any]]:
    out = []
    async with asyncio.timeout(30):
        while len(out) < n:
            out.append(await anext(stream))
    return out


async def test_seek_replays_exactly_the_records_from_an_offset(
    broker_url: str, unique: str
) -> None:
    name = f"seek-{unique}"
    async with App(f"seek-g-{unique}", broker=broker_url, commit_interval=600) as app:
        producer = await _produce(app, name)
        stream = aiter(app.topic(name, value_serializer="raw"))
        first = await _read(stream, COUNT)
        assert [e.message.offset for e in first] == list(range(COUNT))
        tp = TP(name, 0)
        assert await stream.end_offsets() == {tp: COUNT}

        await stream.seek(0, 4)
        assert await _until_sentinel(stream, producer) == list(range(4, COUNT))
        assert await stream.positions() == {tp: COUNT + 1}
        assert await app.commit() is None
        assert await app.conductor.consumer.committed(tp) == COUNT + 1  # type: ignore[union-attr]

        # Kafka's semantics: a commit after a seek stores the new position (here, back).
        await stream.seek(tp, 2)
        await app.commit()
        assert await app.conductor.consumer.committed(tp) == 2  # type: ignore[union-attr]
        assert [e.message.offset for e in await _read(stream, 2)] == [2, 3]


async def test_lag_counts_fetched_records_not_processed_yet(broker_url: str, unique: str) -> None:
    name = f"lag-{unique}"
    async with App(f"lag-g-{unique}", broker=broker_url, commit_interval=600) as app:
        await _produce(app, name)
        stream = aiter(app.topic(name, value_serializer="raw"))
        tp = TP(name, 0)
        [first] = await _read(stream, 1)
        # The consumer fetches ahead: its position may be past records no reader has seen.
        assert 1 <= (await stream.positions())[tp] <= COUNT
        assert await stream.lag() == {tp: COUNT}  # the event in hand is not processed yet
        first.ack()
        assert await stream.lag() == {tp: COUNT - 1}
        await _read(stream, 3)  # reading the next event acks the one before
        assert await stream.lag() == {tp: COUNT - 3}
        await stream.seek(tp, 8)
        assert await stream.lag() == {tp: 2}


async def test_seek_to_timestamp_beginning_and_end(broker_url: str, unique: str) -> None:
    name = f"seekts-{unique}"
    async with App(f"seekts-g-{unique}", broker=broker_url) as app:
        producer = await _produce(app, name)
        topic = app.topic(name, value_serializer="raw")
        stream = aiter(topic)
        await _read(stream, COUNT)

        await topic.seek_to_timestamp(T0 + 35.0)  # between offsets 3 (T0+30) and 4 (T0+40)
        first = await anext(stream)
        assert first.message.offset == 4
        assert first.message.timestamp == pytest.approx(T0 + 40.0, abs=0.001)
        await topic.seek_to_timestamp(dt.datetime.fromtimestamp(T0 + 80.0, dt.UTC), 0)
        assert await _until_sentinel(stream, producer) == [8, 9]

        await topic.seek_to_beginning()
        assert (await anext(stream)).message.offset == 0
        await topic.seek_to_end(0)  # only what is written from now on
        assert await _until_sentinel(stream, producer) == []
        # A timestamp after every record: read from the end.
        await topic.seek_to_timestamp(time.time() + 3600.0)
        assert await _until_sentinel(stream, producer) == []


async def test_seek_errors_say_what_is_wrong(memory_url: str) -> None:
    async with App("seek-err", broker=memory_url) as app:
        topic = app.topic("s", partitions=2, value_serializer="raw")
        await topic.declare()
        await topic.send(value=b"x", partition=0)
        with pytest.raises(SeekError, match="does not read s: start iterating it first"):
            await topic.seek(0, 0)
        stream = aiter(topic)
        await _read(stream, 1)
        with pytest.raises(SeekError, match="offset >= 0"):
            await stream.seek(0, -1)
        with pytest.raises(SeekError, match=r"partition s\[5\] is not assigned"):
            await stream.seek(5, 0)


async def test_a_second_member_holds_the_other_partition(memory_url: str) -> None:
    async with App("pair", broker=memory_url) as one, App("pair", broker=memory_url) as two:
        topic = one.topic("p", partitions=2, value_serializer="raw")
        await topic.declare()
        await topic.send(value=b"a", partition=0)
        await topic.send(value=b"b", partition=1)
        first = aiter(one.topic("p", value_serializer="raw"))
        second = aiter(two.topic("p", value_serializer="raw"))
        [a] = await _read(first, 1)
        [b] = await _read(second, 1)
        mine, theirs = a.message.tp, b.message.tp
        assert mine != theirs
        assert set(await first.positions()) == {mine}
        with pytest.raises(SeekError, match="is not assigned to app 'pair'"):
            await first.seek(theirs, 0)
