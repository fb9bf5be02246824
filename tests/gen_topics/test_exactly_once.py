"""processing_guarantee="exactly_once": sends and consumed offsets commit in one transaction,
visible to read_committed readers only on commit, never when aborted; fenced producers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from gen_topics import TP, App, Topic
from gen_topics._transport.base import ConsumerSettings, ProducerSettings
from gen_topics.errors import TransactionFencedError

_TIMEOUT = 60.0


async def _fill(app: App, name: str, n: int) -> None:
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    await topic.declare()
    for i in range(n):
        await (await topic.send(key=str(i).encode(), value=str(i).encode()))


async def _read_all(broker: str, name: str, sentinel: bytes, *, committed: bool) -> list[bytes]:
    """Every value of ``name`` before ``sentinel`` (written after what is checked)."""
    level = "read_committed" if committed else "read_uncommitted"
    async with App(
        f"check-{uuid.uuid4().hex[:8]}", broker=broker, consumer_isolation_level=level
    ) as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        out: list[bytes] = []
        async with asyncio.timeout(_TIMEOUT):
            async for event in topic:
                if event.value == sentinel:
                    return out
                out.append(event.value)
    raise AssertionError("unreachable")


async def _write_sentinel(broker: str, name: str) -> bytes:
    sentinel = b"end-" + uuid.uuid4().hex.encode()
    async with App(f"w-{uuid.uuid4().hex[:8]}", broker=broker) as app:
        topic = app.topic(name, partitions=1, value_serializer="raw")
        await (await topic.send(value=sentinel))
    return sentinel


async def _stable_end(app: App, tp: TP) -> int:
    consumer = app.transport.consumer(
        ConsumerSettings(group_id=f"lso-{uuid.uuid4().hex[:8]}", isolation_level="read_committed")
    )
    await consumer.start()
    try:
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def _committed_reaches(broker: str, group: str, tp: TP, expected: int) -> None:
    """Wait until ``group``'s committed offset of ``tp`` is ``expected`` (Kafka applies a
    transaction's offsets once its markers are written, a moment after the commit returns)."""
    async with App(f"probe-{uuid.uuid4().hex[:8]}", broker=broker) as app:
        consumer = app.transport.consumer(ConsumerSettings(group_id=group))
        await consumer.start()
        try:
            async with asyncio.timeout(_TIMEOUT):
                while (found := await consumer.committed(tp)) != expected:
                    assert found is None or found < expected
                    await asyncio.sleep(0.05)
        finally:
            await consumer.stop()


def _topics(app: App, inp: str, out: str) -> tuple[Topic[Any, Any], Topic[Any, Any]]:
    return (
        app.topic(inp, partitions=1, value_serializer="raw", key_serializer="raw"),
        app.topic(out, partitions=1, value_serializer="raw", key_serializer="raw"),
    )


async def test_sends_and_offsets_become_visible_together_on_commit(
    broker_url: str, unique: str
) -> None:
    inp, out, group = f"eos-in-{unique}", f"eos-out-{unique}", f"eos-g-{unique}"
    async with App(f"fill-{unique}", broker=broker_url) as filler:
        await _fill(filler, inp, 3)
        await filler.topic(out, partitions=1).declare()
    app = App(group, broker=broker_url, processing_guarantee="exactly_once")
    async with app:
        source, sink = _topics(app, inp, out)
        seen = 0
        async with asyncio.timeout(_TIMEOUT):
            async for event in source:
                sent = await (await sink.send(key=event.key, value=b"d-" + event.value))
                # Sent and acknowledged, but not committed: read_committed readers cannot
                # read it (the stable end is not past it), and the group's offset has not moved.
                assert await _stable_end(app, TP(out, 0)) <= sent.offset
                consumer = app.conductor.consumer
                assert consumer is not None
                assert (await consumer.committed(TP(inp, 0)) or 0) <= seen
                seen += 1
                if seen == 3:
                    app.request_stop()
    await _committed_reaches(broker_url, group, TP(inp, 0), 3)
    sentinel = await _write_sentinel(broker_url, out)
    assert await _read_all(broker_url, out, sentinel, committed=True) == [b"d-0", b"d-1", b"d-2"]


