"""The service runner: SIGTERM stops a real service cleanly (exit 0, processed = committed, sent =
acknowledged); the shutdown bound and what it leaves undone are reported."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import re
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gen_topics import TP, App, Event
from generated.avro.com.acme.common import Address, Money
from generated.avro.com.acme.orders import OrderLine, OrderPlaced
from generated.orders import OrdersTopic
from generated.payments import PaymentsTopic

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "examples" / "billing_service.py"
PROCESSED = re.compile(r"^processed (\S+)\[(\d+)\]@(\d+)$")
ACKED = re.compile(r"^acked (\S+)\[(\d+)\]@(\d+) order (\S+)$")


def _order() -> OrderPlaced:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    total = Money(amount=decimal.Decimal("12.50"))
    return OrderPlaced(
        order_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        lines=[OrderLine(sku="SKU-1", unit_price=total)],
        total=total,
        placed_at=now,
        shipping=Address(street="Main St 1", city="Amsterdam", postal_code="1011AB"),
    )


async def _read_all(topic: Any) -> list[Event[Any, Any]]:
    """Every record of ``topic`` now in the log (a new group, reading from the start)."""
    stream = aiter(topic)
    total = sum((await stream.end_offsets()).values())
    events: list[Event[Any, Any]] = []
    async with asyncio.timeout(60):
        while len(events) < total:
            events.append(await anext(stream))
    return events


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_sigterm_stops_a_consuming_and_producing_service_cleanly(
    kafka_bootstrap: str, unique: str
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    suffix, group = f"-{unique}", f"billing-{unique}"
    produced: list[OrderPlaced] = []
    async with App(f"orders-source-{unique}", broker=url) as source:
        orders = OrdersTopic(source, topics=f"orders{suffix}")
        await orders.declare()
        await PaymentsTopic(source, topics=f"payments{suffix}").declare()

        async def produce_until(stop: asyncio.Event) -> None:
            while not stop.is_set():
                order = _order()
                await (await orders.send(key=str(order.order_id), value=order))
                produced.append(order)
                await asyncio.sleep(0.005)

        done_producing = asyncio.Event()
        producing = asyncio.create_task(produce_until(done_producing))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SERVICE),
            "--broker",
            url,
            "--group",
            group,
            f"--suffix={suffix}",
            "--work",
            "0.002",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        lines: list[str] = []
        stderr_task = asyncio.create_task(proc.stderr.read())
        try:
            async with asyncio.timeout(90):
                while sum(1 for line in lines if line.startswith("processed")) < 100:
                    raw = await proc.stdout.readline()
                    assert raw, "the service ended early:\n" + (await stderr_task).decode()
                    lines.append(raw.decode().rstrip("\n"))
            proc.send_signal(signal.SIGTERM)  # in the middle of consuming and producing
            async with asyncio.timeout(60):
                rest = await proc.stdout.read()
                code = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            done_producing.set()
            await producing
        stderr = (await stderr_task).decode()
        lines += rest.decode().splitlines()
        assert code == 0, stderr[-3000:]
        assert "stopped (SIGTERM)" in stderr and "cleanly" in stderr, stderr[-3000:]

        processed: dict[TP, list[int]] = {}
        for line in lines:
            if match := PROCESSED.match(line):
                tp = TP(match[1], int(match[2]))
                processed.setdefault(tp, []).append(int(match[3]))
        acked = [m for line in lines if (m := ACKED.match(line))]
        assert len(produced) > sum(map(len, processed.values()))  # stopped mid-stream
        # Nothing valid skipped: each partition was processed from offset 0 without a gap.
        for offsets in processed.values():
            assert offsets == list(range(len(offsets)))

        # Everything processed is committed, nothing more.
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(group)
            got = {TP(tp.topic, tp.partition): m.offset for tp, m in committed.items()}
            assert {tp: o for tp, o in got.items() if o > 0} == {
                tp: len(offsets) for tp, offsets in processed.items()
            }

            # Everything sent was acknowledged: one payment per processed order, in the log.
            assert len(acked) == sum(map(len, processed.values()))
        finally:
            await admin.close()
        payments = await _read_all(PaymentsTopic(source, topics=f"payments{suffix}"))
    in_log = sorted(str(e.value.order_id) for e in payments)
    assert in_log == sorted(m[4] for m in acked)


async def test_request_stop_finishes_the_event_in_hand_then_commits(memory_url: str) -> None:
    app = App("svc", broker=memory_url, commit_interval=600)
    topic = app.topic("in", value_serializer="raw")
    out = app.topic("out", value_serializer="raw")
    for i in range(5):
        await topic.send(value=str(i).encode())
    handled: list[bytes] = []
    in_hand = asyncio.Event()

    async def service(app: App) -> None:
        async for event in topic:
            if event.message.offset == 2:
                in_hand.set()
                await asyncio.sleep(0.2)  # the stop arrives while this event is processed
            out.send_soon(value=event.value)
            handled.append(event.value)

    async def stopper(app: App) -> None:
        await in_hand.wait()
        app.request_stop("test")

    report = await app.run_until_stopped(service, stopper, shutdown_timeout=10)
    assert report.clean and report.exit_code == 0 and report.reason == "test", str(report)
    assert handled == [b"0", b"1", b"2"]  # the event in hand was finished, nothing after it
    broker = app.transport.broker  # type: ignore[attr-defined]
    assert broker.committed("svc", TP("in", 0)) == 3
    assert [m.value for m in broker.topics["out"].partitions[0]] == handled


async def test_the_bound_cuts_a_stuck_service_short_and_says_what_was_left(
    memory_url: str,
) -> None:
    app = App("stuck", broker=memory_url, commit_interval=600)
    topic = app.topic("in", value_serializer="raw")
    for i in range(3):
        await topic.send(value=str(i).encode())
    holding = asyncio.Event()

    async def service(app: App) -> None:
        async for event in topic:
            if event.message.offset == 1:
                holding.set()
                await asyncio.Event().wait()  # never finishes this event

    async def stopper(app: App) -> None:
        await holding.wait()
        app.request_stop("test")

    report = await app.run_until_stopped(service, stopper, shutdown_timeout=1.5)
    assert not report.clean and report.exit_code == 1
    assert "in[0]@1 (not committed)" in str(report), str(report)
    broker = app.transport.broker  # type: ignore[attr-defined]
    assert broker.committed("stuck", TP("in", 0)) == 1  # offset 0 was processed


async def test_a_failing_service_stops_the_app_and_is_reported(memory_url: str) -> None:
    app = App("failing", broker=memory_url)
    topic = app.topic("in", value_serializer="raw")
    await topic.send(value=b"x")

    async def service(app: App) -> None:
        async for _event in topic:
            raise RuntimeError("handler bug")

    async def forever(app: App) -> None:
        async for _event in app.topic("other"):
            pass

    report = await app.run_until_stopped(service, forever, shutdown_timeout=5)
    assert report.exit_code == 1 and report.reason == "a service failed"
    assert [str(e) for e in report.errors] == ["handler bug"]
    assert not app.started


def test_run_returns_the_exit_status(memory_url: str) -> None:
    app = App("sync", broker=memory_url)

    async def main(app: App) -> None:
        await app.topic("t").send(value={"n": 1})

    assert app.run(main) == 0
