"""The Kafka consumer's lean records (gen_topics/_transport/kafka_records.py).

They stand on aiokafka internals: these tests fail, naming what changed, when an aiokafka
release moves them; the consumer then falls back to aiokafka's own records (tested too).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.consumer.fetcher import READ_COMMITTED, FetchResult, PartitionRecords
from aiokafka.errors import CorruptRecordException
from aiokafka.record.memory_records import MemoryRecords

from gen_topics import TP, App, Event
from gen_topics._transport import kafka_records
from gen_topics._transport.kafka import KafkaConsumer
from gen_topics._transport.kafka_records import KafkaRecord
from tests.gen_topics.kafka_log import read_records

_CONSUMER_RECORD = PartitionRecords._consumer_record
_UNPACK = PartitionRecords._unpack_records
_TP = TopicPartition("lean", 2)


def _fields(record: Any) -> tuple[Any, ...]:
    return (
        record.topic,
        record.partition,
        record.offset,
        record.timestamp,
        record.timestamp_type,
        record.key,
        record.value,
        tuple(record.headers),
    )


def _partition_records(data: bytes, fetch_offset: int, isolation: int) -> Any:
    return PartitionRecords(_TP, MemoryRecords(data), [], fetch_offset, None, None, True, isolation)


def test_the_pinned_aiokafka_has_the_internals_lean_records_need() -> None:
    why = kafka_records.supported()
    assert why is None, (
        f"aiokafka's fetcher internals changed ({why}): update "
        "gen_topics/_transport/kafka_records.py (the consumer fetches aiokafka's own, slower "
        "records until then)"
    )


@pytest.mark.parametrize("isolation", [0, READ_COMMITTED], ids=["uncommitted", "committed"])
@pytest.mark.parametrize("fetch_offset", [10, 11, 13, 14, 15, 17, 18])
def test_lean_records_and_positions_equal_aiokafkas(isolation: int, fetch_offset: int) -> None:
    data = kafka_records.sample_batches()
    theirs = _partition_records(data, fetch_offset, isolation)
    ours = _partition_records(data, fetch_offset, isolation)
    checked = kafka_records._checked()
    assert not isinstance(checked, str), checked
    checked.lean(_Result(ours))
    got_theirs: list[tuple[Any, ...]] = []
    got_ours: list[tuple[Any, ...]] = []
    # One record at a time, positions compared after each (a fetch consumed part way).
    while (a := next(theirs, None)) is not None:
        b = next(ours)
        assert type(a) is ConsumerRecord and type(b) is KafkaRecord
        got_theirs.append(_fields(a))
        got_ours.append(_fields(b))
        assert ours.next_fetch_offset == theirs.next_fetch_offset
    assert next(ours, None) is None
    assert got_ours == got_theirs
    assert ours.next_fetch_offset == theirs.next_fetch_offset == 19  # past the control batch
    # The sample covers what a fetch holds: nulls, headers (a None header value too), gaps.
    # (Past 14, aiokafka's own position moves back to the end of the batch it skipped; a
    # broker starts a fetch at the batch that holds the fetch offset.)
    if fetch_offset <= 14:
        expected = [o for o in (10, 11, 12, 13, 14, 16) if o >= fetch_offset]
        assert [f[2] for f in got_ours] == expected
    if fetch_offset == 10:
        assert (None, None) in [(f[5], f[6]) for f in got_ours]
        assert (("h", b"11"), ("none", None)) in [f[7] for f in got_ours]


def test_a_corrupt_batch_raises_as_in_aiokafka() -> None:
    data = bytearray(kafka_records.sample_batches())
    data[40] ^= 0xFF  # inside the first batch's records: its CRC no longer matches
    for isolation in (0, READ_COMMITTED):
        for lean in (False, True):
            pr = _partition_records(bytes(data), 10, isolation)
            if lean:
                checked = kafka_records._checked()
                assert not isinstance(checked, str)
                checked.lean(_Result(pr))
            with pytest.raises(CorruptRecordException, match="Invalid CRC"):
                next(pr)


def test_the_self_check_notices_records_that_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = kafka_records._checked()
    assert not isinstance(checked, str)
    real = kafka_records._unpack

    def without_headers(pr: Any, corrupt: type[Exception]) -> Any:
        for record in real(pr, corrupt):
            record.headers = ()
            yield record

    monkeypatch.setattr(kafka_records, "_unpack", without_headers)
    why = kafka_records._self_check(checked)
    assert why is not None and "a record differs" in why


def test_a_result_that_cannot_be_fitted_is_kept_as_aiokafka_made_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    checked = kafka_records._checked()
    assert not isinstance(checked, str)
    internals = kafka_records._Internals()

    def broken(result: Any) -> None:
        raise AttributeError("_partition_records")

    internals.lean = broken  # type: ignore[method-assign]
    results = kafka_records._LeanResults(internals, collections.OrderedDict())
    pr = _partition_records(kafka_records.sample_batches(), 10, 0)
    result = object.__new__(FetchResult)
    result._partition_records = pr
    with caplog.at_level(logging.WARNING, logger="gen_topics._transport.kafka_records"):
        results[_TP] = result  # what aiokafka's fetch routine does: it must not raise
    assert results[_TP] is result
    assert type(next(pr)) is ConsumerRecord
    assert any("fitting a fetched result" in r.getMessage() for r in caplog.records)


def test_nothing_of_aiokafkas_classes_is_changed() -> None:
    # Lean records are per fetcher instance; other aiokafka consumers get ConsumerRecord.
    assert PartitionRecords._consumer_record is _CONSUMER_RECORD
    assert PartitionRecords._unpack_records is _UNPACK
    assert "__setitem__" not in vars(FetchResult)


class _Result:
    """Stands for a FetchResult."""

    def __init__(self, pr: Any) -> None:
        self._partition_records = pr


# -- on the real broker --------------------------------------------------------------------


async def _produce(app: App, name: str) -> None:
    topic = app.topic(name, partitions=2, key_serializer="raw", value_serializer="raw")
    await topic.declare()
    for i in range(30):
        await (
            await topic.send(
                key=None if i % 5 == 2 else f"k{i}".encode(),
                value=None if i % 5 == 0 else f"v{i}".encode(),
                partition=i % 2,
                timestamp=1_700_000_000 + i,
                headers=[("n", str(i).encode()), ("n", b"again")] if i % 3 == 0 else None,
            )
        )


async def _read_all(app: App, name: str, count: int) -> list[Event[Any, Any]]:
    topic = app.topic(name, key_serializer="raw", value_serializer="raw")
    events: list[Event[Any, Any]] = []
    async with asyncio.timeout(60):
        async for batch in topic.take(100, within=0.5):
            events.extend(batch)
            if len(events) >= count:
                break
    for e in events:
        e.ack()  # the last batch too (reading on would ack it)
    return events


def _as_read(events: list[Event[Any, Any]]) -> dict[int, list[tuple[Any, ...]]]:
    out: dict[int, list[tuple[Any, ...]]] = {0: [], 1: []}
    for e in events:
        m = e.message
        assert (e.key, e.value) == (m.key, m.value)
        assert e.headers == dict(m.headers)
        out[m.partition].append((m.offset, m.timestamp, m.key, m.value, m.headers))
    return out


def _as_logged(records: dict[int, list[ConsumerRecord[bytes, bytes]]]) -> dict[int, Any]:
    return {
        p: [(r.offset, r.timestamp / 1000.0, r.key, r.value, list(r.headers)) for r in rs]
        for p, rs in records.items()
    }


@pytest.mark.kafka
async def test_our_consumer_reads_lean_records_that_say_what_aiokafka_says(
    kafka_bootstrap: str,
) -> None:
    name = f"lean-{uuid.uuid4().hex[:10]}"
    async with App(f"lean-g-{name}", broker=f"kafka://{kafka_bootstrap}") as app:
        await _produce(app, name)
        events = await _read_all(app, name, 30)
        consumer = app.conductor.consumer
        assert isinstance(consumer, KafkaConsumer) and consumer.lean_records
        assert all(type(e._record) is KafkaRecord for e in events)
        # A plain aiokafka consumer in the same process, while ours runs: aiokafka's records.
        logged = await read_records(kafka_bootstrap, name, 2)
        assert all(type(r) is ConsumerRecord for rs in logged.values() for r in rs)
        assert _as_read(events) == _as_logged(logged)
        committed = await app.conductor.commit()
    assert committed == {TP(name, 0): 15, TP(name, 1): 15}


@pytest.mark.kafka
async def test_read_committed_skips_aborted_records_with_lean_records(
    kafka_bootstrap: str,
) -> None:
    name = f"lean-txn-{uuid.uuid4().hex[:10]}"
    async with App(f"lean-txn-admin-{name}", broker=f"kafka://{kafka_bootstrap}") as admin:
        await admin.topic(name, partitions=1).declare()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=f"lean-{uuid.uuid4().hex[:8]}"
    )
    await producer.start()
    try:
        for i, commit in enumerate((True, False, True)):
            await producer.begin_transaction()
            for j in range(3):
                await producer.send_and_wait(name, f"{i}-{j}".encode(), partition=0)
            if commit:
                await producer.commit_transaction()
            else:
                await producer.abort_transaction()
    finally:
        await producer.stop()
    async with App(
        f"lean-txn-g-{name}",
        broker=f"kafka://{kafka_bootstrap}",
        consumer_isolation_level="read_committed",
    ) as app:
        events = await _read_all(app, name, 6)
        assert [e.value for e in events] == [f"{i}-{j}".encode() for i in (0, 2) for j in range(3)]
        assert all(type(e._record) is KafkaRecord for e in events)
        # Offsets 3, 7 and 11 are the markers, 4-6 the aborted records: the commit goes one
        # past the last record read (a restart skips the marker at 11 again).
        assert await app.conductor.commit() == {TP(name, 0): 11}


@pytest.mark.kafka
async def test_the_consumer_falls_back_to_aiokafkas_records(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kafka_records._warn_once.cache_clear()
    monkeypatch.setattr(kafka_records, "_checked", lambda: "internals moved (test)")
    name = f"lean-off-{uuid.uuid4().hex[:10]}"
    with caplog.at_level(logging.WARNING, logger="gen_topics._transport.kafka_records"):
        async with App(f"lean-off-g-{name}", broker=f"kafka://{kafka_bootstrap}") as app:
            await _produce(app, name)
            events = await _read_all(app, name, 30)
            consumer = app.conductor.consumer
            assert isinstance(consumer, KafkaConsumer) and not consumer.lean_records
            assert all(type(e._record) is ConsumerRecord for e in events)
            assert _as_read(events) == _as_logged(await read_records(kafka_bootstrap, name, 2))
            assert await app.conductor.commit() == {TP(name, 0): 15, TP(name, 1): 15}
    kafka_records._warn_once.cache_clear()
    assert [r.getMessage() for r in caplog.records if "internals moved (test)" in r.getMessage()]
