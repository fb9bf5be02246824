"""A typed use of the generated package, and one-line mistakes a type checker must report.

Shared by the mypy and pyright tests so both checkers judge the same code.
"""

from __future__ import annotations

USAGE = """
import datetime as dt
import uuid

from gen_topics import App
from generated.avro.com.acme.customers import Customer
from generated.avro.com.acme.orders import OrderConfirmed, OrderPlaced
from generated.customers import CustomersTopic
from generated.orders import OrdersTopic


async def use(app: App) -> list[object]:
    seen: list[object] = [Customer]
    orders = OrdersTopic(app)
    confirmed = OrderConfirmed(order_id=uuid.uuid4(), at=dt.datetime.now(dt.UTC))
    await orders.send(key="o-1", value=confirmed)
    same: OrdersTopic = orders.derive(partitions=2)
    seen.append(same)
    async for event in orders:
        key: str | None = event.key
        value = event.value
        seen.append(key)
        if isinstance(value, OrderPlaced):
            first_sku: str = value.lines[0].sku
            seen.append(first_sku)
    customers = CustomersTopic(app)
    await customers.send(key="c-1", value=None)  # a tombstone
    # customers is compacted: a tombstone arrives as None, and the type says so.
    async for customer_event in customers:
        customer = customer_event.value
        if customer is None:
            seen.append(("deleted", customer_event.key))
        else:
            seen.append(customer.name)
        break
{bad}
    return seen
"""

#: Each line is one type error, inserted at ``{bad}`` in :data:`USAGE`.
BAD_LINES = {
    "wrong-key": "    await orders.send(key=42, value=confirmed)",
    "wrong-value": '    await orders.send(key="o-1", value=Customer)',
    "wrong-field": '    OrderConfirmed(order_id="not-a-uuid", at=dt.datetime.now(dt.UTC))',
    # The value of a compacted topic may be a tombstone: using it unchecked is an error.
    "tombstone-unchecked": "    seen.append([e.value.name async for e in CustomersTopic(app)])",
}


def usage(case: str | None = None) -> str:
    """The usage source, with the mistake ``case`` (a key of :data:`BAD_LINES`) or none."""
    return USAGE.format(bad="" if case is None else BAD_LINES[case])


def bad_line_number(case: str) -> int:
    """The 1-based line of the mistake ``case`` in ``usage(case)``."""
    return usage(case).splitlines().index(BAD_LINES[case]) + 1
