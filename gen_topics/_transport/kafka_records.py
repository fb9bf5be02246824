"""Lean fetched records for the Kafka transport's consumer.

aiokafka turns every fetched record into a ``ConsumerRecord`` dataclass (``_consumer_record``
of its ``PartitionRecords``), through a generator and a method call per record: about 0.5 us a
record, more than the rest of gen-topics' consume path. Our consumer needs none of what that
adds (deserializers, serialized sizes, the checksum), so it builds a :class:`KafkaRecord`, a
slotted object with the fields a reader reads, in one loop over each fetched batch.

Only the fetcher of our own consumer is changed, per instance: :func:`install` swaps that
fetcher's dict of fetched results for one that fits each new result with our loop as it is
stored. aiokafka's classes are left alone, so any other aiokafka consumer in the process (a
user's, a benchmark's peer) still gets aiokafka's records.

This leans on aiokafka internals (``Fetcher._records``, ``FetchResult._partition_records``,
``PartitionRecords._records_iterator`` / ``_consumer_record`` and the fields they read; aiokafka
0.14, pinned in pyproject.toml). :func:`supported` checks them once per process, and compares
our records and positions with aiokafka's own on sample batches; if anything differs the
consumer keeps aiokafka's records (slower, same behaviour) and says so in the log.
tests/gen_topics/test_kafka_records.py fails when those internals change.
"""

from __future__ import annotations

import collections
import functools
import logging
import struct
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["KafkaRecord", "install", "supported"]

log = logging.getLogger(__name__)

_new = object.__new__


class KafkaRecord:
    """A record as the Kafka transport's consumer fetched it (aiokafka's ``ConsumerRecord``
    fields that gen-topics reads; raw key and value; ``timestamp`` in ms)."""

    __slots__ = (
        "headers",
        "key",
        "offset",
        "partition",
        "timestamp",
        "timestamp_type",
        "topic",
        "value",
    )

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]

    def __repr__(self) -> str:
        return (
            f"KafkaRecord(topic={self.topic!r}, partition={self.partition}, "
            f"offset={self.offset}, timestamp={self.timestamp}, key={self.key!r:.40}, "
            f"value={self.value!r:.60}, headers={list(self.headers)!r:.60})"
        )


def _record_of(tp: Any, record: Any) -> KafkaRecord:
    """``PartitionRecords._consumer_record``'s stand-in (read_committed, where aiokafka's own
    loop skips aborted transactions)."""
    rec: KafkaRecord = _new(KafkaRecord)
    rec.topic = tp.topic
    rec.partition = tp.partition
    rec.offset = record.offset
    rec.timestamp = record.timestamp
    rec.timestamp_type = record.timestamp_type
    rec.key = record.key
    rec.value = record.value
    rec.headers = record.headers or ()
    return rec


def _unpack(pr: Any, corrupt: type[Exception]) -> Iterator[KafkaRecord]:
    """``PartitionRecords._unpack_records`` for read_uncommitted, building KafkaRecords inline.

    The same steps as aiokafka's: CRC check per batch, control batches skipped, records
    before the fetch offset skipped (a fetch starting inside a batch), ``next_fetch_offset``
    moved past each record handed out and to the batch's end after it.
    """
    tp = pr._tp
    topic = tp.topic
    partition = tp.partition
    records = pr._records
    check_crcs = pr._check_crcs
    new = _new
    cls = KafkaRecord
    while records.has_next():
        batch = records.next_batch()
        if check_crcs and not batch.validate_crc():
            raise corrupt(f"Invalid CRC - {tp}")
        if batch.is_control_batch:
            pr.next_fetch_offset = batch.next_offset
            continue
        first = pr.next_fetch_offset
        for record in batch:
            offset = record.offset
            if offset < first:
                continue
            rec = new(cls)
            rec.topic = topic
            rec.partition = partition
            rec.offset = offset
            rec.timestamp = record.timestamp
            rec.timestamp_type = record.timestamp_type
            rec.key = record.key
            rec.value = record.value
            rec.headers = record.headers or ()
            pr.next_fetch_offset = offset + 1
            yield rec
        pr.next_fetch_offset = batch.next_offset


class _Internals:
    """The aiokafka names this module uses, looked up once."""

    def __init__(self) -> None:
        import aiokafka
        from aiokafka.consumer import fetcher
        from aiokafka.errors import CorruptRecordException

        self.version: str = aiokafka.__version__
        self.fetch_result: Any = fetcher.FetchResult
        self.partition_records: Any = fetcher.PartitionRecords
        self.read_committed: int = fetcher.READ_COMMITTED
        self.corrupt: type[Exception] = CorruptRecordException

    def lean(self, result: Any) -> None:
        """Make a just-fetched ``FetchResult`` hand out KafkaRecords (before it hands any)."""
        pr: Any = getattr(result, "_partition_records", None)
        if (
            type(pr) is not self.partition_records
            or pr._key_deserializer is not None
            or pr._value_deserializer is not None
        ):
            return
        if pr._isolation_level == self.read_committed:
            pr._consumer_record = _record_of
        else:
            pr._records_iterator = _unpack(pr, self.corrupt)


