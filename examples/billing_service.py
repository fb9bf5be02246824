"""billing: a complete gen-topics service on the generated topics of schemas/.

It follows the compacted ``customers`` topic (a tombstone deletes a customer), reads the
``orders`` topic in batches and, for every order placed by a customer who was not deleted,
publishes a pending ``Payment`` with ``send_soon``. It runs until SIGTERM or Ctrl-C and then
stops cleanly: the batch in hand is finished, every buffered payment is published and
acknowledged, what was processed is committed, and the exit status is 0 (1 when the
shutdown bound cut something short, which is then reported).

    gen-topics schemas/                           # generated/ must be fresh
    python examples/billing_service.py --broker kafka://127.0.0.1:9092 --seed 20
    python examples/billing_service.py --replay-from 2024-05-01T00:00:00+00:00

It prints ``processed <topic>[<partition>]@<offset>`` for each order billed and
``acked <topic>[<partition>]@<offset> order <id>`` once the broker acknowledged its payment.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
import functools
import hashlib
import logging
import os
import sys
import uuid
from pathlib import Path

# generated/ is this repository's build output; running this file puts examples/ on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gen_topics import App, FutureMessage
from generated.avro.com.acme.common import Address, Money
from generated.avro.com.acme.customers import Customer
from generated.avro.com.acme.orders import OrderLine, OrderPlaced
from generated.avro.com.acme.payments import MD5, Payment, Wallet
from generated.customers import CustomersTopic
from generated.orders import OrdersTopic
from generated.payments import PaymentsTopic

log = logging.getLogger("billing")


def payment_for(order: OrderPlaced) -> Payment:
    """The pending payment that bills ``order``."""
    return Payment(
        payment_id=uuid.uuid4(),
        order_id=order.order_id,
        amount=order.total,
        method=Wallet(provider="acme-pay", account=str(order.customer_id)),
        fingerprint=MD5(hashlib.md5(order.order_id.bytes).digest()),
        processing_time=dt.datetime.now(dt.UTC).time().replace(tzinfo=None),
        fee=decimal.Decimal("0.2500"),
    )


class Billing:
    """The service: its topics, the customer table, and the work it does per order."""

    def __init__(self, app: App, suffix: str, work_seconds: float) -> None:
        self.customers = CustomersTopic(app, topics=f"customers{suffix}")
        # A bad order goes, unchanged, to orders<suffix>.dlq instead of stopping billing.
        self.orders = OrdersTopic(app, topics=f"orders{suffix}", on_decode_error="dead_letter")
        self.payments = PaymentsTopic(app, topics=f"payments{suffix}")
        self.table: dict[str, Customer] = {}
        self.deleted: set[str] = set()
        self.work_seconds = work_seconds

    async def declare(self) -> None:
        """Create the topics (or report how they differ from their descriptors)."""
        for topic in (self.customers, self.orders, self.payments):
            await topic.maybe_declare()

    async def follow_customers(self) -> None:
        """Keep the customer table: the topic is compacted, so a None value is a deletion."""
        async for event in self.customers:
            if event.value is None:  # a tombstone; the type makes us check
                self.table.pop(event.key, None)
                self.deleted.add(event.key)
            else:
                self.table[event.key] = event.value
                self.deleted.discard(event.key)

    async def bill_orders(self, replay_from: dt.datetime | None) -> None:
        """Bill every placed order, 100 at a time; each batch is committed once the next one
        is read, so a crash re-bills at most the batch in hand (at-least-once)."""
        stream = aiter(self.orders)
        if replay_from is not None:
            await stream.seek_to_timestamp(replay_from)
            log.info("replaying orders from %s", replay_from.isoformat())
        async for batch in stream.take(100, within=0.5):
            for event in batch:
                order = event.value
                if not isinstance(order, OrderPlaced):
                    continue  # confirmations, deliveries, cancellations: nothing to bill
                if str(order.customer_id) in self.deleted:
                    log.info("order %s: customer %s was deleted", order.order_id, order.customer_id)
                    continue
                await asyncio.sleep(self.work_seconds)  # the work a real service would do
                self.payments.send_soon(
                    key=event.key,
                    value=payment_for(order),
                    callback=functools.partial(self.on_acked, order_id=order.order_id),
                )
                m = event.message
                print(f"processed {m.topic}[{m.partition}]@{m.offset}", flush=True)

    def on_acked(self, fut: FutureMessage, *, order_id: uuid.UUID) -> None:
        """Runs once per payment, when the broker acknowledged it."""
        md = fut.result()
        print(f"acked {md.topic}[{md.partition}]@{md.offset} order {order_id}", flush=True)

    async def report_lag(self, every: float) -> None:
        """Log how far behind the end of the orders topic billing is."""
        app = self.orders.app
        while not await app.wait_stopping(timeout=every):
            try:
                lags = await self.orders.lag()
            except Exception as exc:  # a report must not stop the service
                log.warning("lag unknown: %s", exc)
                continue
            log.info("orders lag: %d records", sum(lags.values()))

    async def seed(self, count: int) -> None:
        """Publish ``count`` sample customers and orders (to try the service out)."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        address = Address(street="Main St 1", city="Amsterdam", postal_code="1011AB")
        for i in range(count):
            customer = Customer(
                id=uuid.uuid4(),
                name=f"customer {i}",
                address=address,
                created_at=now,
                credit_limit=Money(amount=decimal.Decimal("50.00")),
            )
            await self.customers.send(key=str(customer.id), value=customer)
            total = Money(amount=decimal.Decimal("12.50"))
            order = OrderPlaced(
                order_id=uuid.uuid4(),
                customer_id=customer.id,
                lines=[OrderLine(sku=f"SKU-{i}", unit_price=total)],
                total=total,
                placed_at=now,
                shipping=address,
            )
            await self.orders.send(key=str(order.order_id), value=order)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default=f"kafka://{servers}", help="kafka://host:port")
    parser.add_argument("--registry", default=None, help="schema registry URL (optional)")
    parser.add_argument("--group", default="billing", help="consumer group id")
    parser.add_argument("--suffix", default="", help="appended to every topic name")
    parser.add_argument("--seed", type=int, default=0, help="publish N sample orders first")
    parser.add_argument("--work", type=float, default=0.0, help="seconds of work per order")
    parser.add_argument(
        "--replay-from",
        type=dt.datetime.fromisoformat,
        default=None,
        help="re-read orders from this ISO time (with a UTC offset)",
    )
    parser.add_argument("--shutdown-timeout", type=float, default=30.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the billing service until SIGTERM / Ctrl-C; returns the exit status."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = App(args.group, broker=args.broker, schema_registry=args.registry)
    billing = Billing(app, args.suffix, args.work)

    async def service(app: App) -> None:
        await billing.declare()
        if args.seed:
            await billing.seed(args.seed)
        await asyncio.gather(
            billing.follow_customers(),
            billing.bill_orders(args.replay_from),
            billing.report_lag(every=10.0),
        )

    return app.run(service, shutdown_timeout=args.shutdown_timeout)


if __name__ == "__main__":
    sys.exit(main())
