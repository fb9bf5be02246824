"""Queueing a record on an aiokafka producer without going through its ``send`` coroutine.

aiokafka's ``send`` is three coroutines deep (``send``, the client's ``_wait_on_metadata``,
the accumulator's ``add_message``), yet when the topic's metadata is known and the
partition's last batch has room none of them waits: they check, serialize, partition and
append. ``Topic.send`` adds its own coroutine on top, so sending through aiokafka's ``send``
costs gen-topics a frame more than calling aiokafka directly. :func:`queue_function` does the
same steps synchronously, with aiokafka's own pieces: the size estimate ``_serialize`` checks
against ``max_request_size``, the producer's partitioner (murmur2, like Java's) over the
partition lists ``_partition`` gives it, and batches created through the accumulator's
``_append_batch`` (so the delivery hook of ``kafka_delivery`` and a transaction's partition
registration apply). Whenever anything would make ``send`` wait or raise (no metadata yet, a
record over ``max_request_size``, an unknown partition, a full batch, a closed or failed
accumulator, a transactional producer outside a transaction, neither key nor value) it
returns ``None`` before queueing anything, and the caller awaits aiokafka's ``send``, which
then does and raises exactly what it always did. The only step left out is ``send``'s
``log.debug`` line per record.

Only installed when aiokafka's ``send`` and ``add_message`` look as expected (aiokafka 0.14,
pinned in pyproject.toml); otherwise the producer has no queue function and every record goes
through ``send``.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.producer import producer as aiokafka_producer
from aiokafka.producer.message_accumulator import MessageAccumulator
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import TopicPartition

from gen_topics._messages import Headers
from gen_topics._transport.base import QueueFn

__all__ = ["queue_function"]

# What aiokafka 0.14's send and add_message do, by the names they use: a change there (an
# upgrade) turns the fast path off instead of letting it skip a new step.
_SEND_NAMES = frozenset(
    {
        "client",
        "_wait_on_metadata",
        "_txn_manager",
        "transactional_id",
        "is_in_transaction",
        "_serialize",
        "_partition",
        "_message_accumulator",
        "add_message",
        "_request_timeout_ms",
    }
)
_ADD_NAMES = frozenset(
    {"_closed", "_exception", "_batches", "create_builder", "_append_batch", "append"}
)
_SERIALIZE_NAMES = frozenset(
    {"_key_serializer", "_value_serializer", "estimate_size_in_bytes", "_max_request_size"}
)
_PARTITION_NAMES = frozenset(
    {"partitions_for_topic", "available_partitions_for_topic", "_partitioner"}
)


def _looks_known(producer: AIOKafkaProducer) -> bool:
    send = AIOKafkaProducer.send.__code__
    add = MessageAccumulator.add_message.__code__
    return (
        set(send.co_names) >= _SEND_NAMES
        and set(add.co_names) >= _ADD_NAMES
        and set(AIOKafkaProducer._serialize.__code__.co_names) >= _SERIALIZE_NAMES
        and set(AIOKafkaProducer._partition.__code__.co_names) >= _PARTITION_NAMES
        and getattr(aiokafka_producer, "DefaultRecordBatchBuilder", None)
        is DefaultRecordBatchBuilder
        and isinstance(getattr(producer, "_max_request_size", None), int)
        and isinstance(getattr(producer, "_message_accumulator", None), MessageAccumulator)
        and getattr(producer, "_metadata", None) is getattr(producer.client, "cluster", ())
        and getattr(producer, "_key_serializer", 1) is None
        and getattr(producer, "_value_serializer", 1) is None
    )


def queue_function(producer: AIOKafkaProducer) -> QueueFn | None:
    """The synchronous fast path into ``producer``'s accumulator, or ``None`` when aiokafka's
    internals are not the ones this was written for."""
    if not _looks_known(producer):
        return None
    metadata = producer._metadata
    accumulator = producer._message_accumulator
    batches = accumulator._batches
    txn = producer._txn_manager
    transactional = txn is not None and txn.transactional_id is not None
    estimate_size = DefaultRecordBatchBuilder.estimate_size_in_bytes
    max_request_size = producer._max_request_size
    partitioner = producer._partitioner

    def queue(
        topic: str,
        value: bytes | None,
        key: bytes | None,
        partition: int | None,
        timestamp_ms: int | None,
        headers: Headers | None,
    ) -> Any:
        partitions = metadata.partitions_for_topic(topic)
        if (
            (value is None and key is None)
            or partitions is None
            or accumulator._closed
            or accumulator._exception is not None
            or (transactional and not txn.is_in_transaction())
        ):
            return None
        record_headers = headers or []
        if estimate_size(key, value, record_headers) > max_request_size:
            return None  # send raises its MessageSizeTooLargeError
        if partition is None:
            partition = partitioner(
                key, list(partitions), list(metadata.available_partitions_for_topic(topic))
            )
        elif partition < 0 or partition not in partitions:
            return None  # send fails its own check
        tp = TopicPartition(topic, partition)
        pending = batches.get(tp)
        if pending:
            batch = pending[-1]
        else:
            batch = accumulator._append_batch(accumulator.create_builder(), tp)
        # None when the batch is full: send then wakes the sender and waits for room.
        return batch.append(key, value, timestamp_ms, headers=record_headers)

    return queue