class _LeanResults(collections.OrderedDict[Any, Any]):
    """A fetcher's dict of fetched results that fits each new ``FetchResult`` as stored."""

    def __init__(self, internals: _Internals, results: collections.OrderedDict[Any, Any]) -> None:
        super().__init__(results)
        self._internals = internals

    def __setitem__(self, tp: Any, result: Any) -> None:
        internals = self._internals
        if type(result) is internals.fetch_result:
            try:
                internals.lean(result)
            except Exception as exc:  # never break aiokafka's fetch routine: keep its records
                _warn_once(f"fitting a fetched result of {tp} failed: {exc!r}")
        super().__setitem__(tp, result)


def supported() -> str | None:
    """None when lean records work with the installed aiokafka, else why not (checked once:
    the internals exist, and our records and positions equal aiokafka's on sample batches)."""
    checked = _checked()
    return checked if isinstance(checked, str) else None


@functools.cache
def _checked() -> _Internals | str:
    try:
        internals = _Internals()
    except (ImportError, AttributeError) as exc:
        return f"aiokafka's fetcher internals are not there: {exc!r}"
    if not internals.version.startswith("0.14."):
        return f"aiokafka {internals.version} is not the 0.14 these internals were checked with"
    try:
        why = _self_check(internals)
    except Exception as exc:
        return f"the sample comparison with aiokafka's records failed: {exc!r}"
    return internals if why is None else why


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


def sample_batches() -> bytes:
    """Record batches as a fetch returns them: offsets 10-13, then 14 and 16 of a batch that
    ends at 17 (compaction removed 15 and 17), with null keys and values and headers; then a
    control batch (a commit marker, offset 18)."""
    from aiokafka.record.default_records import DefaultRecordBatchBuilder
    from aiokafka.record.util import calc_crc32c

    out = b""
    for base, offsets in ((10, (0, 1, 2, 3)), (14, (0, 2))):
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        for delta in offsets:
            n = base + delta
            builder.append(
                delta,
                timestamp=1_700_000_000_000 + n,
                key=None if n % 3 == 0 else f"k{n}".encode(),
                value=None if n % 4 == 0 else f"v{n}".encode(),
                headers=[("h", f"{n}".encode()), ("none", None)] if n % 2 else [],
            )
        batch = bytearray(builder.build())
        struct.pack_into(">q", batch, 0, base)
        if base == 14:
            struct.pack_into(">i", batch, 23, 3)  # last offset delta: a compacted-away tail
            struct.pack_into(">I", batch, 17, calc_crc32c(bytes(batch[21:])))
        out += bytes(batch)
    # A commit marker: a transactional control batch (attributes bits 4 and 5).
    builder = DefaultRecordBatchBuilder(2, 0, 1, 7, 0, -1, 1 << 20)
    builder.append(0, timestamp=1_700_000_000_018, key=b"\x00\x00\x00\x01", value=b"", headers=[])
    control = bytearray(builder.build())
    struct.pack_into(">q", control, 0, 18)
    struct.pack_into(">h", control, 21, struct.unpack_from(">h", control, 21)[0] | 0x20)
    struct.pack_into(">I", control, 17, calc_crc32c(bytes(control[21:])))
    return out + bytes(control)


def _self_check(internals: _Internals) -> str | None:
    from aiokafka.record.memory_records import MemoryRecords
    from aiokafka.structs import TopicPartition

    data = sample_batches()
    tp = TopicPartition("gen-topics-check", 3)
    for isolation in (0, internals.read_committed):
        for fetch_offset in (10, 12):
            theirs = internals.partition_records(
                tp, MemoryRecords(data), [], fetch_offset, None, None, True, isolation
            )
            ours = internals.partition_records(
                tp, MemoryRecords(data), [], fetch_offset, None, None, True, isolation
            )
            internals.lean(_Holder(ours))
            while True:
                a = next(theirs, None)
                b = next(ours, None)
                if a is None or b is None:
                    if a is not b:
                        return "aiokafka's records and ours differ in number"
                    break
                if type(b) is not KafkaRecord or _fields(a) != _fields(b):
                    return f"a record differs: aiokafka {_fields(a)} vs ours {_fields(b)!r}"
                if theirs.next_fetch_offset != ours.next_fetch_offset:
                    return "the fetch positions differ"
            if theirs.next_fetch_offset != ours.next_fetch_offset:
                return "the fetch positions at the end differ"
    return None


class _Holder:
    """Stands for a ``FetchResult`` in the self-check."""

    def __init__(self, pr: Any) -> None:
        self._partition_records = pr


def install(consumer: Any) -> bool:
    """Make ``consumer`` (a started ``AIOKafkaConsumer``) fetch :class:`KafkaRecord` objects;
    False when the installed aiokafka does not allow it (it then fetches aiokafka's own)."""
    checked = _checked()
    results = getattr(getattr(consumer, "_fetcher", None), "_records", None)
    if isinstance(checked, str):
        why = checked
    elif type(results) is not collections.OrderedDict:
        why = f"aiokafka's fetcher keeps its results in {type(results).__name__}, not a dict"
    else:
        consumer._fetcher._records = _LeanResults(checked, results)
        return True
    _warn_once(why)
    return False


@functools.cache
def _warn_once(why: str) -> None:
    log.warning(
        "the Kafka consumer fetches aiokafka's own records (slower, same behaviour): %s", why
    )
