"""The demo works on memory://, and generated topics send and consume typed records on a
real Kafka broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gen_topics import App
from generated.avro.com.acme.inventory import Component, Location, StockKey, StockLevel
from generated.inventory_stock import InventoryStockTopic

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_on_memory_broker() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "received OrderDelivered" in done.stdout and "typed round trip ok" in done.stdout
    # What README.md says the demo shows: the customer, then its tombstone back as None.
    assert "received Customer 'Ada' at offset 0" in done.stdout, done.stdout
    assert "received None (the tombstone) at offset 1" in done.stdout, done.stdout


@pytest.mark.kafka
async def test_demo_on_real_kafka(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import demo
    finally:
        sys.path.remove(str(ROOT / "examples"))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert await demo.run(timeout=60) == 0


@pytest.mark.kafka
async def test_record_key_and_recursive_value_on_real_kafka(kafka_bootstrap: str) -> None:
    name = f"stock-e2e-{uuid.uuid4().hex[:8]}"
    now = dt.datetime(2026, 11, 26, 21, 0, 0, 123456)
    sent = [
        (
            StockKey(sku=f"sku-{i}", warehouse="ams"),
            StockLevel(
                sku=f"sku-{i}",
                warehouse="ams",
                on_hand=i,
                updated_at=now,
                location=Location(aisle="A", shelf=i),
                kit=Component(sku="kit", parts=[Component(sku=f"p{i}")]) if i % 2 else None,
            ),
        )
        for i in range(5)
    ]
    async with App(f"e2e-{name}", broker=f"kafka://{kafka_bootstrap}") as app:
        topic = InventoryStockTopic(app, topics=[name])
        assert type(topic.derive(partitions=1)) is InventoryStockTopic
        await topic.maybe_declare()
        for key, value in sent:
            await topic.send(key=key, value=value)
        received: list[tuple[StockKey | None, StockLevel | None]] = []
        async with asyncio.timeout(60):
            async for event in topic:
                received.append((event.key, event.value))
                if len(received) == len(sent):
                    break
    by_key = {k.sku: v for k, v in received if k is not None}
    assert by_key == {k.sku: v for k, v in sent}
    assert all(isinstance(k, StockKey) for k, _ in received)