async def test_an_exception_aborts_and_the_events_are_processed_again(
    broker_url: str, unique: str
) -> None:
    inp, out, group = f"eos-in-{unique}", f"eos-out-{unique}", f"eos-g-{unique}"
    async with App(f"fill-{unique}", broker=broker_url) as filler:
        await _fill(filler, inp, 4)
        await filler.topic(out, partitions=1).declare()

    class Boom(Exception):
        pass

    app = App(group, broker=broker_url, processing_guarantee="exactly_once")
    with pytest.raises(Boom):
        async with app:
            source, sink = _topics(app, inp, out)
            async with asyncio.timeout(_TIMEOUT):
                async for event in source:
                    await (await sink.send(key=event.key, value=b"d-" + event.value))
                    if event.value == b"2":
                        raise Boom  # 0 and 1 committed; 2's send is aborted
    again = App(group, broker=broker_url, processing_guarantee="exactly_once")
    async with again:
        source, sink = _topics(again, inp, out)
        firsts: list[bytes] = []
        async with asyncio.timeout(_TIMEOUT):
            async for event in source:
                firsts.append(event.value)
                await (await sink.send(key=event.key, value=b"d-" + event.value))
                if event.value == b"3":
                    again.request_stop()
    assert firsts == [b"2", b"3"]  # the aborted event is seen again, the committed ones not
    sentinel = await _write_sentinel(broker_url, out)
    committed = await _read_all(broker_url, out, sentinel, committed=True)
    assert committed == [b"d-0", b"d-1", b"d-2", b"d-3"]
    # The aborted record is in the log: a read_uncommitted reader sees the duplicate.
    assert (await _read_all(broker_url, out, sentinel, committed=False)).count(b"d-2") == 2


async def test_take_batches_commit_per_batch(broker_url: str, unique: str) -> None:
    inp, out, group = f"eos-in-{unique}", f"eos-out-{unique}", f"eos-g-{unique}"
    async with App(f"fill-{unique}", broker=broker_url) as filler:
        await _fill(filler, inp, 10)
        await filler.topic(out, partitions=1).declare()
    app = App(group, broker=broker_url, processing_guarantee="exactly_once")
    async with app:
        source, sink = _topics(app, inp, out)
        done = 0
        async with asyncio.timeout(_TIMEOUT):
            async for batch in source.take(4, within=5):
                consumer = app.conductor.consumer
                assert consumer is not None
                assert (await consumer.committed(TP(inp, 0)) or 0) <= done
                for event in batch:
                    sink.send_soon(key=event.key, value=b"d-" + event.value)
                done += len(batch)
                if done == 10:
                    app.request_stop()
    await _committed_reaches(broker_url, group, TP(inp, 0), 10)
    sentinel = await _write_sentinel(broker_url, out)
    got = await _read_all(broker_url, out, sentinel, committed=True)
    assert got == [b"d-%d" % i for i in range(10)]


async def test_a_newer_producer_with_the_same_transactional_id_fences_the_older(
    broker_url: str, unique: str
) -> None:
    name = f"eos-fence-{unique}"
    async with App(f"fence-{unique}", broker=broker_url) as app:
        await app.topic(name, partitions=1).declare()
        settings = ProducerSettings(transactional_id=f"tid-{unique}")
        old = app.transport.producer(settings)
        await old.start()
        try:
            path = old.send_path()
            await path.delivery(
                await path.send(name, b"zombie", None, 0, None, None), name, 0, None
            )
            new = app.transport.producer(settings)
            await new.start()  # aborts the older one's open transaction
            try:
                with pytest.raises(TransactionFencedError, match="newer producer"):
                    await old.commit_transaction({}, f"g-{unique}")
            finally:
                await new.stop()
        finally:
            await asyncio.gather(old.stop(), return_exceptions=True)
    sentinel = await _write_sentinel(broker_url, name)
    assert await _read_all(broker_url, name, sentinel, committed=True) == []


def test_the_default_transactional_id_is_unique_per_instance_and_an_explicit_one_is_kept() -> None:
    # Two replicas of one service, no client id: their producers must not fence each other.
    first = App("svc", processing_guarantee="exactly_once").conf.producer_transactional_id
    second = App("svc", processing_guarantee="exactly_once").conf.producer_transactional_id
    assert first is not None and second is not None and first != second
    assert first.startswith("svc-svc-") and second.startswith("svc-svc-")
    named = App("svc", client_id="pod-1", processing_guarantee="exactly_once").conf
    assert named.producer_transactional_id is not None
    assert named.producer_transactional_id.startswith("svc-pod-1-")
    stable = App(
        "svc", processing_guarantee="exactly_once", producer_transactional_id="svc-pod-1"
    ).conf
    assert stable.producer_transactional_id == "svc-pod-1"
    assert App("svc").conf.producer_transactional_id is None
