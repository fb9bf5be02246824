#!/usr/bin/env python3
"""Consuming throughput of gen-topics against aiokafka underneath it, in one run.

    python benchmarks/bench_consume.py [--messages N] [--rounds R] [--partitions P]

N records (default 200,000) are produced once to one topic of P partitions; then every
round each side reads all of them with a fresh consumer group, on the same broker:

- raw 100-byte values: gen-topics ``async for event in topic`` (raw codecs, every event acked
  by reading the next, commits every ``commit_interval``) vs aiokafka's
  ``async for msg in consumer``, and gen-topics ``topic.take(500, within=1)`` vs an aiokafka
  ``getmany`` loop;
- generated Avro keys and values (``InventoryStockTopic``): gen-topics ``async for`` (typed
  events) vs aiokafka ``async for`` plus fastavro's ``schemaless_reader`` on key and value.

Each run is timed from its first record to its last (group join excluded). Rounds are paired
and the order flips every round; it prints the median of the paired throughput ratios
(gen-topics / peer), best/best, and the median CPU ratio (peer CPU time per record / ours).
Targets (issue 15): ``async for`` >= 1.0x aiokafka ``async for``; ``take(500)`` >= 0.9x the
``getmany`` loop. The broker comes from ``KAFKA_BOOTSTRAP_SERVERS`` or is started with the
project's scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import io
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fastavro
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gen_topics import App
from generated.avro.com.acme.inventory import Location, StockKey, StockLevel
from generated.inventory_stock import (
    KEY_CODEC,
    KEY_SCHEMA,
    VALUE_CODEC,
    VALUE_SCHEMA,
    InventoryStockTopic,
)

VALUE = bytes(range(100))


class Run(NamedTuple):
    """One timed run: records/s (first to last record), this process's CPU us per record."""

    rate: float
    cpu_us: float


