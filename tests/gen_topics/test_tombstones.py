"""The tombstone rule at run time: None reaches a reader only where the topic's type admits it.

The typing half (mypy and pyright force a reader of a compacted topic to handle None) is in
tests/generator/typed_usage.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import uuid
from typing import Any

import pytest

from gen_topics import App, DecodeError, Event, Topic
from generated.avro.com.acme.common import Address, Money
from generated.avro.com.acme.customers import Customer
from generated.avro.com.acme.orders import OrderConfirmed
from generated.customers import CustomersTopic
from generated.orders import OrdersTopic


def _customer() -> Customer:
    return Customer(
        id=uuid.uuid4(),
        name="Ada",
        address=Address(street="Main St 1", city="Amsterdam", postal_code="1011AB"),
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        credit_limit=Money(amount=decimal.Decimal("50.00")),
    )


async def _read(topic: Topic[Any, Any], n: int) -> list[Event[Any, Any] | DecodeError]:
    it = aiter(topic)
    out: list[Event[Any, Any] | DecodeError] = []
    async with asyncio.timeout(30):
        while len(out) < n:
            try:
                out.append(await anext(it))
            except DecodeError as exc:
                out.append(exc)
    return out


class Admits(Topic[str, bytes | None]):
    default_topics = ("admits",)


class Refuses(Topic[str, bytes]):
    default_topics = ("refuses",)
    default_key_serializer = "str"
    default_value_serializer = "raw"


class Explicit(Topic[str, bytes]):
    value_admits_none = True  # spelled out: the class's choice wins over its base


def test_the_rule_is_read_from_the_topic_type() -> None:
    assert (Admits.key_admits_none, Admits.value_admits_none) == (False, True)
    assert (Refuses.key_admits_none, Refuses.value_admits_none) == (False, False)
    assert Explicit.value_admits_none
    assert Topic.key_admits_none and Topic.value_admits_none  # Topic[Any, Any]
    # Generated: customers is compacted (tombstones are its contract), orders is not.
    assert CustomersTopic.value_admits_none and not CustomersTopic.key_admits_none
    assert not OrdersTopic.value_admits_none and not OrdersTopic.key_admits_none


async def test_a_compacted_topic_delivers_tombstones_as_none(broker_url: str, unique: str) -> None:
    async with App(f"tomb-{unique}", broker=broker_url) as app:
        customers = CustomersTopic(app, topics=f"customers-{unique}")
        await customers.declare()
        customer = _customer()
        await (await customers.send(key="c-1", value=customer))
        await (await customers.send(key="c-1", value=None))
        first, second = await _read(customers, 2)
        assert isinstance(first, Event) and first.value == customer
        assert isinstance(second, Event) and second.value is None and second.key == "c-1"


async def test_a_tombstone_where_the_type_excludes_none_does_not_decode(
    broker_url: str, unique: str
) -> None:
    name = f"orders-{unique}"
    async with App(f"tomb-{unique}", broker=broker_url) as app:
        orders = OrdersTopic(app, topics=name, partitions=1)
        await orders.declare()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # timestamp-millis
        confirmed = OrderConfirmed(order_id=uuid.uuid4(), at=now)
        await (await orders.send(key="o-1", value=None))  # a tombstone: not in the contract
        await (await orders.send(key="o-1", value=confirmed))
        error, event = await _read(orders, 2)
        assert isinstance(error, DecodeError)
        assert (error.topic, error.partition, error.offset, error.field) == (name, 0, 0, "value")
        assert "null value (a tombstone)" in str(error) and "OrdersTopic" in str(error)
        assert isinstance(event, Event) and event.value == confirmed


async def test_a_keyless_record_where_the_key_type_excludes_none_does_not_decode(
    memory_url: str,
) -> None:
    async with App("keyless", broker=memory_url) as app:
        orders = OrdersTopic(app)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)  # timestamp-millis
        confirmed = OrderConfirmed(order_id=uuid.uuid4(), at=now)
        await orders.send(value=confirmed)  # no key: the contract says str
        [error] = await _read(orders, 1)
        assert isinstance(error, DecodeError) and error.field == "key"
        assert "null key" in str(error) and "str" in str(error)


@pytest.mark.parametrize("policy", ["skip", "dead_letter"])
async def test_a_refused_tombstone_follows_the_decode_policy(memory_url: str, policy: str) -> None:
    async with App("tomb-policy", broker=memory_url) as app:
        refuses = Refuses(app, on_decode_error=policy)  # type: ignore[arg-type]
        await refuses.send(key="k", value=None)
        await refuses.send(key="k", value=b"v")
        [event] = await _read(refuses, 1)
        assert isinstance(event, Event) and event.value == b"v"
        assert (refuses.skipped, refuses.dead_lettered) == ((1, 0) if policy == "skip" else (0, 1))


@pytest.mark.parametrize("compacted", [False, True])
async def test_a_refused_tombstone_says_why_the_type_refuses_it(
    memory_url: str, compacted: bool
) -> None:
    async with App("tomb-hint", broker=memory_url) as app:
        # A hand-typed class may be declared compacted yet refuse None (generated ones admit it).
        refuses = Refuses(app, compacting=True) if compacted else Refuses(app)
        await refuses.send(key="k", value=None)
        [error] = await _read(refuses, 1)
        assert isinstance(error, DecodeError) and error.field == "value"
        text = str(error)
        if compacted:
            assert "the topic is declared compacted, yet" in text
            assert "`bytes | None`" in text and "declare the topic compacted" not in text
        else:
            assert "this topic is not declared compacted" in text
            assert "'compacting: true' in its descriptor" in text
