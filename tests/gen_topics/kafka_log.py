"""Reading a topic back from a real broker, to check what the log holds (not a test module)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def read_records(
    bootstrap: str, topic: str, partitions: int, *, timeout: float = 120.0
) -> dict[int, list[ConsumerRecord[bytes, bytes]]]:
    """Every record of ``topic``, per partition in offset order, up to the end offsets at the
    time of the call (a plain consumer, no group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: dict[int, list[ConsumerRecord[bytes, bytes]]] = {p: [] for p in range(partitions)}
        last = {tp: -1 for tp in tps}
        async with asyncio.timeout(timeout):
            while any(last[tp] + 1 < ends[tp] for tp in tps):
                for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        if record.offset < ends[tp]:
                            found[tp.partition].append(record)
                        last[tp] = record.offset
        return found
    finally:
        await consumer.stop()


async def read_keys(
    bootstrap: str, topic: str, partitions: int
) -> dict[tuple[int, int], bytes | None]:
    """Every record of ``topic`` as ``{(partition, offset): key}``."""
    records = await read_records(bootstrap, topic, partitions)
    return {(p, r.offset): r.key for p, rs in records.items() for r in rs}
