"""gen-topics demo: typed topics generated from schemas/, on memory:// or a real Kafka.

Run ``gen-topics schemas/`` first (``make demo`` does both). Uses the embedded memory
broker, or Kafka when KAFKA_BOOTSTRAP_SERVERS is set (e.g. ``127.0.0.1:9092``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import os
import sys
import uuid
from pathlib import Path

# generated/ is this repository's build output, not part of the installed project (the wheel holds
# gen_topics/ and generator/ only), and running this file puts examples/ on sys.path, not the root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gen_topics import App
from generated.avro.com.acme.common import Address, Currency, Money
from generated.avro.com.acme.customers import Customer, Tier
from generated.avro.com.acme.orders import (
    OrderConfirmed,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
)
from generated.customers import CustomersTopic
from generated.orders import OrdersTopic, ValueType


def _broker() -> str:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    return f"kafka://{servers}" if servers else "memory://"


async def run(timeout: float = 30.0) -> int:
    """Send typed events and read them back typed; returns the process exit status."""
    broker = _broker()
    run_id = uuid.uuid4().hex[:8]
    async with App(f"gen-topics-demo-{run_id}", broker=broker) as app:
        # Own topic names per run on Kafka, so earlier runs' records do not interfere.
        orders = OrdersTopic(app, topics=[f"orders-demo-{run_id}"])
        customers = CustomersTopic(app, topics=[f"customers-demo-{run_id}"])
        await orders.maybe_declare()
        await customers.maybe_declare()
        print(f"broker {broker}: topics {orders.get_topic_name()}, {customers.get_topic_name()}")

        # timestamp-millis fields carry milliseconds: drop the microseconds up front.
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        order_id, customer_id = uuid.uuid4(), uuid.uuid4()
        address = Address(street="Main St 1", city="Amsterdam", postal_code="1011AB")
        price = Money(amount=decimal.Decimal("12.50"), currency=Currency.EUR)
        events: list[ValueType] = [
            OrderPlaced(
                order_id=order_id,
                customer_id=customer_id,
                lines=[OrderLine(sku="SKU-1", quantity=2, unit_price=price)],
                total=Money(amount=decimal.Decimal("25.00")),
                placed_at=now,
                shipping=address,
            ),
            OrderConfirmed(order_id=order_id, at=now),
            OrderDelivered(order_id=order_id, at=now),  # same shape as OrderConfirmed
        ]
        for event in events:
            await orders.send(key=str(order_id), value=event)
            print(f"sent     {type(event).__name__}")
        customer = Customer(
            id=customer_id, name="Ada", address=address, tier=Tier.GOLD, created_at=now
        )
        await customers.send(key=str(customer_id), value=customer)
        await customers.send(key=str(customer_id), value=None)  # tombstone: compacted away
        print("sent     Customer and its tombstone")

        received: list[ValueType] = []
        async with asyncio.timeout(timeout):
            async for message in orders:
                if message.key != str(order_id) or message.value is None:
                    continue
                received.append(message.value)
                print(f"received {type(message.value).__name__} at offset {message.message.offset}")
                if len(received) == len(events):
                    break
        customer_values: list[Customer | None] = []
        async with asyncio.timeout(timeout):
            async for customer_event in customers:
                # Customers is compacted: its value type is Customer | None, and the tombstone
                # comes back as None (mypy makes this branch handle it).
                value = customer_event.value
                shown = "None (the tombstone)" if value is None else f"Customer {value.name!r}"
                print(f"received {shown} at offset {customer_event.message.offset}")
                customer_values.append(value)
                if len(customer_values) == 2:
                    break
    ok = received == events and customer_values == [customer, None]
    if not ok:
        print(f"MISMATCH: sent {events} {customer}, received {received} {customer_values}")
    else:
        print("typed round trip ok")
    return 0 if ok else 1


def main() -> int:
    """Entry point."""
    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
