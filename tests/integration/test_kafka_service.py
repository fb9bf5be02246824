"""The real Kafka broker the test services start: topics, config, keyed records, groups, commits.

Uses aiokafka directly (not gen-topics' runtime) so these tests check the service itself.
The last tests check how the service tooling fails (no hang, a clear message).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import TopicPartition

from scripts import kafka_service
from scripts.artifacts import kafka_libs
from scripts.errors import FetchError, ServiceStartError, ToolMissingError
from scripts.java import find_java
from scripts.kafka_probe import metadata_brokers
from scripts.process import ServiceProcess
from tests.integration.port_squatting import first_port_taken

RETENTION_MS = "123456789"
CLEANUP_POLICY = "compact"
KEYS = [f"customer-{n}" for n in range(8)]
PER_KEY = 3


def _topic_config(response: object, topic: str) -> dict[str, str]:
    resources = response.resources  # type: ignore[attr-defined]
    assert len(resources) == 1
    error_code, _message, _type, name, entries = resources[0]
    assert (error_code, name) == (0, topic)
    return {entry[0]: entry[1] for entry in entries}


async def _consume(consumer: AIOKafkaConsumer, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    records: list[ConsumerRecord[bytes, bytes]] = []
    async with asyncio.timeout(60):
        while len(records) < count:
            batches = await consumer.getmany(timeout_ms=1000)
            for batch in batches.values():
                records.extend(batch)
    return records


@pytest.mark.kafka
async def test_metadata_probe_lists_the_broker(kafka_bootstrap: str) -> None:
    host, port = kafka_bootstrap.rsplit(":", 1)
    brokers = metadata_brokers(host, int(port))
    assert brokers, "a live cluster lists at least one broker"
    assert all(broker.port > 0 and broker.host for broker in brokers)


@pytest.mark.kafka
async def test_topic_config_keyed_records_headers_group_commit(kafka_bootstrap: str) -> None:
    topic = f"svc-orders-{uuid.uuid4().hex[:8]}"
    group = f"svc-group-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        created = await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=3,
                    replication_factor=1,
                    topic_configs={"retention.ms": RETENTION_MS, "cleanup.policy": CLEANUP_POLICY},
                )
            ]
        )
        assert [(t[0], t[1]) for t in created.topic_errors] == [(topic, 0)]
        described = await admin.describe_topics([topic])
        assert sorted(p["partition"] for p in described[0]["partitions"]) == [0, 1, 2]
        config_responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        config = _topic_config(config_responses[0], topic)
        assert config["retention.ms"] == RETENTION_MS
        assert config["cleanup.policy"] == CLEANUP_POLICY

        sent_partition: dict[str, set[int]] = defaultdict(set)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for n in range(PER_KEY):
                for key in KEYS:
                    meta = await producer.send_and_wait(
                        topic,
                        key=key.encode(),
                        value=f"{key}#{n}".encode(),
                        headers=[("seq", str(n).encode()), ("origin", b"svc-test")],
                    )
                    sent_partition[key].add(meta.partition)
        finally:
            await producer.stop()
        # The default partitioner hashes the key: one partition per key; 8 keys use >1 partition.
        assert all(len(parts) == 1 for parts in sent_partition.values())
        assert len({next(iter(parts)) for parts in sent_partition.values()}) > 1

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            records = await _consume(consumer, len(KEYS) * PER_KEY)
            await consumer.commit()
            partitions = consumer.assignment()
            end_offsets = await consumer.end_offsets(list(partitions))
        finally:
            await consumer.stop()

        assert len(records) == len(KEYS) * PER_KEY
        by_key: dict[str, list[ConsumerRecord[bytes, bytes]]] = defaultdict(list)
        for record in records:
            assert record.key is not None and record.value is not None
            by_key[record.key.decode()].append(record)
        assert sorted(by_key) == sorted(KEYS)
        for key, key_records in by_key.items():
            assert {r.partition for r in key_records} == sent_partition[key]
            # Within a partition the broker keeps send order.
            assert [r.value for r in key_records] == [f"{key}#{n}".encode() for n in range(PER_KEY)]
            assert [list(r.headers) for r in key_records] == [
                [("seq", str(n).encode()), ("origin", b"svc-test")] for n in range(PER_KEY)
            ]

        committed = await admin.list_consumer_group_offsets(group)
        assert {tp: meta.offset for tp, meta in committed.items()} == end_offsets
        assert sum(end_offsets.values()) == len(KEYS) * PER_KEY
        assert {tp.partition for tp in committed} == {0, 1, 2}
    finally:
        await admin.delete_topics([topic])
        await admin.close()


@pytest.mark.kafka
async def test_group_resumes_from_committed_offsets(kafka_bootstrap: str) -> None:
    topic = f"svc-resume-{uuid.uuid4().hex[:8]}"
    group = f"svc-resume-group-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for n in range(4):
            await producer.send_and_wait(topic, value=f"first-{n}".encode(), partition=0)
    finally:
        await producer.stop()

    first = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    first.subscribe([topic])
    await first.start()
    try:
        await _consume(first, 4)
        await first.commit({TopicPartition(topic, 0): 2})  # only the first two were processed
    finally:
        await first.stop()

    second = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await second.start()
    try:
        again = await _consume(second, 2)
    finally:
        await second.stop()
    assert [r.value for r in again] == [b"first-2", b"first-3"]


# --- how the tooling fails: fast, with a message that says what and where --------------------


def test_process_that_exits_early_reports_code_and_log_tail(tmp_path: Path) -> None:
    process = ServiceProcess(
        "broken-service",
        ["sh", "-c", "echo 'java.net.BindException: Address already in use'; exit 3"],
        cwd=tmp_path,
        log_path=tmp_path / "service.log",
    )
    process.start()
    with pytest.raises(ServiceStartError) as info:
        process.wait_ready(lambda: False, timeout=30, what="answering")
    message = str(info.value)
    assert "broken-service exited with code 3" in message
    assert "Address already in use" in message


def test_process_that_never_answers_is_stopped_at_timeout(tmp_path: Path) -> None:
    process = ServiceProcess(
        "silent-service", ["sleep", "60"], cwd=tmp_path, log_path=tmp_path / "service.log"
    )
    process.start()
    with pytest.raises(ServiceStartError, match=r"did not become ready \(probing\) within 1s"):
        process.wait_ready(lambda: False, timeout=1, what="probing")
    assert process.exit_code() is not None, "the process must be stopped, not left running"


def test_missing_java_names_the_need_and_what_was_found() -> None:
    with pytest.raises(ToolMissingError, match="needs Java 99 or newer") as info:
        find_java(99, purpose="A future service")
    assert "A future service" in str(info.value)


def test_maven_failure_is_reported_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEN_TOPICS_CACHE", str(tmp_path))
    with pytest.raises(
        FetchError, match=r"Maven failed \(exit \d+\) fetching Apache Kafka 0\.0\.0"
    ):
        kafka_libs("0.0.0-does-not-exist")
    assert not (tmp_path / "kafka-0.0.0-does-not-exist").exists(), "no half-filled cache entry"


@pytest.mark.kafka
def test_kafka_start_survives_a_taken_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process binds the picked port first: the start retries on new ports."""
    with first_port_taken(monkeypatch, kafka_service) as (taken, attempts):
        service = kafka_service.start_kafka()
        try:
            host, port = service.address.rsplit(":", 1)
            assert int(port) != taken
            assert metadata_brokers(host, int(port))
        finally:
            service.stop()
    assert len(attempts) == 2, "the first attempt must fail on the taken port, the second start"
    assert not any(workdir.exists() for workdir in attempts), "every attempt's temp dir is removed"
