"""Exactly-once on real Kafka across a rebalance: a second instance of a read-process-write
service joins the group mid-stream; read_committed readers find each input's derived record
exactly once, and the group's committed offsets reach the input's end."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from gen_topics import TP, App
from tests.gen_topics.eos_checks import committed_to_end, read_committed

RECORDS = 6_000
PARTITIONS = 4
JOIN_AFTER = 1_000


async def _fill(url: str, source: str, sink: str) -> None:
    async with App(f"fill-{uuid.uuid4().hex[:8]}", broker=url) as app:
        inp = app.topic(source, partitions=PARTITIONS, key_serializer="raw", value_serializer="raw")
        await inp.declare()
        await app.topic(sink, partitions=PARTITIONS).declare()
        for i in range(RECORDS):
            inp.send_soon(key=str(i).encode(), value=str(i).encode())
        await app.flush()


class _Instance:
    """One instance of the service: reads ``source``, sends one derived record per event."""

    def __init__(self, url: str, group: str, name: str, source: str, sink: str) -> None:
        self.name = name
        # No client id: the default transactional id is unique per instance all the same.
        self.app = App(
            group,
            broker=url,
            processing_guarantee="exactly_once",
            transaction_commit_interval=0.1,
        )
        self.source = self.app.topic(source, key_serializer="raw", value_serializer="raw")
        self.sink = self.app.topic(sink, key_serializer="raw", value_serializer="raw")
        self.processed = 0
        self.partitions: set[int] = set()
        self.started = asyncio.Event()

    async def run(self, slow_until: asyncio.Event | None = None) -> None:
        """Process until the app is asked to stop; while ``slow_until`` is not set, slowly
        (so the stream is not over before the other instance has joined)."""
        async with self.app:
            async for event in self.source:
                await self.sink.send(key=event.key, value=b"d-" + (event.value or b""))
                self.processed += 1
                self.partitions.add(event.message.partition)
                self.started.set()
                if slow_until is not None and not slow_until.is_set():
                    await asyncio.sleep(0.005)


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_exactly_once_across_a_member_joining_mid_stream(
    kafka_bootstrap: str, unique: str
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    source, sink, group = f"rbin-{unique}", f"rbout-{unique}", f"rbg-{unique}"
    await _fill(url, source, sink)
    first = _Instance(url, group, "first", source, sink)
    second = _Instance(url, group, "second", source, sink)
    async with asyncio.timeout(150):
        running = [asyncio.create_task(first.run(slow_until=second.started))]
        try:
            while first.processed < JOIN_AFTER:
                await asyncio.wait(running, timeout=0.05)
                assert not running[0].done(), "the first instance ended early"
            joined_at = first.processed
            running.append(asyncio.create_task(second.run()))
            await second.started.wait()
            after_join = first.processed
            await committed_to_end(url, group, source, PARTITIONS, RECORDS)
        finally:
            first.app.request_stop()
            second.app.request_stop()
            await asyncio.gather(*running)
        found = await read_committed(url, sink, PARTITIONS)

    assert joined_at < RECORDS and second.processed > 0, "the second instance got nothing"
    # The first instance still worked after the rebalance (on the partitions it kept).
    assert first.processed > after_join
    assert first.partitions and second.partitions
    expected = {b"d-%d" % i for i in range(RECORDS)}
    missing = expected - set(found)
    duplicated = {v: n for v, n in found.items() if n > 1}
    assert not missing and not duplicated and set(found) == expected, (
        f"{len(missing)} missing, {len(duplicated)} duplicated: {sorted(duplicated)[:10]}"
    )


async def test_an_event_taken_while_a_revocation_commits_is_not_handed_out(
    memory_url: str,
) -> None:
    """The event a reader took from its queue while a revocation's commit ran belongs to the
    new owner once its partition is gone: handing it out would process it twice."""
    app = App(
        "revoke-eos",
        broker=memory_url,
        processing_guarantee="exactly_once",
        transaction_commit_interval=3600,  # after the first commit, none falls due by itself
    )
    async with app:
        sender = app.topic("r", partitions=2, value_serializer="raw")
        await sender.declare()
        for i in range(6):
            await sender.send(value=str(i).encode(), partition=i % 2)
        it = app.topic("r", value_serializer="raw").__aiter__()
        async with asyncio.timeout(10):
            await it.__anext__()
            await it.__anext__()  # the first commit (its interval counts from it)
            while it.buffered < 4:
                await asyncio.sleep(0.01)
            everything = {TP("r", 0), TP("r", 1)}
            # The revocation's commit waits for the event in hand; the reader then takes the
            # next one from its queue and waits for that commit before handing it out.
            revoking = asyncio.create_task(app.conductor.on_partitions_revoked(everything))
            nxt = asyncio.create_task(it.__anext__())
            await revoking
            await app.conductor.on_partitions_assigned(everything)
            await sender.send(value=b"after", partition=0)
            event = await nxt
        assert event.value == b"after", event.value


async def test_an_event_waiting_for_a_commit_the_revocation_joins_is_not_handed_out(
    memory_url: str,
) -> None:
    """A commit under way (the interval's) when the revocation starts: the revocation joins
    it. The event a reader took meanwhile, waiting for that commit, must not be handed out when
    it ends (before the revocation could drop its partition): the new owner processes it."""
    app = App(
        "revoke-join-eos",
        broker=memory_url,
        processing_guarantee="exactly_once",
        transaction_commit_interval=3600,  # after the first commit, none falls due by itself
    )
    async with app:
        sender = app.topic("r", partitions=2, value_serializer="raw")
        await sender.declare()
        for i in range(6):
            await sender.send(value=str(i).encode(), partition=i % 2)
        it = app.topic("r", value_serializer="raw").__aiter__()
        async with asyncio.timeout(10):
            await it.__anext__()
            await it.__anext__()  # the first commit (its interval counts from it)
            while it.buffered < 4:
                await asyncio.sleep(0.01)
            txns = app.transactions
            producer = app.producer_or_none
            assert txns is not None and producer is not None
            # The commit under way stays at the broker until the revocation has joined it.
            gate = asyncio.Event()
            commit = producer.commit_transaction

            async def slow_commit(*args: Any, **kwargs: Any) -> None:
                await gate.wait()
                await commit(*args, **kwargs)

            producer.commit_transaction = slow_commit  # type: ignore[method-assign]
            committing = asyncio.create_task(txns.commit())  # waits for the event in hand
            nxt = asyncio.create_task(it.__anext__())  # leaves it, takes the next, waits
            everything = {TP("r", 0), TP("r", 1)}
            try:
                while it._dropped_meanwhile is None:
                    await asyncio.sleep(0.01)
                revoking = asyncio.create_task(app.conductor.on_partitions_revoked(everything))
                # It drops their queued records at once, and so tells the waiting reader
                # (before the fix it waited for the commit first, and the reader got the event
                # when the commit ended).
                while not everything <= (it._dropped_meanwhile or set()):
                    await asyncio.sleep(0.01)
            finally:
                gate.set()  # also on failure: the app's stop waits for this commit
            await committing
            await revoking
            await app.conductor.on_partitions_assigned(everything)
            await sender.send(value=b"after", partition=0)
            event = await nxt
        assert event.value == b"after", event.value
