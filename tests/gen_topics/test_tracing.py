"""OpenTelemetry: a producer span per send, a child consumer span per event, across Apps."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gen_topics import App
from gen_topics.tracing import TracingSensor


@pytest.fixture
def traced() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_consumer_span_is_a_child_of_the_producer_span_across_apps(
    broker_url: str, unique: str, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = traced
    name = f"traced-{unique}"
    producer_app = App(f"producer-{unique}", broker=broker_url, value_serializer="json")
    producer_app.sensors.add(TracingSensor(provider))
    consumer_app = App(f"consumer-{unique}", broker=broker_url, value_serializer="json")
    consumer_app.sensors.add(TracingSensor(provider))
    async with producer_app, consumer_app:
        out = producer_app.topic(name, key_serializer="str", partitions=1)
        await out.maybe_declare()
        md = await (await out.send(key="order-1", value={"n": 1}))
        async for event in consumer_app.topic(name, key_serializer="str"):
            assert event.headers["traceparent"].startswith(b"00-")
            # Sent while processing: a child of the consumer span.
            await (await producer_app.topic(f"{name}-out").send(value={"derived": 1}))
            event.ack()
            break
    spans = {span.name: span for span in exporter.get_finished_spans()}
    send, process = spans[f"send {name}"], spans[f"process {name}"]
    assert send.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
    assert send.attributes is not None and process.attributes is not None
    assert dict(send.attributes) == {
        "messaging.system": "kafka",
        "messaging.destination.name": name,
        "messaging.operation.name": "send",
        "messaging.operation.type": "send",
        "messaging.kafka.message.key": "order-1",
        "messaging.destination.partition.id": str(md.partition),
        "messaging.kafka.offset": md.offset,
        "messaging.message.body.size": len(b"order-1") + len(b'{"n":1}'),
    }
    assert process.attributes["messaging.consumer.group.name"] == f"consumer-{unique}"
    assert process.attributes["messaging.kafka.offset"] == md.offset
    assert process.attributes["messaging.operation.type"] == "process"
    assert process.attributes["messaging.kafka.message.key"] == "order-1"
    # The trace crosses the two Apps through the record headers.
    assert send.context is not None and process.context is not None and process.parent
    assert process.context.trace_id == send.context.trace_id
    assert process.parent.span_id == send.context.span_id
    derived = spans[f"send {name}-out"]
    assert derived.parent is not None and derived.parent.span_id == process.context.span_id


async def test_a_failed_send_ends_its_span_as_an_error(
    memory_url: str, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = traced
    async with App("traced-fail", broker=memory_url) as app:
        app.sensors.add(TracingSensor(provider))
        topic = app.topic("one-partition", value_serializer="json", partitions=1)
        await topic.maybe_declare()
        with pytest.raises(Exception, match="partition"):
            await (await topic.send(value={"x": 1}, partition=7))
    (span,) = exporter.get_finished_spans()
    assert span.name == "send one-partition"
    assert not span.status.is_ok
    assert span.attributes is not None and "error.type" in span.attributes


def test_the_observability_example_runs(tmp_path: object) -> None:
    import re
    import socket
    import subprocess
    import sys

    from tests.paths import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "observability.py"), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sends = dict(re.findall(r"'send orders' kind=PRODUCER trace=(\w+) span=(\w+)", done.stdout))
    processed = re.findall(
        r"'process orders' kind=CONSUMER trace=(\w+) span=\w+ parent=(\w+)", done.stdout
    )
    assert len(sends) == 3 and len(processed) == 3
    for trace_id, parent in processed:
        assert sends[trace_id] == parent
    assert 'gen_topics_messages_sent_total{app="shop",topic="orders"} 3.0' in done.stdout
