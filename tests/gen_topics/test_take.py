"""take(max_records, within=...): typed batches, both bounds, never empty, acked together."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gen_topics import TP, App, DecodeError, Event, Topic


async def _send(topic: Topic[Any, Any], values: range) -> None:
    for i in values:
        await (await topic.send(value=str(i).encode()))


async def test_take_respects_max_records_and_acks_a_batch_when_the_next_is_read(
    broker_url: str, unique: str
) -> None:
    name = f"take-{unique}"
    async with App(f"take-g-{unique}", broker=broker_url, commit_interval=600) as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await topic.declare()
        await _send(topic, range(20))
        tp = TP(name, 0)
        batches = topic.take(10, within=60)
        async with asyncio.timeout(60):
            first = await anext(batches)
            assert [e.value for e in first] == [str(i).encode() for i in range(10)]
            assert all(isinstance(e, Event) for e in first)
            assert await app.conductor.commit() == {}  # the batch is in hand
            second = await anext(batches)  # acks the whole first batch
        assert [e.value for e in second] == [str(i).encode() for i in range(10, 20)]
        assert await app.conductor.commit() == {tp: 10}
        second[3].ack()  # acking single events of a batch works too (in order only counts)
        second[0].ack()
        assert await app.conductor.commit() == {tp: 11}


async def test_take_yields_what_arrived_within_the_time_and_never_an_empty_batch(
    broker_url: str, unique: str
) -> None:
    name = f"within-{unique}"
    async with App(f"within-g-{unique}", broker=broker_url) as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await topic.declare()
        await _send(topic, range(3))
        batches = topic.take(100, within=0.3)
        async with asyncio.timeout(60):
            assert [e.value for e in await anext(batches)] == [b"0", b"1", b"2"]
            pending = asyncio.ensure_future(anext(batches))
            # Several `within` periods pass with nothing to read: no empty batch comes.
            done, _ = await asyncio.wait({pending}, timeout=1.5)
            assert not done
            await _send(topic, range(3, 4))
            assert [e.value for e in await pending] == [b"3"]


async def test_a_record_that_does_not_decode_ends_the_batch_before_it(memory_url: str) -> None:
    async with App("take-bad", broker=memory_url, commit_interval=600) as app:
        raw = app.topic("j", value_serializer="raw")
        for payload in (b"1", b"2", b"{oops", b"4"):
            await raw.send(value=payload)
        batches = app.topic("j", value_serializer="json").take(10, within=0.2)
        async with asyncio.timeout(10):
            assert [e.value for e in await anext(batches)] == [1, 2]
            with pytest.raises(DecodeError) as info:
                await anext(batches)
            assert info.value.offset == 2
            assert [e.value for e in await anext(batches)] == [4]
        assert await app.conductor.commit() == {TP("j", 0): 3}


async def test_take_skips_bad_records_with_the_skip_policy(memory_url: str) -> None:
    async with App("take-skip", broker=memory_url) as app:
        raw = app.topic("j", value_serializer="raw")
        for payload in (b"1", b"{oops", b"3"):
            await raw.send(value=payload)
        topic = app.topic("j", value_serializer="json", on_decode_error="skip")
        batches = topic.take(10, within=0.2)
        values: list[Any] = []
        async with asyncio.timeout(10):
            while len(values) < 2:
                values.extend(e.value for e in await anext(batches))
        assert values == [1, 3] and topic.skipped == 1


def test_take_checks_its_bounds(memory_url: str) -> None:
    topic = App("take-args", broker=memory_url).topic("t")
    with pytest.raises(ValueError, match="max_records >= 1"):
        topic.take(0, within=1)
    with pytest.raises(ValueError, match="within > 0"):
        topic.take(1, within=0)


class _RawNoTombstones(Topic[bytes, bytes]):
    """Raw bytes whose values exclude None: take()'s raw path must check for nulls."""

    default_key_serializer = "raw"
    default_value_serializer = "raw"


async def test_take_stops_a_raw_batch_before_a_null_the_type_excludes(memory_url: str) -> None:
    async with App("take-null", broker=memory_url, commit_interval=600) as app:
        raw = app.topic("n", key_serializer="raw", value_serializer="raw", partitions=1)
        for payload in (b"a", b"b", None, b"d"):
            await (await raw.send(key=b"k", value=payload))
        topic = _RawNoTombstones(app, topics="n", on_decode_error="skip")
        batches = topic.take(10, within=0.2)
        async with asyncio.timeout(10):
            assert [e.value for e in await anext(batches)] == [b"a", b"b"]
            assert [e.value for e in await anext(batches)] == [b"d"]  # the null skipped
            assert topic.skipped == 1
            batches.ack()  # type: ignore[attr-defined]
        assert await app.conductor.commit() == {TP("n", 0): 4}


async def test_take_acks_the_events_of_a_topic_without_offset_tracking(memory_url: str) -> None:
    async with App("take-noacks", broker=memory_url, commit_interval=600) as app:
        raw = app.topic("q", value_serializer="raw", partitions=1)
        for payload in (b"1", b"2", b"3"):
            await (await raw.send(value=payload))
        batches = app.topic("q", value_serializer="raw", acks=False).take(3, within=5)
        async with asyncio.timeout(10):
            batch = await anext(batches)
            assert [e.value for e in batch] == [b"1", b"2", b"3"]
            assert not any(e.acked for e in batch)
            batches.ack()  # type: ignore[attr-defined]
        assert all(e.acked for e in batch)
