"""A hand-written AsyncAPI 3 document compiles to typed topics (data/shop): a Kafka channel
whose three Avro messages are a union (inline, in components, in an .avsc beside it) with a
record key, and a JSON Schema payload by $ref to a file beside it. The code passes mypy
--strict and pyright strict, and records round-trip on memory:// and on real Kafka."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mypy import api

from gen_topics import App, Event, Topic
from gen_topics._transport.memory_broker import MemoryBroker
from generator.compiler import build_model, compile_folder
from generator.writer import write
from tests.generator.asyncapi.conftest import Validate, problems_of
from tests.generator.test_pyright import _run_pyright

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
SHOP = Path(__file__).resolve().parent / "data" / "shop"
PACKAGE = "shop_topics"

USAGE = f'''"""Typed use of the topics compiled from shop.asyncapi.yaml."""

from __future__ import annotations

from gen_topics import App
from {PACKAGE}.avro.shop.orders import OrderCreated, OrderKey, OrderPaid, PayMethod
from {PACKAGE}.jsonmodels.customer import Customer
from {PACKAGE}.shop_customers import ShopCustomersTopic
from {PACKAGE}.shop_orders import ShopOrdersTopic


async def use(app: App) -> None:
    orders = ShopOrdersTopic(app)
    key = OrderKey(order_id="o-1", region="eu")
    await orders.send(key=key, value=OrderCreated(order_id="o-1", items=["a"]))
    await orders.send(
        key=key, value=OrderPaid(order_id="o-1", amount_cents=5, method=PayMethod.CARD)
    )
    async for event in orders:
        value = event.value
        if isinstance(value, OrderPaid):
            print(value.amount_cents + 1)
        break
    await ShopCustomersTopic(app).send(key="c-1", value=Customer(id="c-1", name="Ada"))
'''


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ModuleType]]:
    """The shop document compiled into an importable package."""
    base = tmp_path_factory.mktemp("shop")
    write(base / PACKAGE, compile_folder(SHOP), clean=False)
    (base / "usage.py").write_text(USAGE, encoding="utf-8")
    sys.path.insert(0, str(base))
    importlib.invalidate_caches()
    try:
        yield base, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(base))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_document_is_valid_for_asyncapis_parser(asyncapi_validate: Validate) -> None:
    path = SHOP / "shop.asyncapi.yaml"
    result = asyncapi_validate([path])[str(path)]
    assert result["parsed"] and problems_of(result) == [], result["diagnostics"]


def test_kafka_channels_become_topics(package: tuple[Path, ModuleType]) -> None:
    model = build_model(SHOP)
    topics = {t.descriptor.topic: t for t in model.topics}
    assert sorted(topics) == ["shop.customers", "shop.orders"]  # notify has no Kafka binding
    orders = topics["shop.orders"].descriptor
    assert (orders.partitions, orders.replicas, orders.retention, orders.deleting) == (
        3,
        1,
        86400.0,
        True,
    )
    assert orders.doc == "Order lifecycle events, keyed by order."
    assert orders.value is not None and orders.value.names == (
        "shop.orders.OrderCreated",
        "shop.orders.OrderPaid",
        "shop.orders.OrderShipped",
    )
    module = _module("shop_orders")
    assert module.ShopOrdersTopic.default_topics == ("shop.orders",)
    customers = _module("shop_customers")
    assert customers.KEY_CODEC == "str"
    text = (SHOP / "customer.json").read_text(encoding="utf-8")
    assert text == customers.VALUE_SCHEMA


def test_compiled_code_passes_mypy_strict(package: tuple[Path, ModuleType]) -> None:
    base, _ = package
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--strict"]
    args += ["--cache-dir", str(base / ".mypy_cache"), str(base / PACKAGE), str(base / "usage.py")]
    stdout, stderr, status = api.run(args)
    assert status == 0, stdout[-5000:] + stderr


@pytest.fixture(scope="module")
def pyright_errors(package: tuple[Path, ModuleType]) -> dict[str, list[dict[str, Any]]]:
    """One strict pyright run over the package, the usage file and a wrong usage file."""
    base, _ = package
    bad = base / "usage_bad.py"
    wrong = USAGE.replace('value=OrderCreated(order_id="o-1", items=["a"])', 'value="no order"')
    assert wrong != USAGE
    bad.write_text(wrong, encoding="utf-8")
    # The config sits in base, so that the package resolves as pyright's project root.
    return _run_pyright(base, [base / PACKAGE, base / "usage.py", bad])


def test_compiled_code_passes_pyright_strict(
    package: tuple[Path, ModuleType], pyright_errors: dict[str, list[dict[str, Any]]]
) -> None:
    base, _ = package
    found = [
        f"{e['file']}:{e['range']['start']['line'] + 1}: {e['message']}"
        for path, errs in pyright_errors.items()
        if path.startswith(str(base.resolve())) and not path.endswith("usage_bad.py")
        for e in errs
    ]
    assert not found, found


def test_pyright_rejects_a_wrong_value_type(
    package: tuple[Path, ModuleType], pyright_errors: dict[str, list[dict[str, Any]]]
) -> None:
    bad = str((package[0] / "usage_bad.py").resolve())
    messages = [
        e["message"] for e in pyright_errors.get(bad, []) if "not accessed" not in e["message"]
    ]
    assert len(messages) == 1 and "no order" in messages[0], messages


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "kafka":
        yield f"kafka://{request.getfixturevalue('kafka_bootstrap')}"
        return
    name = f"asyncapi-{uuid.uuid4().hex[:8]}"
    yield f"memory://{name}"
    MemoryBroker.reset(name)


async def _take(topic: Topic[Any, Any], n: int) -> list[Event[Any, Any]]:
    events: list[Event[Any, Any]] = []
    async with asyncio.timeout(60):
        async for event in topic:
            events.append(event)
            if len(events) == n:
                break
    return events


async def test_union_of_three_messages_round_trips(
    package: tuple[Path, ModuleType], broker_url: str
) -> None:
    orders = _module("avro.shop.orders")
    topic_module = _module("shop_orders")
    name = f"shop.orders-{uuid.uuid4().hex[:8]}"
    key = orders.OrderKey(order_id="o-1", region="eu")
    sent = [
        orders.OrderCreated(order_id="o-1", items=["apple", "pear"], coupon=None),
        orders.OrderPaid(order_id="o-1", amount_cents=1250, method=orders.PayMethod.WALLET),
        orders.OrderShipped(
            order_id="o-1",
            carrier="dhl",
            shipped_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        ),
    ]
    async with App(f"asyncapi-{uuid.uuid4().hex[:8]}", broker=broker_url) as app:
        topic = topic_module.ShopOrdersTopic(app, topics=[name])
        await topic.declare()
        for value in sent:
            await (await topic.send(key=key, value=value))
        events = await _take(topic, 3)
    assert [e.value for e in events] == sent
    assert [type(e.value) for e in events] == [type(v) for v in sent]
    assert all(e.key == key for e in events)
    assert len({e.message.partition for e in events}) == 1  # one key, one partition


async def test_json_schema_payload_round_trips(
    package: tuple[Path, ModuleType], broker_url: str
) -> None:
    customer = _module("jsonmodels.customer")
    topic_module = _module("shop_customers")
    name = f"shop.customers-{uuid.uuid4().hex[:8]}"
    value = customer.Customer(id="c-1", name="Ada", email=None)
    async with App(f"asyncapi-{uuid.uuid4().hex[:8]}", broker=broker_url) as app:
        topic = topic_module.ShopCustomersTopic(app, topics=[name])
        await topic.declare()
        await (await topic.send(key="c-1", value=value))
        [event] = await _take(topic, 1)
    assert event.key == "c-1" and event.value == value and event.value.vip is False
