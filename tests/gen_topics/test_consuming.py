"""Consuming: routing by name and pattern, decode errors, at-least-once commits, groups."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gen_topics import TP, App, DecodeError, Event, Topic


async def _read(topic: Topic[Any, Any], n: int, timeout: float = 30.0) -> list[Any]:
    """Read ``n`` items from one iterator, keeping DecodeErrors in place of events."""
    it = topic.__aiter__()
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        while len(out) < n:
            try:
                out.append(await it.__anext__())
            except DecodeError as exc:
                out.append(exc)
    return out


async def test_pattern_subscription_receives_from_two_topics(
    broker_url: str, unique: str, take: Any
) -> None:
    async with App(f"pat-{unique}", broker=broker_url, consumer_metadata_max_age_ms=500) as app:
        for suffix in ("a", "b", "other"):
            await app.topic(f"pat-{unique}-{suffix}", partitions=1).declare()
        await (await app.topic(f"pat-{unique}-a").send(value={"from": "a"}))
        await (await app.topic(f"pat-{unique}-b").send(value={"from": "b"}))
        await (await app.topic(f"pat-{unique}-other").send(value={"from": "other"}))
        events = await take(app.topic(pattern=rf"pat-{unique}-(a|b)$"), 2)
        assert sorted(e.value["from"] for e in events) == ["a", "b"]
        assert sorted(e.message.topic for e in events) == [f"pat-{unique}-a", f"pat-{unique}-b"]


async def test_poison_record_surfaces_with_offset_and_next_records_arrive(
    broker_url: str, unique: str, take: Any
) -> None:
    async with App(f"poison-{unique}", broker=broker_url) as app:
        name, other = f"poison-{unique}", f"healthy-{unique}"
        raw = app.topic(name, partitions=1, value_serializer="raw")
        await raw.declare()
        await app.topic(other, partitions=1).declare()
        for payload in (b'{"n": 0}', b"{not json", b'{"n": 2}'):
            await (await raw.send(key=b"k", value=payload))
        await (await app.topic(other).send(value={"ok": True}))

        reader = app.topic(name, value_serializer="json")
        healthy_task = asyncio.create_task(take(app.topic(other), 1))
        first, error, third = await _read(reader, 3)
        assert isinstance(first, Event) and first.value == {"n": 0}
        assert isinstance(error, DecodeError)
        assert (error.topic, error.partition, error.offset, error.field) == (name, 0, 1, "value")
        assert error.data == b"{not json"
        assert f"{name}[0]@1" in str(error)
        assert isinstance(third, Event) and third.value == {"n": 2}
        [healthy] = await healthy_task
        assert healthy.value == {"ok": True}


async def test_offsets_commit_only_after_processing(broker_url: str, unique: str) -> None:
    name, group = f"alo-{unique}", f"alo-group-{unique}"
    async with App("producer", broker=broker_url) as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await topic.declare()
        for i in range(4):
            await (await topic.send(value=str(i).encode()))
    async with App(group, broker=broker_url, commit_interval=3600) as app:
        it = app.topic(name, value_serializer="raw").__aiter__()
        async with asyncio.timeout(30):
            e0 = await it.__anext__()
            e1 = await it.__anext__()  # asking for e1 marks e0 processed
            await it.__anext__()  # e2 received, e1 processed; e2 is not
        assert (e0.value, e1.value) == (b"0", b"1")
        # Stopping commits processed offsets only: the next read starts at offset 2.
    async with App(group, broker=broker_url) as app:
        [again] = await _read(app.topic(name, value_serializer="raw"), 1)
        assert (again.message.offset, again.value) == (2, b"2")


async def test_explicit_ack_and_fan_out_to_two_readers(memory_url: str) -> None:
    async with App("fan", broker=memory_url, commit_interval=3600) as app:
        sender = app.topic("fan", value_serializer="raw")
        await sender.declare()
        await sender.send(value=b"x")
        first = app.topic("fan", value_serializer="raw").__aiter__()
        second = app.topic("fan", value_serializer="str").__aiter__()
        async with asyncio.timeout(5):
            a = await first.__anext__()
            b = await second.__anext__()
        assert (a.value, b.value) == (b"x", "x")
        assert await app.conductor.commit() == {}  # neither reader is done
        assert a.ack() is True and a.ack() is False
        assert await app.conductor.commit() == {}  # one of two readers is done
        second.ack(b)
        assert await app.conductor.commit() == {TP("fan", 0): 1}


async def test_acks_false_topics_commit_on_delivery(memory_url: str) -> None:
    # A short interval: the first periodic commit must still wait for it, although the
    # loop's clock (the machine's uptime) is far past it from the start.
    async with App("noack", broker=memory_url, commit_interval=5) as app:
        await app.topic("n", value_serializer="raw").send(value=b"x")
        it = app.topic("n", value_serializer="raw", acks=False).__aiter__()
        async with asyncio.timeout(5):
            await it.__anext__()
        assert await app.conductor.commit() == {TP("n", 0): 1}


async def _until_assigned(*apps: App, partitions: int) -> None:
    """Wait until every app's consumer has partitions and together they hold ``partitions``
    (the group has settled), polling a condition rather than sleeping a guessed time."""
    async with asyncio.timeout(60):
        while True:
            owned = []
            for app in apps:
                consumer = app.conductor.consumer
                owned.append(set() if consumer is None else set(consumer.assignment()))
            if all(owned) and sum(len(o) for o in owned) == partitions:
                return
            await asyncio.sleep(0.01)


async def test_two_members_of_a_group_split_partitions(memory_url: str) -> None:
    async with App("g", broker=memory_url) as one, App("g", broker=memory_url) as two:
        topic = one.topic("split", partitions=4, value_serializer="raw")
        await topic.declare()
        seen: dict[str, list[Event[Any, Any]]] = {"one": [], "two": []}

        async def read(name: str, app: App) -> None:
            async for event in app.topic("split", value_serializer="raw"):
                seen[name].append(event)

        readers = [asyncio.create_task(read("one", one)), asyncio.create_task(read("two", two))]
        # Both members join (and the group settles) before anything is there to read.
        await _until_assigned(one, two, partitions=4)
        for i in range(40):
            await topic.send(key=str(i).encode(), value=str(i).encode())
        async with asyncio.timeout(60):
            while len(seen["one"]) + len(seen["two"]) < 40:
                await asyncio.sleep(0.02)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        parts_one = {e.message.partition for e in seen["one"]}
        parts_two = {e.message.partition for e in seen["two"]}
        assert parts_one and parts_two, (parts_one, parts_two)
        assert parts_one.isdisjoint(parts_two)
        assert parts_one | parts_two == {0, 1, 2, 3}
        values = sorted(int(e.value) for e in seen["one"] + seen["two"])
        assert values == list(range(40))  # each record read once, by one member


async def test_latest_offset_reset_skips_old_records(memory_url: str) -> None:
    async with App("old", broker=memory_url) as app:
        await app.topic("l", value_serializer="raw").send(value=b"old")
    async with App("new", broker=memory_url, consumer_auto_offset_reset="latest") as app:
        topic = app.topic("l", value_serializer="raw")
        reader = asyncio.create_task(_read(topic, 1, timeout=60))
        # The consumer has its partition and its latest position before "fresh" is sent.
        await _until_assigned(app, partitions=1)
        consumer = app.conductor.consumer
        assert consumer is not None
        for tp in consumer.assignment():
            await consumer.position(tp)
        await topic.send(value=b"fresh")
        [event] = await reader
        assert event.value == b"fresh"


async def test_consumer_crash_reaches_the_reader(memory_url: str) -> None:
    async with App("crash", broker=memory_url) as app:
        it = app.topic("c").__aiter__()
        await app.conductor.ensure_running()

        async def boom(timeout_ms: int) -> Any:
            raise ConnectionError("broker went away")

        consumer = app.conductor._consumer
        assert consumer is not None
        consumer.getmany = boom  # type: ignore[method-assign]
        with pytest.raises(ConnectionError, match="broker went away"):
            async with asyncio.timeout(5):
                await it.__anext__()


async def test_active_partitions_restrict_an_isolated_reader(memory_url: str) -> None:
    async with App("iso", broker=memory_url) as app:
        topic = app.topic("iso", partitions=2, value_serializer="raw")
        await topic.declare()
        await topic.send(value=b"p0", partition=0)
        await topic.send(value=b"p1", partition=1)
        isolated = topic.clone(is_iterator=True, active_partitions={TP("iso", 1)})
        app.conductor.add(isolated)
        [event] = await _read(isolated, 1, timeout=5)
        assert event.value == b"p1"
        await asyncio.sleep(0.3)
        assert isolated.empty()  # partition 0 was not routed here


async def test_decode_propagate_or_hand_to_the_reader(memory_url: str) -> None:
    from gen_topics import Message

    async with App("dec", broker=memory_url) as app:
        it = app.topic("d", value_serializer="json").__aiter__()
        bad = Message("d", 0, 7, None, None, b"{oops")
        with pytest.raises(DecodeError, match=r"value of d\[0\]@7"):
            await it.decode(bad)
        assert await it.decode(bad, propagate=False) is None
        with pytest.raises(DecodeError) as info:
            await it.get(timeout=1)
        assert info.value.offset == 7
        good = await it.decode(Message("d", 0, 8, None, b"k", b"[1]"))
        assert (good.key, good.value) == (b"k", [1])