class _Clock:
    """Started at the first record, read at the last."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def run(self, n: int) -> Run:
        wall = time.perf_counter() - self.wall
        return Run((n - 1) / wall, (time.process_time() - self.cpu) / (n - 1) * 1e6)


def _group() -> str:
    return f"bench-consume-{uuid.uuid4().hex[:8]}"


def _aiokafka(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=_group(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def aiokafka_async_for(bootstrap: str, topic: str, n: int, avro: bool = False) -> Run:
    consumer = _aiokafka(bootstrap, topic)
    key_schema = fastavro.parse_schema(json.loads(KEY_SCHEMA))
    value_schema = fastavro.parse_schema(json.loads(VALUE_SCHEMA))
    reader = fastavro.schemaless_reader
    await consumer.start()
    clock = _Clock()
    count = 0
    try:
        gc.collect()
        async for msg in consumer:
            if avro:
                reader(io.BytesIO(msg.key), key_schema, None)
                reader(io.BytesIO(msg.value), value_schema, None)
            else:
                msg.value  # noqa: B018 - touch it as a reader would
            if count == 0:
                clock.start()
            count += 1
            if count == n:
                return clock.run(n)
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


async def aiokafka_getmany(bootstrap: str, topic: str, n: int) -> Run:
    consumer = _aiokafka(bootstrap, topic)
    await consumer.start()
    clock = _Clock()
    count = 0
    try:
        gc.collect()
        while count < n:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                if count == 0:
                    clock.start()
                for msg in records:
                    msg.value  # noqa: B018 - touch it as a reader would
                count += len(records)
        return clock.run(count)
    finally:
        await consumer.stop()


async def ours_async_for(bootstrap: str, topic: str, n: int, avro: bool = False) -> Run:
    async with App(_group(), broker=f"kafka://{bootstrap}") as app:
        t: Any = (
            InventoryStockTopic(app, topics=topic)
            if avro
            else app.topic(topic, key_serializer="raw", value_serializer="raw")
        )
        clock = _Clock()
        count = 0
        gc.collect()
        async for event in t:
            event.value  # noqa: B018
            if count == 0:
                clock.start()
            count += 1
            if count == n:
                run = clock.run(n)
                break
    return run


async def ours_take(bootstrap: str, topic: str, n: int) -> Run:
    async with App(_group(), broker=f"kafka://{bootstrap}") as app:
        t = app.topic(topic, key_serializer="raw", value_serializer="raw")
        clock = _Clock()
        count = 0
        gc.collect()
        async for batch in t.take(500, within=1.0):
            if count == 0:
                clock.start()
            for event in batch:
                event.value  # noqa: B018
            count += len(batch)
            if count >= n:
                run = clock.run(count)
                break
    return run


async def _paired(
    rounds: int, peer: Callable[[], Awaitable[Run]], ours: Callable[[], Awaitable[Run]]
) -> tuple[list[Run], list[Run]]:
    """Interleaved runs, the order flipping every round, so drift hits both alike."""
    peer_runs: list[Run] = []
    our_runs: list[Run] = []
    for i in range(rounds):
        if i % 2:
            our_runs.append(await ours())
            peer_runs.append(await peer())
        else:
            peer_runs.append(await peer())
            our_runs.append(await ours())
    return our_runs, peer_runs


def _report(label: str, ours: list[Run], peer: list[Run], peer_name: str, target: float) -> None:
    ratios = sorted(o.rate / p.rate for o, p in zip(ours, peer, strict=True))
    cpu = sorted(p.cpu_us / o.cpu_us for o, p in zip(ours, peer, strict=True))
    our_rates, peer_rates = [r.rate for r in ours], [r.rate for r in peer]
    print(
        f"{label}\n"
        f"    gen-topics {statistics.median(our_rates):>9,.0f} rec/s (best {max(our_rates):,.0f},"
        f" {statistics.median(r.cpu_us for r in ours):.2f} us CPU)   {peer_name} "
        f"{statistics.median(peer_rates):>9,.0f} rec/s (best {max(peer_rates):,.0f},"
        f" {statistics.median(r.cpu_us for r in peer):.2f} us CPU)\n"
        f"    ratio median {statistics.median(ratios):.2f}"
        f" [min {ratios[0]:.2f}, max {ratios[-1]:.2f}]"
        f"  best/best {max(our_rates) / max(peer_rates):.2f}"
        f"  CPU ratio median {statistics.median(cpu):.2f}  (target >= {target:.2f})",
        flush=True,
    )


async def _produce(bootstrap: str, topic: str, n: int, avro: bool) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024, acks=1
    )
    await producer.start()
    try:
        pending = []
        for i in range(n):
            if avro:
                key = KEY_CODEC.encode(StockKey(sku=f"SKU-{i % 1000}", warehouse="AMS"))
                value = VALUE_CODEC.encode(
                    StockLevel(
                        sku=f"SKU-{i % 1000}",
                        warehouse="AMS",
                        on_hand=i,
                        updated_at=dt.datetime(2024, 5, 1, 12, 0, 0),
                        location=Location(aisle="B", shelf=3),
                    )
                )
            else:
                key, value = str(i).encode(), VALUE
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 10000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _bootstrap() -> tuple[str, Any]:
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env:
        return env, None
    from scripts.stack import ServiceStack

    stack = ServiceStack(use_env=False)
    return stack.kafka_bootstrap(), stack


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--skip-avro", action="store_true")
    parser.add_argument(
        "--only",
        choices=("async-for", "take", "avro"),
        help="run one comparison only",
    )
    args = parser.parse_args()
    n, rounds = args.messages, args.rounds
    bootstrap, stack = _bootstrap()
    try:
        raw_topic, avro_topic = (
            f"bench-raw-{uuid.uuid4().hex[:8]}",
            f"bench-avro-{uuid.uuid4().hex[:8]}",
        )
        async with App("bench-admin", broker=f"kafka://{bootstrap}") as app:
            for name in (raw_topic, avro_topic):
                await app.topic(name, partitions=args.partitions).declare()
        began = time.perf_counter()
        await _produce(bootstrap, raw_topic, n, avro=False)
        avro = not args.skip_avro and args.only in (None, "avro")
        if avro:
            await _produce(bootstrap, avro_topic, n, avro=True)
        print(
            f"{n:,} records per topic, {args.partitions} partitions, produced in "
            f"{time.perf_counter() - began:.1f} s; {rounds} paired rounds",
            flush=True,
        )
        if args.only in (None, "async-for"):
            ours, peer = await _paired(
                rounds,
                lambda: aiokafka_async_for(bootstrap, raw_topic, n),
                lambda: ours_async_for(bootstrap, raw_topic, n),
            )
            _report(
                "raw: async for event in topic  vs  aiokafka async for",
                ours,
                peer,
                "aiokafka",
                1.0,
            )
        if args.only in (None, "take"):
            ours, peer = await _paired(
                rounds,
                lambda: aiokafka_getmany(bootstrap, raw_topic, n),
                lambda: ours_take(bootstrap, raw_topic, n),
            )
            _report("raw: topic.take(500)  vs  aiokafka getmany loop", ours, peer, "getmany", 0.9)
        if avro:
            ours, peer = await _paired(
                rounds,
                lambda: aiokafka_async_for(bootstrap, avro_topic, n, avro=True),
                lambda: ours_async_for(bootstrap, avro_topic, n, avro=True),
            )
            _report(
                "avro: generated InventoryStockTopic async for  vs  aiokafka async for + fastavro",
                ours,
                peer,
                "aiokafka+fastavro",
                1.0,
            )
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
