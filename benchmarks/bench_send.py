#!/usr/bin/env python3
"""Throughput of ``Topic.send`` against the client underneath it, in one run.

    python benchmarks/bench_send.py [--messages N] [--rounds R]

Kafka: ``Topic.send`` (raw codec, 100-byte value) vs aiokafka's ``AIOKafkaProducer.send`` with
the same bytes, settings and broker. Memory: ``Topic.send`` vs the memory broker's own append
in one coroutine (the least a memory send can cost). Prints messages/s, CPU time per message and the
ratios Topic / peer (target: >= 0.95, issue 12). With generated Avro keys and values
(``InventoryStockTopic``, typed objects) vs aiokafka sending what fastavro's ``schemaless_writer``
made of the same data as dicts. Then the cost of sensors: Topic.send with a no-op sensor
and with OpenTelemetry tracing (in-memory exporter), each paired against Topic.send with none.
The broker comes from ``KAFKA_BOOTSTRAP_SERVERS`` or is
started with the project's scripts (scripts/stack.py).
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
from aiokafka import AIOKafkaProducer

from gen_topics import App
from gen_topics._messages import RecordMetadata
from gen_topics._transport.memory import MemoryTransport, Resolved
from gen_topics._transport.memory_broker import MemoryBroker
from gen_topics.sensors import Sensor
from generated.avro.com.acme.inventory import Location, StockKey, StockLevel
from generated.inventory_stock import KEY_SCHEMA, VALUE_SCHEMA, InventoryStockTopic

VALUE = bytes(range(100))
TARGET = 0.95
# One set of producer settings for both sides, passed explicitly (not left to each client's
# defaults), so the comparison stays like with like if a default changes. acks=1: the
# leader's ack, the commonest throughput setting; the rest are both clients' defaults.
PRODUCER = {
    "acks": 1,
    "linger_ms": 0,
    "max_batch_size": 16384,
    "compression_type": None,
    "enable_idempotence": False,
    "request_timeout_ms": 40000,
}
APP_PRODUCER = {f"producer_{name}": value for name, value in PRODUCER.items()}

UPDATED = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
AVRO_KEY = StockKey(sku="SKU-123", warehouse="AMS")
AVRO_VALUE = StockLevel(
    sku="SKU-123",
    warehouse="AMS",
    on_hand=42,
    updated_at=UPDATED,
    location=Location(aisle="B", shelf=3),
)
DICT_KEY = {"sku": "SKU-123", "warehouse": "AMS"}
DICT_VALUE = {
    "sku": "SKU-123",
    "warehouse": "AMS",
    "on_hand": 42,
    "updated_at": UPDATED,
    "location": {"aisle": "B", "shelf": 3},
}


class Run(NamedTuple):
    """One timed run: wall-clock messages/s, and this process's CPU time per message."""

    rate: float
    cpu_us: float


async def _timed(n: int, send: Callable[[], Awaitable[Awaitable[Any]]]) -> Run:
    """``n`` sends, including waiting for every delivery."""
    gc.collect()  # each run starts without the previous run's garbage
    started, cpu_started = time.perf_counter(), time.process_time()
    pending = [await send() for _ in range(n)]
    for delivery in pending:
        await delivery
    cpu = time.process_time() - cpu_started
    return Run(n / (time.perf_counter() - started), cpu / n * 1e6)


async def _paired(
    rounds: int, peer: Callable[[], Awaitable[Run]], ours: Callable[[], Awaitable[Run]]
) -> tuple[list[Run], list[Run]]:
    """``rounds`` runs of each, interleaved so drift on a shared machine hits both alike; the
    order flips every round because the second run of a pair is measurably slower (the
    broker is still writing the first one's records)."""
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


async def kafka_aiokafka(bootstrap: str, topic: str, n: int) -> Run:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER)
    await producer.start()
    try:
        await (await producer.send(topic, VALUE))  # warm metadata and connection
        return await _timed(n, lambda: producer.send(topic, VALUE))
    finally:
        await producer.stop()


async def kafka_aiokafka_avro(bootstrap: str, topic: str, n: int) -> Run:
    key_schema = fastavro.parse_schema(json.loads(KEY_SCHEMA))
    value_schema = fastavro.parse_schema(json.loads(VALUE_SCHEMA))
    writer = fastavro.schemaless_writer

    def encode(schema: Any, record: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        writer(out, schema, record)
        return out.getvalue()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER)
    await producer.start()

    def send() -> Awaitable[Awaitable[Any]]:
        key = encode(key_schema, DICT_KEY)
        return producer.send(topic, encode(value_schema, DICT_VALUE), key=key)

    try:
        await (await send())
        return await _timed(n, send)
    finally:
        await producer.stop()


async def kafka_topic_avro(bootstrap: str, topic: str, n: int) -> Run:
    async with App(
        f"bench-{uuid.uuid4().hex[:6]}", broker=f"kafka://{bootstrap}", **APP_PRODUCER
    ) as app:
        t = InventoryStockTopic(app, topics=topic)
        await (await t.send(key=AVRO_KEY, value=AVRO_VALUE))
        return await _timed(n, lambda: t.send(key=AVRO_KEY, value=AVRO_VALUE))


async def kafka_topic(bootstrap: str, topic: str, n: int, sensors: str = "") -> Run:
    async with App(
        f"bench-{uuid.uuid4().hex[:6]}", broker=f"kafka://{bootstrap}", **APP_PRODUCER
    ) as app:
        for sensor in _sensors(sensors):
            app.sensors.add(sensor)
        t = app.topic(topic, value_serializer="raw")
        await (await t.send(value=VALUE))
        return await _timed(n, lambda: t.send(value=VALUE))


