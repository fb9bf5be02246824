"""JSON Schema topics end to end: the generated topic classes on memory:// and real Kafka.

Uses the committed ``generated`` package (``gen-topics schemas/``): ShipmentEventsTopic
(string key), ShipmentStatusTopic (JSON Schema key), ShipmentTrackingTopic (Avro key).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gen_topics import App, DecodeError, EncodeError, Event, Topic
from gen_topics._transport.memory_broker import MemoryBroker
from gen_topics.json_codec import JsonDecodeError, JsonEncodeError
from generated.jsonmodels.shipments.shipment_event import (
    Carrier,
    ShipmentDispatched,
    ShipmentEvent,
)
from generated.jsonmodels.shipments.shipment_key import ShipmentKey
from generated.shipment_events import ShipmentEventsTopic
from generated.shipment_status import ShipmentStatusTopic
from generated.shipment_tracking import ShipmentTrackingTopic
from tests.jsonschema.conftest import REPO


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``memory://<fresh broker>`` or ``kafka://<session broker>``."""
    if request.param == "kafka":
        yield f"kafka://{request.getfixturevalue('kafka_bootstrap')}"
        return
    name = f"json-e2e-{uuid.uuid4().hex[:8]}"
    yield f"memory://{name}"
    MemoryBroker.reset(name)


def dispatched(shipment: uuid.UUID, **overrides: Any) -> ShipmentEvent:
    event = ShipmentEvent(
        event_id=uuid.uuid4(),
        shipment_id=shipment,
        occurred_at=dt.datetime(2026, 11, 26, 21, 0, tzinfo=dt.UTC),
        source="carrier",  # type: ignore[arg-type]  # validated into Source.CARRIER
        tags=["fragile"],
        detail=ShipmentDispatched.model_validate(
            {"kind": "dispatched", "carrier": "dhl", "tracking_url": "https://t.example/1"}
        ),
    )
    return event.model_copy(update=overrides)


async def take(topic: Topic[Any, Any], n: int) -> list[Event[Any, Any]]:
    events: list[Event[Any, Any]] = []
    async with asyncio.timeout(30):
        async for event in topic:
            events.append(event)
            if len(events) == n:
                break
    return events


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_generated_topic_round_trips_typed_values(broker_url: str) -> None:
    name = unique("shipment-events")
    async with App(unique("json-e2e"), broker=broker_url) as app:
        topic = ShipmentEventsTopic(app, topics=[name], partitions=2)
        await topic.declare()
        shipment = uuid.uuid4()
        sent = [dispatched(shipment), dispatched(shipment, note=None, attempt=2)]
        for value in sent:
            await (await topic.send(key=str(shipment), value=value))
        events = await take(topic, 2)
    assert [e.key for e in events] == [str(shipment)] * 2
    assert [e.value for e in events] == sent
    assert type(events[0].value.detail) is ShipmentDispatched
    assert events[0].value.detail.carrier is Carrier.DHL
    assert "note" not in events[0].value.model_fields_set
    assert events[1].value.note is None and "note" in events[1].value.model_fields_set
    assert events[0].message.partition == events[1].message.partition  # same key


async def test_record_not_matching_the_schema_is_a_decode_error_with_coordinates(
    broker_url: str,
) -> None:
    name = unique("shipment-events")
    bad = dispatched(uuid.uuid4()).model_dump(mode="json")
    bad["detail"]["carrier"] = "pigeon"
    async with App(unique("json-e2e"), broker=broker_url) as app:
        topic = ShipmentEventsTopic(app, topics=[name], partitions=1)
        await topic.declare()
        raw = app.topic(name, key_serializer="raw", value_serializer="raw")
        await (await raw.send(key=b"k", value=json.dumps(bad).encode()))
        good = dispatched(uuid.uuid4())
        await (await topic.send(key="k2", value=good))
        iterator = aiter(topic)
        with pytest.raises(DecodeError) as caught:
            async with asyncio.timeout(30):
                await anext(iterator)
        after = await asyncio.wait_for(anext(iterator), 30)
    error = caught.value
    assert (error.topic, error.partition, error.offset, error.field) == (name, 0, 0, "value")
    assert f"{name}[0]@0" in str(error)
    assert "detail.dispatched.carrier" in str(error)
    assert isinstance(error.__cause__, JsonDecodeError)
    assert error.__cause__.path == "detail.dispatched.carrier"
    assert after.value == good and after.message.offset == 1  # the reader moves on


async def test_invalid_value_fails_before_anything_is_sent(broker_url: str) -> None:
    name = unique("shipment-events")
    async with App(unique("json-e2e"), broker=broker_url) as app:
        topic = ShipmentEventsTopic(app, topics=[name], partitions=1)
        await topic.declare()
        invalid = dispatched(uuid.uuid4())
        invalid.tags = [""]  # mutation is not validated by pydantic; minLength is 1
        with pytest.raises(EncodeError) as caught:
            await topic.send(key="k", value=invalid)
        marker = dispatched(uuid.uuid4())
        metadata = await (await topic.send(key="k", value=marker))
        [event] = await take(topic, 1)
    assert caught.value.topic == name and caught.value.field == "value"
    assert "tags[0]" in str(caught.value)
    assert isinstance(caught.value.__cause__, JsonEncodeError)
    assert metadata.offset == 0  # the invalid value never reached the broker
    assert event.value == marker


async def test_json_key_and_avro_key_topics(broker_url: str) -> None:
    status_name, tracking_name = unique("shipment-status"), unique("shipment-tracking")
    shipment = uuid.uuid4()
    key = ShipmentKey(shipment_id=shipment, warehouse="LON01")
    async with App(unique("json-e2e"), broker=broker_url) as app:
        status = ShipmentStatusTopic(app, topics=[status_name], partitions=1)
        tracking = ShipmentTrackingTopic(app, topics=[tracking_name], partitions=1)
        await status.declare()
        await tracking.declare()
        await (await status.send(key=key, value=dispatched(shipment)))
        await (await tracking.send(key=1234567890123, value=dispatched(shipment)))
        [by_key] = await take(status, 1)
        [by_tracking] = await take(tracking, 1)
    assert by_key.key == key
    assert json.loads(by_key.message.key or b"") == {
        "shipment_id": str(shipment),
        "warehouse": "LON01",
    }
    assert by_tracking.key == 1234567890123
    assert by_tracking.message.key != b"1234567890123"  # Avro zig-zag long, not text
    assert by_tracking.value.shipment_id == shipment


def test_generated_topic_send_is_type_checked(tmp_path: Path) -> None:
    snippet = tmp_path / "use_topic.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from generated.jsonmodels.shipments.shipment_key import ShipmentKey
            from generated.shipment_events import ShipmentEventsTopic
            from generated.shipment_status import ShipmentStatusTopic
            from gen_topics import App


            async def main(app: App, key: ShipmentKey) -> None:
                events = ShipmentEventsTopic(app)
                await events.send(key=1, value=None)
                await events.send(key="k", value={"event_id": "x"})
                await ShipmentStatusTopic(app).send(key="not-a-key", value=None)
                await ShipmentStatusTopic(app).send(key=key, value=None)
            """
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(snippet),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["10", "11", "12"], run.stdout
    assert '"key" to "send"' in errors[0] and '"value" to "send"' in errors[1], run.stdout
