"""Failover on a real three-node KRaft cluster (issue 10 item 4).

Topics have replication factor 3 and ``min.insync.replicas`` 2; the producer sends with
acks=all and idempotence. The partition leader is SIGKILLed in the middle of 50,000 keyed sends
that a consumer group reads and commits at the same time, then brought back: every
acknowledged record must be in the log exactly once, in per-key order, processed at least once,
with the group's committed offsets at the end. With two brokers down (fewer than
min.insync.replicas), sends must fail with a clear error and nothing may be reported
acknowledged that is not. The figures are printed (and listed at the end of the session).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from gen_topics import App, DeliveryError, Event, RecordMetadata
from gen_topics._partitioner import partition_for_key
from scripts.kafka_cluster import KafkaCluster
from scripts.running import RunningService
from tests.gen_topics.kafka_log import read_records
from tests.gen_topics.leaks import no_unretrieved_errors

pytestmark = [pytest.mark.kafka, pytest.mark.kafka_cluster]

KEYS = 200
PER_KEY = 250
TOTAL = KEYS * PER_KEY  # 50,000
PARTITIONS = 6
WINDOW = 2000  # deliveries outstanding at most
READY_TIMEOUT_S = 180.0


@pytest.fixture(scope="module", autouse=True)
def _nothing_unretrieved() -> Iterator[None]:
    """Abandoned clients (aborted, replaced) must leave no exception behind unretrieved."""
    with no_unretrieved_errors():
        yield


async def wait_ready(nodes: list[RunningService]) -> None:
    async with asyncio.timeout(READY_TIMEOUT_S):
        for node in nodes:
            while not await asyncio.to_thread(node.ready):
                await asyncio.sleep(0.3)


@pytest.fixture
async def cluster(kafka_cluster: KafkaCluster) -> KafkaCluster:
    """The session's cluster with every node up (one a failed test left down is restarted)."""
    for node in kafka_cluster.nodes:
        if node.process.exit_code() is not None:
            node.start_again()
    await wait_ready(kafka_cluster.nodes)
    return kafka_cluster


