"""What the exactly-once tests check on Kafka: the derived records a read_committed reader
finds, and a group's committed offsets reaching the input's end."""

from __future__ import annotations

import asyncio
import collections
import uuid

from gen_topics import TP, App
from gen_topics._transport.base import ConsumerSettings

#: How long a check may take before the test fails (a loaded machine is slow, never stuck).
TIMEOUT = 120.0


async def read_committed(url: str, topic: str, partitions: int) -> collections.Counter[bytes]:
    """Every value a read_committed reader finds in ``topic`` before a sentinel sent now to
    each of its partitions (how often each value was found)."""
    sentinel = b"end-" + uuid.uuid4().hex.encode()
    async with App(f"w-{uuid.uuid4().hex[:8]}", broker=url) as app:
        out = app.topic(topic, value_serializer="raw")
        for p in range(partitions):
            await (await out.send(value=sentinel, partition=p))
    found: collections.Counter[bytes] = collections.Counter()
    ended = 0
    async with App(
        f"check-{uuid.uuid4().hex[:8]}", broker=url, consumer_isolation_level="read_committed"
    ) as app:
        async with asyncio.timeout(TIMEOUT):
            async for event in app.topic(topic, value_serializer="raw"):
                if event.value == sentinel:
                    ended += 1
                    if ended == partitions:
                        break
                else:
                    found[event.value or b""] += 1
    return found


async def committed_to_end(
    url: str, group: str, source: str, partitions: int, records: int | None = None
) -> None:
    """Wait until ``group`` committed every partition of ``source`` up to its end (which
    holds ``records`` records, when given)."""
    async with App(f"probe-{uuid.uuid4().hex[:8]}", broker=url) as app:
        consumer = app.transport.consumer(
            ConsumerSettings(group_id=group, isolation_level="read_committed")
        )
        await consumer.start()
        try:
            tps = [TP(source, p) for p in range(partitions)]
            ends = await consumer.end_offsets(tps)
            if records is not None:
                assert sum(ends.values()) == records
            while not all([await consumer.committed(tp) == ends[tp] for tp in tps]):
                await asyncio.sleep(0.1)
        finally:
            await consumer.stop()