async def memory_transport(n: int) -> Run:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    broker = MemoryTransport(name).broker
    try:
        return await _timed(n, lambda: _memory_send(broker))
    finally:
        MemoryBroker.reset(name)


async def _memory_send(broker: MemoryBroker) -> Awaitable[RecordMetadata]:
    # The least a memory send can do: append in one coroutine, return a done awaitable.
    return Resolved(broker.append("bench", None, VALUE))


class _NoOp(Sensor):
    """Overrides every send hook and does nothing: the cost of having a sensor at all."""

    def on_send_start(self, topic: str, key: object, tombstone: bool, headers: Any) -> Any:
        return None

    def on_send_done(
        self, token: Any, topic: str, metadata: Any, size: int, latency: float
    ) -> None:
        return None


def _sensors(kind: str) -> list[Sensor]:
    if kind == "noop":
        return [_NoOp()]
    if kind == "tracing":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from gen_topics.tracing import TracingSensor

        provider = TracerProvider()
        # Spans are recorded and kept (an exporter that does no I/O): what tracing itself costs.
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        return [TracingSensor(provider)]
    return []


async def memory_topic(n: int, sensors: str = "") -> Run:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    async with App("bench", broker=f"memory://{name}") as app:
        for sensor in _sensors(sensors):
            app.sensors.add(sensor)
        t = app.topic("bench", value_serializer="raw")
        try:
            return await _timed(n, lambda: t.send(value=VALUE))
        finally:
            MemoryBroker.reset(name)


def _bootstrap() -> tuple[str, Any]:
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env:
        return env, None
    from scripts.stack import ServiceStack

    stack = ServiceStack(use_env=False)
    return stack.kafka_bootstrap(), stack


def _report(
    label: str, ours: list[Run], peer: list[Run], peer_name: str, target: float | None = None
) -> None:
    # Each pair ran back to back, under the same machine load; the median of the paired
    # ratios is robust to other processes on a shared machine, best-of shows peaks. The CPU
    # ratio (peer's CPU time per message / ours) counts only this process's work, so it is
    # the steadiest measure of the overhead Topic.send adds when the machine is busy.
    ratios = sorted(o.rate / p.rate for o, p in zip(ours, peer, strict=True))
    cpu_ratios = sorted(p.cpu_us / o.cpu_us for o, p in zip(ours, peer, strict=True))
    our_rates, peer_rates = [r.rate for r in ours], [r.rate for r in peer]
    print(
        f"{label:<7} Topic.send {statistics.median(our_rates):>9,.0f} msg/s "
        f"(best {max(our_rates):,.0f}, {statistics.median(r.cpu_us for r in ours):.2f} us CPU)"
        f"  {peer_name} {statistics.median(peer_rates):>9,.0f} msg/s "
        f"(best {max(peer_rates):,.0f}, {statistics.median(r.cpu_us for r in peer):.2f} us CPU)"
        f"\n        ratio median {statistics.median(ratios):.2f} [min {ratios[0]:.2f}, "
        f"max {ratios[-1]:.2f}]  best/best {max(our_rates) / max(peer_rates):.2f}"
        f"  CPU ratio median {statistics.median(cpu_ratios):.2f} "
        f"[min {cpu_ratios[0]:.2f}, max {cpu_ratios[-1]:.2f}]"
    )
    if target is not None:
        median = statistics.median(ratios)
        verdict = "met" if median >= target else "MISSED"
        print(f"        target: median ratio >= {target:.2f}: {verdict} ({median:.2f})")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--skip-kafka", action="store_true")
    parser.add_argument(
        "--only-kafka", action="store_true", help="only Topic.send vs aiokafka, no sensors"
    )
    args = parser.parse_args()
    n, rounds = args.messages, args.rounds

    if not args.only_kafka:
        mem_ours, mem_peer = await _paired(
            rounds, lambda: memory_transport(n), lambda: memory_topic(n)
        )
        _report("memory", mem_ours, mem_peer, "broker append")
        # What sensors cost: Topic.send with a no-op sensor, and with tracing, each paired
        # against Topic.send with none (ratio = with / without; 1.00 is free).
        for kind in ("noop", "tracing"):
            with_s, without = await _paired(
                rounds, lambda: memory_topic(n), lambda kind=kind: memory_topic(n, kind)
            )
            _report(f"mem+{kind}", with_s, without, "no sensor")

    if not args.skip_kafka:
        print(
            "kafka producer settings (both sides): "
            + ", ".join(f"{k}={v}" for k, v in PRODUCER.items())
        )
        bootstrap, stack = _bootstrap()
        try:
            topic = f"bench-{uuid.uuid4().hex[:8]}"
            async with App("bench-admin", broker=f"kafka://{bootstrap}") as app:
                await app.topic(topic, partitions=1).declare()
            k_ours, k_peer = await _paired(
                rounds,
                lambda: kafka_aiokafka(bootstrap, topic, n),
                lambda: kafka_topic(bootstrap, topic, n),
            )
            _report("kafka", k_ours, k_peer, "aiokafka", TARGET)
            a_ours, a_peer = await _paired(
                rounds,
                lambda: kafka_aiokafka_avro(bootstrap, topic, n),
                lambda: kafka_topic_avro(bootstrap, topic, n),
            )
            _report("k+avro", a_ours, a_peer, "aiokafka+fastavro")
            for kind in () if args.only_kafka else ("noop", "tracing"):
                with_s, without = await _paired(
                    rounds,
                    lambda: kafka_topic(bootstrap, topic, n),
                    lambda kind=kind: kafka_topic(bootstrap, topic, n, kind),
                )
                _report(f"k+{kind}", with_s, without, "no sensor")
        finally:
            if stack is not None:
                stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
