"""Rebalancing: a member joining takes partitions over without losing or re-reading work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gen_topics import TP, App, CommitFailed, Event, Topic
from gen_topics._messages import Message
from gen_topics._offsets import OffsetTracker

PARTITIONS = 4
PER_PARTITION = 25
TOTAL = PARTITIONS * PER_PARTITION


async def _produce(broker_url: str, name: str) -> None:
    async with App("producer", broker=broker_url) as app:
        topic = app.topic(name, partitions=PARTITIONS, value_serializer="raw")
        await topic.declare()
        for i in range(TOTAL):
            await topic.send(value=str(i).encode(), partition=i % PARTITIONS)
        await app.flush()


async def _collect(
    topic: Topic[Any, Any], seen: list[Event[Any, Any]], everything: set[bytes]
) -> None:
    """Read and ack every event until all records were seen by someone."""
    async for event in topic:
        seen.append(event)
        event.ack()
        everything.add(event.value)
        if everything >= _all():
            return


def _all() -> set[bytes]:
    return {str(i).encode() for i in range(TOTAL)}


@pytest.mark.timeout(120)
async def test_joining_member_gets_no_processed_record_and_none_is_lost(
    broker_url: str, unique: str
) -> None:
    name, group = f"rebal-{unique}", f"rebal-group-{unique}"
    await _produce(broker_url, name)
    # No periodic commit: only the commit on revocation protects the first member's work.
    first = App(group, broker=broker_url, commit_interval=3600)
    second = App(group, broker=broker_url, commit_interval=3600)
    async with first, second:
        processed: list[Event[Any, Any]] = []
        it = first.topic(name, value_serializer="raw").__aiter__()
        async with asyncio.timeout(30):
            while len(processed) < 30:
                event = await it.__anext__()
                event.ack()
                processed.append(event)
        before_join = {e.value for e in processed}

        everything: set[bytes] = set(before_join)
        seen_second: list[Event[Any, Any]] = []
        joiner = asyncio.create_task(
            _collect(second.topic(name, value_serializer="raw"), seen_second, everything)
        )
        # The first member keeps working once the second one has received something,
        # i.e. once the group has rebalanced.
        async with asyncio.timeout(60):
            while not seen_second:
                await asyncio.sleep(0.05)
        seen_first: list[Event[Any, Any]] = []
        staying = asyncio.create_task(_collect(it, seen_first, everything))
        async with asyncio.timeout(60):
            while everything < _all():
                await asyncio.sleep(0.05)
        for task in (joiner, staying):
            task.cancel()
        await asyncio.gather(joiner, staying, return_exceptions=True)

    second_values = {e.value for e in seen_second}
    assert second_values, "the joining member got no partition"
    # No loss: every record was processed by one member or the other.
    assert before_join | {e.value for e in seen_first} | second_values == _all()
    # What the first member processed before the rebalance was committed on revocation.
    assert not (before_join & second_values), sorted(before_join & second_values)
    # The second member owns its partitions alone once it has them.
    second_parts = {e.message.partition for e in seen_second}
    assert not any(e.message.partition in second_parts for e in seen_first)


async def test_revocation_drops_queued_events_and_ignores_late_acks(memory_url: str) -> None:
    async with App("drop", broker=memory_url, commit_interval=3600) as app:
        sender = app.topic("d", partitions=2, value_serializer="raw")
        await sender.declare()
        for i in range(6):
            await sender.send(value=str(i).encode(), partition=i % 2)
        it = app.topic("d", value_serializer="raw").__aiter__()
        async with asyncio.timeout(5):
            first = await it.__anext__()
            first.ack()
            in_hand = await it.__anext__()  # being processed while the partition goes
            while it.buffered < 4:
                await asyncio.sleep(0.01)
        gone = first.message.tp
        await app.conductor.on_partitions_revoked({gone})
        # Processed work on the revoked partition was committed; the rest is dropped.
        assert await app.conductor._consumer.committed(gone) == first.message.offset + 1  # type: ignore[union-attr]
        kept = {str(i).encode() for i in range(6) if i % 2 != gone.partition}
        assert it.buffered == len(kept)
        async with asyncio.timeout(5):
            queued = [await it.__anext__() for _ in range(len(kept))]
        assert {e.value for e in queued} == kept
        # A late ack of a record delivered before the revocation counts for nothing.
        await app.conductor.on_partitions_assigned({gone})
        in_hand.ack()
        assert gone not in app.conductor.tracker.committable()


def test_tracker_ignores_an_ack_of_an_earlier_delivery_of_the_same_offset() -> None:
    tracker = OffsetTracker()
    tp = TP("t", 0)
    earlier = tracker.delivered(tp, [Message("t", 0, 5, None, None, b"x")], 1)
    tracker.forget({tp})  # revoked, then assigned again
    again = tracker.delivered(tp, [Message("t", 0, 5, None, None, b"x")], 1)
    assert earlier is not None and again is not None
    earlier.ack(0, 0)
    assert tracker.committable() == {}
    assert tracker.pending(tp) == 1
    again.ack(0, 0)
    assert tracker.committable() == {tp: 6}
    assert tracker.committable({TP("t", 1)}) == {}


def test_tracker_commits_up_to_the_first_gap_of_out_of_order_acks() -> None:
    tracker = OffsetTracker()
    tp = TP("t", 0)
    messages = [Message("t", 0, offset, None, None, b"x") for offset in (10, 11, 13, 14)]
    chunk = tracker.delivered(tp, messages, 2)  # two readers
    assert chunk is not None
    assert chunk.ack(0, 1) and not chunk.ack(0, 1)  # reader 0 acks out of order
    assert tracker.committable() == {}
    chunk.ack(0, 0)
    assert chunk.is_acked(0, 1) and not chunk.is_acked(1, 0)
    chunk.ack_range(1, 0, 3)  # reader 1 acks a batch
    assert tracker.committable() == {tp: 13}  # reader 0 still holds offset 13
    chunk.ack(0, 3)
    assert tracker.committable() == {tp: 13}
    chunk.ack(0, 2)
    chunk.ack(1, 3)
    assert tracker.committable() == {tp: 15}
    tracker.mark_committed({tp: 15})
    assert tracker.committable() == {}
    tracker.moved(tp, 3)  # a seek back: the next commit stores the new position
    assert tracker.committable() == {tp: 3}


async def test_a_commit_refused_during_a_rebalance_does_not_stop_consuming(
    memory_url: str,
) -> None:
    # The refusal itself needs a rebalance racing a commit on Kafka; here the memory consumer
    # refuses the first periodic commit the way the Kafka transport reports it.
    async with App("refused", broker=memory_url, commit_interval=0.05) as app:
        sender = app.topic("r", value_serializer="raw")
        await sender.send(value=b"0")
        it = app.topic("r", value_serializer="raw").__aiter__()
        async with asyncio.timeout(5):
            await it.__anext__()
        consumer = app.conductor._consumer
        assert consumer is not None
        real_commit = consumer.commit
        refusals: list[dict[TP, int]] = []

        async def refuse_once(offsets: Any) -> None:
            if not refusals:
                refusals.append(dict(offsets))
                raise CommitFailed("rebalancing", offsets=dict(offsets))
            await real_commit(offsets)

        consumer.commit = refuse_once  # type: ignore[method-assign]
        await sender.send(value=b"1")
        async with asyncio.timeout(5):
            second = await it.__anext__()  # acks the first
            assert second.value == b"1"
            while await consumer.committed(TP("r", 0)) != 1:
                await asyncio.sleep(0.02)
        assert refusals == [{TP("r", 0): 1}]