async def leaders(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """{partition: leader node id}, retried while the cluster is electing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(60):
            while True:
                described = await admin.describe_topics([topic])
                parts = described[0]["partitions"]
                if len(parts) == partitions and all(p["leader"] >= 0 for p in parts):
                    return {p["partition"]: p["leader"] for p in parts}
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def committed_offsets(bootstrap: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


def _value(key: int, seq: int) -> bytes:
    return f"{key}:{seq}".encode()


def _parse(value: bytes) -> tuple[int, int]:
    key, seq = value.decode().split(":")
    return int(key), int(seq)


@dataclass
class Run:
    """What the producer, the consumer and the chaos task saw, with monotonic times."""

    acked: dict[tuple[int, int], RecordMetadata] = field(default_factory=dict)
    failed: dict[tuple[int, int], BaseException] = field(default_factory=dict)
    processed: collections.Counter[tuple[int, int]] = field(default_factory=collections.Counter)
    half_acked: asyncio.Event = field(default_factory=asyncio.Event)
    victim: int | None = None
    # Sent after the kill to a partition the killed node led: they need the new leader.
    after_kill: set[tuple[int, int]] = field(default_factory=set)
    victim_partitions: frozenset[int] = frozenset()
    killed_at: float | None = None
    produced_again_at: float | None = None
    consumed_again_at: float | None = None
    back_at: float | None = None
    acked_at_kill: int = 0
    processed_at_kill: int = 0


async def _produce(topic: Any, run: Run) -> None:
    window = asyncio.Semaphore(WINDOW)
    tasks: set[asyncio.Task[None]] = set()

    async def settle(ident: tuple[int, int], delivery: Any) -> None:
        try:
            md = await delivery
        except DeliveryError as exc:
            run.failed[ident] = exc
        else:
            run.acked[ident] = md
            if len(run.acked) >= TOTAL // 2:
                run.half_acked.set()
            if run.produced_again_at is None and ident in run.after_kill:
                run.produced_again_at = time.monotonic()
        finally:
            window.release()

    for seq in range(PER_KEY):
        for key in range(KEYS):
            await window.acquire()
            key_bytes = str(key).encode()
            if (
                run.killed_at is not None
                and partition_for_key(key_bytes, PARTITIONS) in run.victim_partitions
            ):
                run.after_kill.add((key, seq))
            delivery = await topic.send(key=key_bytes, value=_value(key, seq))
            task = asyncio.ensure_future(settle((key, seq), delivery))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


async def _consume(topic: Any, run: Run) -> None:
    event: Event[bytes, bytes]
    async for event in topic:
        assert event.value is not None
        ident = _parse(event.value)
        run.processed[ident] += 1
        if run.consumed_again_at is None and ident in run.after_kill:
            run.consumed_again_at = time.monotonic()


async def _chaos(cluster: KafkaCluster, topic: str, run: Run) -> None:
    """At half the acks: SIGKILL the leader of partition 0; once the producer wrote to its
    partitions again (new leaders), start it again."""
    await run.half_acked.wait()
    led = await leaders(cluster.address, topic, PARTITIONS)
    run.victim = led[0]
    run.acked_at_kill, run.processed_at_kill = len(run.acked), sum(run.processed.values())
    node = cluster.node(run.victim)
    node.kill()
    run.killed_at = time.monotonic()
    run.victim_partitions = frozenset(p for p, leader in led.items() if leader == run.victim)
    async with asyncio.timeout(180):
        while run.produced_again_at is None and len(run.acked) + len(run.failed) < TOTAL:
            await asyncio.sleep(0.1)
    node.start_again()
    await wait_ready([node])
    run.back_at = time.monotonic()


async def test_leader_killed_mid_stream_nothing_lost_nothing_duplicated(
    cluster: KafkaCluster, report: Callable[[str], None]
) -> None:
    name = f"failover-{uuid.uuid4().hex[:8]}"
    group = f"failover-group-{uuid.uuid4().hex[:8]}"
    broker = f"kafka://{cluster.address}"
    producer_app = App(
        f"{name}-producer",
        broker=broker,
        producer_enable_idempotence=True,
        producer_linger_ms=5,
    )
    consumer_app = App(
        f"{name}-consumer", broker=broker, consumer_group_id=group, commit_interval=0.5
    )
    run = Run()
    began = time.monotonic()
    async with producer_app, consumer_app:
        topic = producer_app.topic(
            name,
            partitions=PARTITIONS,
            replicas=3,
            config={"min.insync.replicas": "2"},
            key_serializer="raw",
            value_serializer="raw",
        )
        await topic.declare()
        reader = consumer_app.topic(name, key_serializer="raw", value_serializer="raw")
        consuming = asyncio.ensure_future(_consume(reader, run))
        chaos = asyncio.ensure_future(_chaos(cluster, name, run))
        try:
            async with asyncio.timeout(240):
                await _produce(topic, run)
                await chaos
            sent_at = time.monotonic()
            async with asyncio.timeout(120):
                while not all(run.processed[i] for i in run.acked):
                    await asyncio.sleep(0.2)
            log = await read_records(cluster.address, name, PARTITIONS)
            ends = {p: (records[-1].offset + 1 if records else 0) for p, records in log.items()}
            async with asyncio.timeout(120):
                while await committed_offsets(cluster.address, group) != ends:
                    await asyncio.sleep(0.5)
            caught_up_at = time.monotonic()
        finally:
            consuming.cancel()
            chaos.cancel()
            await asyncio.gather(consuming, chaos, return_exceptions=True)

    in_log: collections.Counter[tuple[int, int]] = collections.Counter()
    order_broken: list[int] = []
    for records in log.values():
        per_key: dict[int, list[int]] = collections.defaultdict(list)
        for record in records:
            assert record.value is not None
            key, seq = _parse(record.value)
            in_log[(key, seq)] += 1
            per_key[key].append(seq)
        order_broken += [k for k, seqs in per_key.items() if seqs != sorted(seqs)]
    lost = [i for i in run.acked if not in_log[i]]
    duplicated = [i for i, n in in_log.items() if n > 1]
    stored = {(p, r.offset): r.value for p, records in log.items() for r in records}
    acked_offsets_wrong = [
        i for i, md in run.acked.items() if stored.get((md.partition, md.offset)) != _value(*i)
    ]
    redelivered = sum(n - 1 for n in run.processed.values() if n > 1)
    assert run.killed_at is not None and run.back_at is not None
    recovery = (run.produced_again_at or float("nan")) - run.killed_at
    consumer_recovery = (run.consumed_again_at or float("nan")) - run.killed_at
    report(
        f"three-node cluster, acks=all, idempotent, RF 3, min.insync.replicas 2: "
        f"{TOTAL} keyed sends over {PARTITIONS} partitions; SIGKILL of node {run.victim} "
        f"(leader of partitions {sorted(run.victim_partitions)}) at {run.acked_at_kill} acked "
        f"/ {run.processed_at_kill} processed; acked {len(run.acked)}, failed "
        f"{len(run.failed)}, lost {len(lost)}, duplicated {len(duplicated)}, per-key order "
        f"broken for {len(order_broken)} keys; time to recover: the first record sent after "
        f"the kill to the killed leader's partitions acked after {recovery:.1f} s, processed "
        f"after {consumer_recovery:.1f} s; "
        f"node back after {run.back_at - run.killed_at:.1f} s; processed "
        f"{len(run.processed)} distinct ({redelivered} redelivered); all sent "
        f"{sent_at - began:.1f} s, processed and committed {caught_up_at - began:.1f} s "
        "after the start"
    )
    assert not run.failed, list(run.failed.values())[:3]
    assert len(run.acked) == TOTAL
    assert lost == [] and duplicated == [] and acked_offsets_wrong == []
    assert sum(in_log.values()) == TOTAL, "nothing but the acked records is in the log"
    assert order_broken == []
    assert all(run.processed[i] >= 1 for i in run.acked)
    assert run.after_kill and run.produced_again_at is not None, "new leaders took writes"


async def test_two_brokers_down_sends_fail_clearly_and_no_false_ack(
    cluster: KafkaCluster, report: Callable[[str], None], caplog: pytest.LogCaptureFixture
) -> None:
    name = f"two-down-{uuid.uuid4().hex[:8]}"
    broker = f"kafka://{cluster.address}"
    settings: dict[str, Any] = {"producer_request_timeout_ms": 5000, "producer_stop_timeout": 5.0}
    idempotent = App(f"{name}-idem", broker=broker, producer_enable_idempotence=True, **settings)
    plain = App(f"{name}-plain", broker=broker, **settings)
    acked: dict[tuple[str, int], RecordMetadata] = {}
    errors: dict[tuple[str, int], BaseException] = {}
    async with idempotent, plain:
        topics = {
            label: app.topic(
                name,
                partitions=3,
                replicas=3,
                config={"min.insync.replicas": "2"},
                key_serializer="raw",
                value_serializer="raw",
            )
            for label, app in (("idempotent", idempotent), ("plain", plain))
        }
        await topics["plain"].declare()
        for label, topic in topics.items():
            for i in range(3):
                acked[(label, -1 - i)] = await (await topic.send(key=b"warm%d" % i, value=b"w"))
        led = await leaders(cluster.address, name, 3)
        victims = [led[0], next(n for n in (1, 2, 3) if n != led[0])]
        for node_id in victims:
            cluster.node(node_id).kill()
        killed_at = time.monotonic()

        async def attempt(label: str, i: int) -> None:
            try:
                value = f"{label}-{i}".encode()
                md = await (await topics[label].send(key=b"k%d" % i, value=value))
            except DeliveryError as exc:
                errors[(label, i)] = exc
            else:
                acked[(label, i)] = md

        async with asyncio.timeout(120):
            await asyncio.gather(*(attempt(label, i) for label in topics for i in range(12)))
        failed_after = time.monotonic() - killed_at
        for node_id in victims:
            cluster.node(node_id).start_again()
        await wait_ready([cluster.node(n) for n in victims])
        back_after = time.monotonic() - killed_at
        # Back to normal: both producers deliver again (the idempotent one on a new client).
        async with asyncio.timeout(120):
            for label, topic in topics.items():
                acked[(label, 100)] = await (await topic.send(key=b"after", value=b"a"))
    log = await read_records(cluster.address, name, 3)
    stored = {(p, r.offset): r.value for p, records in log.items() for r in records}
    written_anyway = sum(
        1 for (label, i), exc in errors.items() if any(v == b"%d" % i for v in stored.values())
    )
    during = [k for k in acked if k[1] >= 0 and k[1] != 100]
    report(
        f"two of three nodes down (min.insync.replicas 2): {len(errors)} of 24 sends failed "
        f"within {failed_after:.1f} s, {len(during)} acknowledged; {written_anyway} failed "
        f"sends are in the log all the same (not acknowledged, at-least-once); nodes back after "
        f"{back_after:.1f} s; first error: {next(iter(errors.values()), None)}"
    )
    assert during == [], "nothing can be acknowledged with fewer than min.insync.replicas up"
    assert len(errors) == 24
    for exc in errors.values():
        assert isinstance(exc, DeliveryError) and exc.topic == name and exc.retriable
        text = str(exc)
        assert f"record for topic {name!r} partition {exc.partition}" in text, text
        assert "check that" in text and "enough brokers are up" in text, text
    for (label, i), md in acked.items():
        value = b"w" if i < 0 else b"a"
        assert stored.get((md.partition, md.offset)) == value, (label, i, md)
    # The idempotent producer was abandoned with requests in flight: nothing of it leaks.
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
