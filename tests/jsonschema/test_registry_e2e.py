"""A generated JSON Schema topic on a real schema registry (and real Kafka).

ShipmentEvent $refs json/common/address.json and .../common/contact.json: the producer
registers those documents as the schema's references, under the subjects ``gen-topics push``
uses, so after a push it registers nothing new.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest

from gen_topics import App, Event, Topic
from gen_topics.registry import RegisteredSchema, SchemaRegistryClient
from generated.jsonmodels.common.address import Address
from generated.jsonmodels.common.contact import Contact
from generated.jsonmodels.shipments.shipment_event import (
    Parcel,
    ShipmentCreated,
    ShipmentEvent,
)
from generated.shipment_events import ShipmentEventsTopic
from generator.commands import push
from tests.jsonschema.conftest import SCHEMAS

pytestmark = pytest.mark.registry

REFERENCED = {
    "../common/address.json": "json/common/address.json",
    "https://schemas.acme.example/common/contact.json": "json/common/contact.json",
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def created() -> ShipmentEvent:
    return ShipmentEvent(
        event_id=uuid.uuid4(),
        shipment_id=uuid.uuid4(),
        occurred_at=dt.datetime(2026, 11, 26, 21, 30, tzinfo=dt.UTC),
        source="warehouse",  # type: ignore[arg-type]  # validated into Source.WAREHOUSE
        detail=ShipmentCreated(
            kind="created",
            order_id="ORD-1",
            ship_to=Address(
                name="Ada", street="1 Main St", city="Ghent", postal_code="9000", country="BE"
            ),
            contact=Contact(email="ada@example.com"),
            parcels=[Parcel(sku="SKU-0001", quantity=2, weight_kg=1.5)],
        ),
    )


async def _first(topic: Topic[Any, Any]) -> asyncio.Task[Event[Any, Any]]:
    """Start reading ``topic``. No pause is needed before sending: a new group reads from the
    earliest offset, so a record sent before the subscription attaches is still read."""
    return asyncio.create_task(topic.__aiter__().__anext__())


async def _send_and_read(
    broker: str, registry_url: str, name: str, value: ShipmentEvent
) -> tuple[Event[Any, Any], Event[Any, Any]]:
    """Send ``value`` on ``ShipmentEventsTopic`` renamed to ``name``: (typed, raw) events."""
    async with App(unique("json-reg"), broker=broker, schema_registry=registry_url) as app:
        topic = ShipmentEventsTopic(app, topics=[name])
        await topic.maybe_declare()
        raw = app.topic(name, key_serializer="raw", value_serializer="raw")
        typed_task = await _first(topic)
        raw_task = await _first(raw)
        await topic.send(key="s-1", value=value)
        return await asyncio.wait_for(typed_task, 60), await asyncio.wait_for(raw_task, 60)


def _schema_id(framed: bytes) -> int:
    assert framed[0] == 0, "not in the schema-registry wire format"
    return int(struct.unpack(">I", framed[1:5])[0])


async def _check_references(client: SchemaRegistryClient, root: RegisteredSchema) -> None:
    """The root schema references address and contact, registered with their file texts."""
    assert {r.name: r.subject for r in root.references} == REFERENCED
    for ref in root.references:
        registered = await client.get_version(ref.subject, ref.version)
        assert registered.schema == (SCHEMAS / ref.subject).read_text(encoding="utf-8")
        assert registered.schema_type == "JSON"


def _schemas_for(tmp_path: Path, name: str) -> Path:
    """The shipment-events descriptor with the topic renamed, and the JSON Schemas."""
    root = tmp_path / "schemas"
    shutil.copytree(SCHEMAS / "json", root / "json")
    (root / "shipments.topic.yaml").write_text(
        f"topics:\n  {name}:\n    key: string\n    key_serializer: str\n"
        "    value: json/shipments/shipment_event.json\n    compatibility: BACKWARD\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.kafka
async def test_push_then_producer_on_kafka_adds_no_version(
    tmp_path: Path, registry_url: str, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique("shipment-events-reg")
    folder = _schemas_for(tmp_path, name)
    argv = [str(folder), "--registry", registry_url, "--format", "json"]
    assert await asyncio.to_thread(push.main, argv) == 0
    pushed = {r["subject"]: r["id"] for r in json.loads(capsys.readouterr().out)["results"]}
    subjects = [f"{name}-value", *REFERENCED.values()]
    assert set(subjects) <= set(pushed)
    async with SchemaRegistryClient(registry_url) as client:
        # A later version on the subject: our schema is then found only by an exact lookup
        # (text and references), not as "the latest version has the same text".
        v1 = await client.get_latest(f"{name}-value")
        v2 = json.loads(v1.schema)
        v2["description"] = "A newer writer's revision."
        await client.set_config("NONE", f"{name}-value")
        await client.register(f"{name}-value", json.dumps(v2), "JSON", v1.references)
        before = {s: await client.get_versions(s) for s in subjects}
    assert before[f"{name}-value"] == [1, 2]

    value = created()
    typed, raw = await _send_and_read(f"kafka://{kafka_bootstrap}", registry_url, name, value)

    assert typed.key == "s-1"
    assert typed.value == value
    assert isinstance(typed.value.detail, ShipmentCreated)
    assert _schema_id(raw.value) == pushed[f"{name}-value"]
    assert raw.key == b"s-1"  # a str key: not framed, no subject
    async with SchemaRegistryClient(registry_url) as client:
        assert {s: await client.get_versions(s) for s in subjects} == before
        await _check_references(client, await client.get_version(f"{name}-value", 1))


async def test_producer_registers_the_referenced_documents_itself(registry_url: str) -> None:
    name = unique("shipment-events-auto")
    broker = f"memory://{unique('json-reg')}"
    value = created()
    typed, raw = await _send_and_read(broker, registry_url, name, value)
    assert typed.value == value
    async with SchemaRegistryClient(registry_url) as client:
        assert await client.get_versions(f"{name}-value") == [1]
        latest = await client.get_latest(f"{name}-value")
        assert _schema_id(raw.value) == latest.schema_id
        assert latest.schema == ShipmentEventsTopic.default_value_serializer.schema_text  # type: ignore[union-attr]
        await _check_references(client, latest)
