"""Prometheus metrics: exact counts after a known workload, and the lag gauge."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gen_topics import App
from gen_topics.metrics import PrometheusSensor


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


async def _until(check: Any, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_counts_and_lag_after_a_partial_read(broker_url: str, unique: str) -> None:
    registry = CollectorRegistry()
    app = App(f"metrics-{unique}", broker=broker_url, value_serializer="json")
    sensor = PrometheusSensor(app.id, registry=registry, lag_interval=0.05)
    app.sensors.add(sensor)
    name = f"metrics-{unique}"
    async with app:
        topic = app.topic(name, key_serializer="str", partitions=1)
        await topic.maybe_declare()
        for i in range(5):
            await (await topic.send(key=f"k{i}", value={"i": i}))
        read = 0
        async for event in topic:
            read += 1
            if read == 3:
                event.ack()
                break
        await app.commit()
        labels = {"app": app.id, "topic": name}
        assert _value(registry, "gen_topics_messages_sent_total", **labels) == 5
        assert _value(registry, "gen_topics_send_failures_total", **labels) == 0
        assert _value(registry, "gen_topics_events_processed_total", **labels) == 3
        assert _value(registry, "gen_topics_processing_seconds_count", **labels) == 3
        assert _value(registry, "gen_topics_send_latency_seconds_count", **labels) == 5
        # Fetched: at least what was read, at most what exists.
        assert 3 <= _value(registry, "gen_topics_messages_received_total", **labels) <= 5
        assert _value(registry, "gen_topics_commits_total", app=app.id) >= 1
        bytes_sent = _value(registry, "gen_topics_sent_bytes_total", **labels)
        assert bytes_sent > 5 * len(b'{"i":0}')
        # End offset 5, committed 3.
        lag = {"app": app.id, "topic": name, "partition": "0"}
        await _until(lambda: registry.get_sample_value("gen_topics_consumer_lag", lag) == 2)


async def test_decode_errors_and_skips_are_counted(memory_url: str) -> None:
    registry = CollectorRegistry()
    app = App("metrics-bad", broker=memory_url)
    app.sensors.add(PrometheusSensor(app.id, registry=registry))
    async with app:
        raw = app.topic("mixed", value_serializer="raw", partitions=1)
        for value in (b'{"ok": 1}', b"broken", b'{"ok": 2}'):
            await (await raw.send(value=value))
        typed = app.topic("mixed", value_serializer="json", on_decode_error="skip")
        got = []
        async for event in typed:
            got.append(event.value)
            if len(got) == 2:
                break
    assert got == [{"ok": 1}, {"ok": 2}]
    labels = {"app": "metrics-bad", "topic": "mixed"}
    assert _value(registry, "gen_topics_decode_errors_total", **labels) == 1
    assert _value(registry, "gen_topics_records_skipped_total", **labels) == 1


def test_metrics_port_serves_the_default_registry(unused_tcp_port: int) -> None:
    async def main() -> str:
        async with App(
            "metrics-served", broker="memory://metrics-served", metrics_port=unused_tcp_port
        ) as app:
            topic = app.topic("served", value_serializer="json")
            await (await topic.send(value={"x": 1}))
            url = f"http://127.0.0.1:{unused_tcp_port}/metrics"
            return await asyncio.to_thread(
                lambda: urllib.request.urlopen(url, timeout=30).read().decode()
            )

    text = asyncio.run(main())
    assert 'gen_topics_messages_sent_total{app="metrics-served",topic="served"} 1.0' in text


def test_two_apps_share_one_registry() -> None:
    registry = CollectorRegistry()
    first = PrometheusSensor("one", registry=registry)
    second = PrometheusSensor("two", registry=registry)  # no "Duplicated timeseries"
    assert first.sent is second.sent


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
