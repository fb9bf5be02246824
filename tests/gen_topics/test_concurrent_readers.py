"""One consumer per App, however many readers start at the same moment (real Kafka)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gen_topics import TP, App
from gen_topics._transport.base import ConsumerSettings, ConsumerTransport

TOPICS = 3
PARTITIONS = 2
PER_TOPIC = 10
ROUNDS = 20


async def _group_members(admin: AIOKafkaAdminClient, group: str) -> int:
    [response] = await admin.describe_consumer_groups([group])
    [described] = response.to_object()["groups"]
    return len(described["members"])


async def _one_round(url: str, group: str, names: list[str], admin: AIOKafkaAdminClient) -> None:
    # No periodic commit: what is committed is what stop() commits.
    app = App(group, broker=url, commit_interval=600)
    created: list[ConsumerTransport] = []
    build = app.transport.consumer

    def counting(settings: ConsumerSettings) -> ConsumerTransport:
        consumer = build(settings)
        created.append(consumer)
        return consumer

    app.transport.consumer = counting  # type: ignore[method-assign]
    processed: dict[TP, int] = {}
    counts = dict.fromkeys(names, 0)
    all_read = asyncio.Event()

    async def read(name: str) -> None:
        async for event in app.topic(name, value_serializer="raw"):
            tp = event.message.tp
            processed[tp] = max(processed.get(tp, -1), event.message.offset)
            counts[name] += 1
            if all(c >= PER_TOPIC for c in counts.values()):
                all_read.set()

    async with app:
        # Every reader's first `async for` starts in the same event-loop step.
        readers = [asyncio.create_task(read(name)) for name in names]
        async with asyncio.timeout(120):
            await all_read.wait()
        assert await _group_members(admin, group) == 1
    # Stopping the app ended every reader's iteration.
    async with asyncio.timeout(30):
        await asyncio.gather(*readers)
    assert len(created) == 1, f"{len(created)} consumers"
    committed = await admin.list_consumer_group_offsets(group)
    got = {TP(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()}
    assert got == {tp: last + 1 for tp, last in processed.items()}
    expected = {TP(n, p): PER_TOPIC // PARTITIONS for n in names for p in range(PARTITIONS)}
    assert got == expected


@pytest.mark.kafka
@pytest.mark.timeout(600)
async def test_three_readers_started_at_once_share_one_consumer_and_commit_everything(
    kafka_bootstrap: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    names = [f"conc-{unique}-{i}" for i in range(TOPICS)]
    async with App(f"conc-producer-{unique}", broker=url) as producer:
        for name in names:
            topic = producer.topic(name, partitions=PARTITIONS, value_serializer="raw")
            await topic.declare()
            for i in range(PER_TOPIC):
                await topic.send(value=str(i).encode(), partition=i % PARTITIONS)
        await producer.flush()

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    caplog.set_level(logging.WARNING)
    try:
        for round_no in range(ROUNDS):
            try:
                await _one_round(url, f"conc-{unique}-{round_no}", names, admin)
            except AssertionError as exc:
                raise AssertionError(f"round {round_no}: {exc}") from exc
        gc.collect()
    finally:
        await admin.close()
    problems = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
        or "Unclosed" in r.getMessage()
        or "never retrieved" in r.getMessage()
    ]
    assert problems == []


async def test_a_failed_start_reaches_every_reader_and_leaves_no_consumer_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A free port: nothing listens there, so connecting is refused at once.
    from scripts.process import free_port

    app = App("no-broker", broker=f"kafka://127.0.0.1:{free_port()}")
    created: list[ConsumerTransport] = []
    build = app.transport.consumer

    def counting(settings: ConsumerSettings) -> ConsumerTransport:
        consumer = build(settings)
        created.append(consumer)
        return consumer

    app.transport.consumer = counting  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING)
    readers = [aiter(app.topic(f"t{i}")) for i in range(3)]
    async with asyncio.timeout(60):
        results = await asyncio.gather(*(anext(r) for r in readers), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results), results
    assert len({type(r) for r in results}) == 1
    assert len(created) == 1
    await app.stop()
    gc.collect()
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]
