"""How a record's delivery reaches the caller of ``send`` on the ``kafka://`` transport.

aiokafka resolves one future per record with its own ``RecordMetadata``, or with its own
error. gen-topics promises its :class:`RecordMetadata` and a :class:`DeliveryError` that says
where the record was going. Converting on each ``await`` costs a wrapper object and a
generator per record, about a tenth of the whole send. Instead, each producer's batches
resolve their futures with our types in the first place: aiokafka's ``MessageBatch`` takes the
metadata class as an argument, and its ``done``/``done_noack``/``failure`` are the only places
those futures are resolved. The hook is per producer instance (never a class-wide patch:
other aiokafka clients may share the process), and is installed only when aiokafka's
internals look as expected (aiokafka 0.14, pinned in pyproject.toml). Otherwise the wrapper
(:class:`ConvertingDelivery`) does the same work per record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, ClassVar, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.producer.message_accumulator import MessageAccumulator, MessageBatch

from gen_topics._messages import TP, RecordMetadata
from gen_topics._transport.base import passthrough
from gen_topics.errors import DeliveryError

__all__ = ["ConvertingDelivery", "ErrorFactory", "install_batch_hook", "passthrough"]

_monotonic = time.monotonic
_new_metadata = tuple.__new__


class ErrorFactory(Protocol):
    """Builds the :class:`DeliveryError` for a record that was not acknowledged."""

    def __call__(
        self,
        exc: BaseException,
        topic: str,
        partition: int | None,
        key: bytes | None,
        elapsed: float,
    ) -> DeliveryError: ...


def _no_ack_metadata(topic: str) -> RecordMetadata:
    # acks=0: the broker reports nothing, so there is no partition or offset to give.
    return RecordMetadata(topic, -1, TP(topic, -1), -1)


class _OwnedBatch(MessageBatch):  # type: ignore[misc]  # aiokafka is untyped
    """aiokafka's batch, resolving its records' futures with gen-topics' types."""

    _error: ClassVar[ErrorFactory]

    def done(
        self,
        base_offset: int,
        timestamp: int | None = None,
        log_start_offset: int | None = None,
        _record_metadata_class: Any = None,
    ) -> None:
        # aiokafka's done, with our RecordMetadata built as the tuple it is (its generated
        # __new__ is one more Python call per record, about 0.2 us here), and each record's
        # own CreateTime: aiokafka reports the batch's first one for all of them.
        tp = self._tp
        topic = tp.topic
        partition = tp.partition
        create_time = timestamp == -1  # the broker keeps the producer's timestamps
        timestamp_type = 0 if create_time else 1
        if not self.future.done():
            self.future.set_result(
                _new_metadata(
                    RecordMetadata,
                    (
                        topic,
                        partition,
                        tp,
                        base_offset,
                        timestamp,
                        timestamp_type,
                        log_start_offset,
                    ),
                )
            )
        for future, record in self._msg_futures:
            if future.done():
                continue
            future.set_result(
                _new_metadata(
                    RecordMetadata,
                    (
                        topic,
                        partition,
                        tp,
                        base_offset + record.offset,
                        record.timestamp if create_time else timestamp,
                        timestamp_type,
                        log_start_offset,
                    ),
                )
            )

    def done_noack(self) -> None:
        if not self.future.done():
            self.future.set_result(None)
        metadata = _no_ack_metadata(self._tp.topic)
        for future, _ in self._msg_futures:
            if not future.done():
                future.set_result(metadata)

    def failure(self, exception: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exception)
        tp = self._tp
        elapsed = _monotonic() - self._ctime
        for future, _ in self._msg_futures:
            if future.done():
                continue
            # One error per record: a shared one would collect every awaiter's traceback.
            error = self._error(exception, tp.topic, tp.partition, None, elapsed)
            error.__cause__ = exception
            future.set_exception(error)
        if self._msg_futures:
            # Each record's future carries the error; the batch's own is aiokafka's business.
            self.future.exception()


def install_batch_hook(producer: AIOKafkaProducer, error: ErrorFactory) -> bool:
    """Make ``producer``'s batches resolve with gen-topics' types; False when aiokafka's
    internals are not the ones this was written for (then use :class:`ConvertingDelivery`)."""
    accumulator = getattr(producer, "_message_accumulator", None)
    if not isinstance(accumulator, MessageAccumulator) or not _batch_looks_known():
        return False
    batch_class = type("_OwnedBatch", (_OwnedBatch,), {"_error": staticmethod(error)})
    append_batch: Callable[[Any, Any], Any] = accumulator._append_batch

    def append_owned_batch(builder: Any, tp: Any) -> Any:
        batch = append_batch(builder, tp)
        # Once per batch, not per record; retries re-enqueue the same object.
        batch.__class__ = batch_class
        return batch

    accumulator._append_batch = append_owned_batch
    return True


def _batch_looks_known() -> bool:
    probe = MessageBatch.__init__.__code__.co_names
    return (
        "_msg_futures" in probe
        and "_ctime" in probe
        and "_tp" in probe
        and "_record_metadata_class" in MessageBatch.done.__code__.co_varnames
        # done's (future, record metadata) pairs and what it reads of them.
        and {"_msg_futures", "offset", "timestamp"} <= set(MessageBatch.done.__code__.co_names)
        and not hasattr(MessageBatch, "__slots__")
    )


class ConvertingDelivery:
    """Awaits aiokafka's delivery future and converts its metadata or error (the fallback
    when :func:`install_batch_hook` could not be installed).

    ``_error`` is set on a subclass made per producer, so the per-record object carries no
    extra reference.
    """

    __slots__ = ("_fut", "_key", "_partition", "_started", "_topic")
    _error: ClassVar[ErrorFactory]

    def __init__(self, fut: Any, topic: str, partition: int | None, key: bytes | None) -> None:
        self._fut = fut
        self._topic = topic
        self._partition = partition
        self._key = key
        self._started = _monotonic()

    def __await__(self) -> Generator[Any, None, RecordMetadata]:
        try:
            md = yield from self._fut
        except KafkaError as exc:
            raise self._error(
                exc, self._topic, self._partition, self._key, _monotonic() - self._started
            ) from exc
        if md is None:
            return _no_ack_metadata(self._topic)
        return _new_metadata(RecordMetadata, md)
