"""Reading: iteration and batches, decoding, decode-error policies, acks, seeking.

The app's consumer hands each fetched partition batch to the readers that want it as one
segment (no per-record queue operation); a reader decodes a record when it is read, so a
record that waits for a transient failure (the registry down) holds up only its own reader.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import types
import typing
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal, Self, TypeVar, cast, overload

from gen_topics._decode_policy import (
    SkipLog,
    dead_letter,
    dead_letter_name,
    plausible_registry_frame,
)
from gen_topics._events import Event, Source, new_event
from gen_topics._log_fields import record_fields
from gen_topics._messages import TP, Message
from gen_topics._offsets import Chunk
from gen_topics._topic_core import TopicCore
from gen_topics._transport.base import FetchedRecord
from gen_topics.codecs import Codec, PreparedCodec, RawCodec, SchemaCodec
from gen_topics.errors import DeadLetterError, DecodeError, SeekError, TransientDecodeError

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["TopicReading"]

log = logging.getLogger("gen_topics.consumer")

# Backoff between attempts to decode a record that failed for a transient reason.
_RETRY_FIRST = 0.2
_RETRY_MAX = 5.0

_new = object.__new__


class _Failure:
    """An error queued for the reader (the consumer crashed, or ``throw()``)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Failed(Exception):
    """Raised by a record builder: ``field`` did not decode (``cause`` says why)."""

    def __init__(self, field: str, cause: BaseException | None) -> None:
        super().__init__(field)
        self.field = field
        self.cause = cause


class _NeedsAsync(Exception):
    """Raised by a record builder: a codec must fetch something first (``decode_async``)."""


# A builder turns the record at ``index`` of the current segment into an event (or raises
# _Failed / _NeedsAsync / TransientDecodeError).
_Builder = Callable[[FetchedRecord, int], Event[Any, Any]]
# A bulk builder turns records ``start`` .. ``stop - 1`` of a segment into events.
_BulkBuilder = Callable[[Sequence[FetchedRecord], int, int], list[Any]]


def _admits_none(tp: Any) -> bool | None:
    """Whether values of the annotation ``tp`` may be None; None when ``tp`` does not say
    (a type variable: the class inherits its base's answer)."""
    if isinstance(tp, typing.TypeVar):
        return None
    if tp is Any or tp is object or tp is None or tp is type(None):
        return True
    if isinstance(tp, str | typing.ForwardRef):
        return True  # not evaluated: let None through, as an untyped topic does
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return any(_admits_none(arg) is not False for arg in typing.get_args(tp))
    if origin is typing.Annotated:
        return _admits_none(typing.get_args(tp)[0])
    if origin is Literal:
        return None in typing.get_args(tp)
    value = getattr(tp, "__value__", None)  # a `type X = ...` alias (Python 3.12+)
    if value is not None:
        return _admits_none(value)
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _admits_none(supertype)
    return False


def _type_label(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _is_raw(codec: Codec[Any]) -> bool:
    return type(codec) is RawCodec


class TopicReading(TopicCore[K, V]):
    """The consumer half of a topic: ``async for event in topic`` reads an iterator clone
    fed by the app's consumer; reading the next event acks the previous one.

    Types tell the truth: a null key or value (a tombstone) reaches the reader as ``None``
    only when the topic's key or value type admits None (``Topic[str, Order | None]``, or
    ``Any``); otherwise it is a record that does not decode, handled by the topic's
    ``on_decode_error`` policy. The class attributes :attr:`key_admits_none` and
    :attr:`value_admits_none` are derived from the class's ``Topic[K, V]`` base.
    """

    key_admits_none: ClassVar[bool] = True
    value_admits_none: ClassVar[bool] = True
    _key_label: ClassVar[str] = "Any"
    _value_label: ClassVar[str] = "Any"

    # Reader state of an iterator clone (class defaults: plain topics never read).
    _entries: collections.deque[Any] | None = None
    _buffered = 0
    _msgs: Sequence[FetchedRecord] = ()
    _msgs_tp: TP | None = None
    _to_message: Callable[[Any], Message] | None = None
    _pos = 0
    _chunk: Chunk | None = None
    _slot = -1
    _src: Source | None = None
    _build: _Builder | None = None
    _build_many: _BulkBuilder | None = None
    _waiter: asyncio.Future[None] | None = None
    _room: asyncio.Future[None] | None = None
    _pause: asyncio.Future[None] | None = None
    _closing = False
    _fatal: BaseException | None = None
    _skip_log: SkipLog | None = None
    # The event the sensors were told a reader received, with their tokens.
    _sensed: tuple[Event[Any, Any], list[Any]] | None = None
    _sensed_at = 0.0
    _txn_held = False  # exactly-once: this reader holds an event of the open transaction
    # Exactly-once: partitions dropped while an event taken from the queue waits for a commit.
    _dropped_meanwhile: set[TP] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            origin = typing.get_origin(base)
            if not (isinstance(origin, type) and issubclass(origin, TopicCore)):
                continue
            args = typing.get_args(base)
            if len(args) != 2:
                continue
            for side, arg in zip(("key", "value"), args, strict=True):
                admits = _admits_none(arg)
                if admits is not None and f"{side}_admits_none" not in cls.__dict__:
                    setattr(cls, f"{side}_admits_none", admits)
                    setattr(cls, f"_{side}_label", _type_label(arg))
            break

    # -- consuming ----------------------------------------------------------------

    @property
    def queue(self) -> asyncio.Queue[Any]:
        """The queue of events put locally with :meth:`put` (bounded by ``maxsize``); records
        from the broker reach the reader without it."""
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=self._limit())
        return self._queue

    def _limit(self) -> int:
        return self.maxsize if self.maxsize is not None else self.app.conf.stream_buffer_maxsize

    def __aiter__(self) -> Self:
        if self.is_iterator:
            return self
        clone = self.clone(is_iterator=True)
        self.app.conductor.add(clone)
        return clone

    async def __anext__(self) -> Event[K, V]:
        sensing = self.app.sensors.active
        current = self._current
        if current is not None:
            # The reader asking for the next event means the previous one is processed.
            self._current = None
            current.ack()
        if self.app.transactions is not None:
            held = await self._next_in_transaction()
            if sensing and self._current is held:
                self._sensed_start(held)
            return held
        pos = self._pos
        msgs = self._msgs
        if pos < len(msgs):
            build = self._build
            assert build is not None
            self._pos = pos + 1
            try:
                event: Event[K, V] = build(msgs[pos], pos)
            except Exception:
                self._pos = pos  # the slow path decodes it again and deals with the failure
            else:
                self._current = event
                if sensing:
                    self._sensed_start(event)
                return event
        event = await self._next_slow()
        if sensing and self._current is event:
            self._sensed_start(event)
        return event

    # -- sensors (called only while the app has any) ---------------------------------

    def _sensed_start(self, event: Event[Any, Any]) -> None:
        sensors = self.app.sensors
        self._sensed = (event, sensors.event_start(event, self.app.conf.consumer_group_id))
        self._sensed_at = time.monotonic()

    def _processed_hook(self) -> Callable[[Event[Any, Any]], None] | None:
        return self._sensed_processed if self.app.sensors.active else None

    def _sensed_processed(self, event: Event[Any, Any]) -> None:
        # An event acked (by the reader reading on, or by ``event.ack()``): its processing
        # ended if it is the one the sensors were told the reader received.
        sensed = self._sensed
        if sensed is None or sensed[0] is not event:
            return
        self._sensed = None
        self.app.sensors.event_processed(
            sensed[1], event.message, time.monotonic() - self._sensed_at
        )

    async def _next_in_transaction(self) -> Event[K, V]:
        # Exactly-once: the previous event's sends and offset may commit now; the next event
        # is handed out only while no commit is under way (see gen_topics._transactions).
        txns = self.app.transactions
        assert txns is not None
        if self._txn_held:
            self._txn_held = False
            txns.leave()
            await txns.processed()
        while True:
            event = await self._next_slow()
            if not txns.committing:
                txns.enter_now()
                break
            # A commit is under way: it may be a revocation's, or abort and rewind. Either
            # drops what was queued for those partitions, and this event, already taken
            # from the queue, is one of them: the new owner (or the re-read) processes it.
            dropped: set[TP] = set()
            self._dropped_meanwhile = dropped
            try:
                await txns.enter()
            finally:
                self._dropped_meanwhile = None
            if event.message.tp not in dropped:
                break
            txns.leave()
        self._txn_held = True
        return event

    async def _next_slow(self) -> Event[K, V]:
        if not self.is_iterator:
            raise RuntimeError("Need to call channel.__aiter__()")
        while True:
            if self._fatal is not None:
                raise self._fatal
            if self._closing:
                self.on_stop_iteration()
                raise StopAsyncIteration
            pos = self._pos
            msgs = self._msgs
            if pos < len(msgs):
                build = self._build
                assert build is not None
                self._pos = pos + 1
                try:
                    found: Event[K, V] | None = build(msgs[pos], pos)
                except Exception as exc:
                    found = await self._recover(pos, exc)
                if found is None:
                    continue  # skipped or dead-lettered: read on
                self._current = found
                return found
            if self._next_segment():
                continue
            queue = self._queue
            if queue is not None and not queue.empty():
                item = queue.get_nowait()
                if type(item) is _Failure:
                    raise item.error
                self._current = item
                return cast(Event[K, V], item)
            await self.app.conductor.ensure_running()
            if self._entries or self._closing or (queue is not None and not queue.empty()):
                continue
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def _next_segment(self) -> bool:
        """Make the next queued segment current; False when none is queued. A queued failure
        is raised here, in order with the records around it."""
        entries = self._entries
        if not entries:
            return False
        entry = entries.popleft()
        if type(entry) is _Failure:
            raise entry.error
        tp, messages, chunk, slot = entry
        self._buffered -= len(messages)
        self._msgs = messages
        self._msgs_tp = tp
        self._pos = 0
        self._chunk = chunk
        self._slot = slot
        self._build = self._make_builder(tp.topic, chunk, slot)
        room = self._room
        if room is not None and self._buffered < self._limit() and not room.done():
            room.set_result(None)
        return True

    # -- building events (decoding) -------------------------------------------------

    def _make_builder(self, name: str, chunk: Chunk | None, slot: int) -> _Builder:
        """A function that decodes one record of topic ``name`` into an event whose ack goes
        to ``chunk`` (runs per record: everything decidable per segment is decided here)."""
        kcodec, kprepared = self._codec(name, True, None, None)
        vcodec, vprepared = self._codec(name, False, None, None)
        kdec = None if _is_raw(kcodec) else kcodec.decode
        vdec = None if _is_raw(vcodec) else vcodec.decode
        kready = _ready_check(kcodec) if kprepared else None
        vready = _ready_check(vcodec) if vprepared else None
        key_ok = self.key_admits_none
        value_ok = self.value_admits_none
        if not self.acks:
            chunk = None
        src = self._src = Source(chunk, slot, self._converter(), self._processed_hook())

        def build(m: FetchedRecord, index: int) -> Event[Any, Any]:
            k = m.key
            if k is None:
                if not key_ok:
                    raise _Failed("key", None)
            elif kdec is not None:
                if kready is not None and not kready(k):
                    raise _NeedsAsync
                try:
                    k = kdec(k)
                except TransientDecodeError:
                    raise
                except Exception as exc:
                    raise _Failed("key", exc) from exc
            v = m.value
            if v is None:
                if not value_ok:
                    raise _Failed("value", None)
            elif vdec is not None:
                if vready is not None and not vready(v):
                    raise _NeedsAsync
                try:
                    v = vdec(v)
                except TransientDecodeError:
                    raise
                except Exception as exc:
                    raise _Failed("value", exc) from exc
            event: Event[Any, Any] = _new(Event)
            event.key = k
            event.value = v
            event._record = m
            event._src = src
            event._index = index
            return event

        self._build_many = _bulk_builder(src, kdec, vdec, kready, vready, key_ok, value_ok)
        return build

    def _source(self) -> Source:
        """The :class:`Source` of the current segment's events."""
        src = self._src
        if src is None:
            src = self._src = Source(
                self._chunk if self.acks else None,
                self._slot,
                self._converter(),
                self._processed_hook(),
            )
        return src

    def _converter(self) -> Callable[[Any], Message]:
        """How records of the app's consumer become :class:`Message` objects (kept per reader:
        an event may be asked for its message after the consumer stopped)."""
        consumer = self.app.conductor.consumer
        if consumer is not None:
            self._to_message = type(consumer).to_message
        return self._to_message or _identity

    async def _build_async(self, m: FetchedRecord, index: int) -> Event[K, V]:
        """Decode with ``decode_async`` where a codec needs it (fetching a writer schema)."""
        name = m.topic
        values: list[Any] = []
        for field, data, admits in (
            ("key", m.key, self.key_admits_none),
            ("value", m.value, self.value_admits_none),
        ):
            if data is None:
                if not admits:
                    raise _Failed(field, None)
                values.append(None)
                continue
            codec, prepared = self._codec(name, field == "key", None, None)
            try:
                if prepared:
                    values.append(await cast(PreparedCodec, codec).decode_async(data))
                else:
                    values.append(codec.decode(data))
            except TransientDecodeError:
                raise
            except Exception as exc:
                raise _Failed(field, exc) from exc
        return new_event(values[0], values[1], m, self._source(), index)

    def _tombstone_hint(self, label: str) -> str:
        """Why this topic's value type refuses None, and what to change if tombstones belong."""
        policy = str(self.config.get("cleanup.policy", ""))
        if self.compacting or "compact" in policy:
            # Generated classes of compacted topics admit None; this one was typed by hand.
            return (
                f" (the topic is declared compacted, yet the class types its values {label}: "
                f"type them `{label} | None` to receive tombstones as None)"
            )
        return (
            " (a value type admits None only where the topic is compacted, since there a "
            "tombstone deletes its key; this topic is not declared compacted, so a tombstone "
            "breaks its contract: check the producer, or, if tombstones belong here, declare "
            "the topic compacted ('compacting: true' in its descriptor) and regenerate)"
        )

    def _decode_error(self, m: FetchedRecord, failed: _Failed) -> DecodeError:
        """The :class:`DecodeError` for ``failed``, naming topic, partition, offset, field."""
        field = failed.field
        where = f"{m.topic}[{m.partition}]@{m.offset}"
        data = m.key if field == "key" else m.value
        if failed.cause is None:
            label = self._key_label if field == "key" else self._value_label
            what = "null key" if field == "key" else "null value (a tombstone)"
            text = (
                f"cannot decode the {field} of {where}: a {what}, but the {field}s of "
                f"{type(self).__name__} are {label}, which does not admit None"
                + (self._tombstone_hint(label) if field == "value" else "")
            )
        else:
            text = f"cannot decode the {field} of {where}: {failed.cause}"
            codec, _ = self._codec(m.topic, field == "key", None, None)
            schema_id = plausible_registry_frame(data)
            if schema_id is not None and isinstance(codec, SchemaCodec):
                text += (
                    f" (the {field} starts with magic byte 0 and schema id {schema_id}: it looks "
                    "written in the schema-registry wire format; create the App with "
                    "schema_registry=... to read it)"
                )
        error = DecodeError(
            text, topic=m.topic, partition=m.partition, offset=m.offset, field=field, data=data
        )
        error.__cause__ = failed.cause
        if self.app.sensors.active:
            self.app.sensors.decode_error(self._converter()(m), error)
        return error

    async def _recover(self, pos: int, exc: Exception) -> Event[K, V] | None:
        """The record at ``pos`` of the current segment did not build: decode it the slow way,
        retry a transient failure, or apply the topic's decode-error policy (None: the record
        was skipped or dead-lettered, read on)."""
        message = self._msgs[pos]
        try:
            if isinstance(exc, _NeedsAsync):
                try:
                    return await self._build_async(message, pos)
                except TransientDecodeError as transient:
                    return await self._retry_transient(message, pos, transient)
            if isinstance(exc, TransientDecodeError):
                return await self._retry_transient(message, pos, exc)
            if not isinstance(exc, _Failed):
                raise exc
            failed = exc
        except _Failed as bad:
            failed = bad
        await self._apply_policy(pos, self._decode_error(message, failed))
        return None

    async def _apply_policy(self, pos: int, error: DecodeError) -> None:
        """Raise ``error`` (the record is acked when the reader reads on) or skip / dead-letter
        the record and ack it now."""
        record = self._msgs[pos]
        held = new_event(None, None, record, self._source(), pos)
        policy = self.on_decode_error
        if policy == "raise":
            self._current = held
            raise error
        if self._skip_log is None:
            self._skip_log = SkipLog(record.topic)
        if policy == "skip":
            self.read_stats.skipped += 1
            self._skip_log.record("skipped", error)
            if self.app.sensors.active:
                self.app.sensors.skip(held.message, error)
        else:
            target = dead_letter_name(record.topic, self.dead_letter_topic)
            try:
                md = await dead_letter(self.app, held.message, error, target)
            except DeadLetterError:
                self._pos = pos  # not processed: the next read tries this record again
                raise
            self.read_stats.dead_lettered += 1
            if self.app.sensors.active:
                self.app.sensors.dead_letter(held.message, error, md.topic)
            self._skip_log.record(
                "dead-lettered", error, f" -> {md.topic}[{md.partition}]@{md.offset}"
            )
        held.ack()

    async def _retry_transient(
        self, message: FetchedRecord, pos: int, first: TransientDecodeError
    ) -> Event[K, V]:
        """Decode ``message`` again with backoff until it works or the app's
        ``consumer_decode_retry_timeout`` is spent; then stop this reader."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        budget = self.app.conf.consumer_decode_retry_timeout
        delay = _RETRY_FIRST
        attempts = 1
        last: TransientDecodeError = first
        log.warning(
            "%s[%d]@%d could not be decoded for now (%s); retrying for up to %.0f s",
            message.topic,
            message.partition,
            message.offset,
            first,
            budget,
            extra=record_fields(message.topic, message.partition, message.offset),
        )
        while True:
            waited = loop.time() - began
            if self._closing:
                # Stopping: the record stays unprocessed (not committed); iteration ends.
                self._msgs = ()
                self._pos = 0
                raise StopAsyncIteration
            if waited >= budget:
                break
            # A backoff that stopping the app cuts short.
            pause = self._pause = loop.create_future()
            try:
                async with asyncio.timeout(min(delay, max(0.0, budget - waited))):
                    await pause
            except TimeoutError:
                pass
            finally:
                self._pause = None
            delay = min(delay * 2, _RETRY_MAX)
            attempts += 1
            try:
                event = await self._build_async(message, pos)
            except TransientDecodeError as exc:
                last = exc
                continue
            log.info(
                "%s[%d]@%d decoded after %d attempts",
                message.topic,
                message.partition,
                message.offset,
                attempts,
            )
            return event
        waited = loop.time() - began
        # Never processed: not acked, so never committed; this reader reads nothing more.
        self._msgs = ()
        self._pos = 0
        fatal = TransientDecodeError(
            f"gave up decoding {message.topic}[{message.partition}]@{message.offset} after "
            f"{attempts} attempts over {waited:.1f} s: {last}; the reader of "
            f"{message.topic!r} stopped and the record is not committed, so the next run reads "
            "it again (check that the schema registry is reachable; the limit is the App's "
            "consumer_decode_retry_timeout)",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            field=last.field,
            attempts=attempts,
            waited=waited,
        )
        fatal.__cause__ = last
        self._fatal = fatal
        raise fatal

    # -- batches --------------------------------------------------------------------

    def take(self, max_records: int, *, within: float) -> AsyncIterator[list[Event[K, V]]]:
        """``async for batch in topic.take(500, within=1.0)``: lists of at most
        ``max_records`` events, or of what arrived within ``within`` seconds of the batch's
        first event; never empty. Reading the next batch acks the whole previous one."""
        if max_records < 1:
            raise ValueError(f"take() needs max_records >= 1, got {max_records}")
        if within <= 0:
            raise ValueError(f"take() needs within > 0 seconds, got {within}")
        return _Batches(self.__aiter__(), max_records, within)

    async def _next_batch(
        self, max_records: int, within: float, ranges: list[tuple[Chunk, int, int, int]]
    ) -> list[Event[K, V]]:
        """Collect the next batch; ``ranges`` gets the (chunk, slot, start, stop) of every
        run of segment records in it (acked together later)."""
        first = await self.__anext__()
        self._current = None  # a batch is acked as a whole, not by the next read
        batch: list[Event[K, V]] = [first]
        src = first._src
        if src.chunk is not None:
            ranges.append((src.chunk, src.slot, first._index, first._index + 1))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(batch) < max_records:
            pos = self._pos
            msgs = self._msgs
            end = min(len(msgs), pos + max_records - len(batch))
            if pos < end:
                build_many = self._build_many
                assert build_many is not None
                built = build_many(msgs, pos, end)
                batch.extend(built)
                stop = pos + len(built)
                self._pos = stop
                chunk = self._chunk
                if chunk is not None and self.acks and stop > pos:
                    last = ranges[-1] if ranges else None
                    if last is not None and last[0] is chunk and last[3] == pos:
                        ranges[-1] = (chunk, last[1], last[2], stop)  # one ack for the run
                    else:
                        ranges.append((chunk, self._slot, pos, stop))
                if stop < end:
                    break
                continue
            if self._closing or self._fatal is not None:
                break
            if self._next_segment():
                continue
            queue = self._queue
            if queue is not None and not queue.empty():
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiter = self._waiter = loop.create_future()
            try:
                async with asyncio.timeout(remaining):
                    await waiter
            except TimeoutError:
                break
            finally:
                self._waiter = None
        return batch

    # -- the consumer's side --------------------------------------------------------

    def _push(
        self, tp: TP, messages: Sequence[FetchedRecord], chunk: Chunk | None, slot: int
    ) -> None:
        """Queue a fetched segment (the consumer's path; ``slot`` -1: this reader does not ack)."""
        if self._closing:
            return
        entries = self._entries
        if entries is None:
            entries = self._entries = collections.deque()
        entries.append((tp, messages, chunk, slot))
        self._buffered += len(messages)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _full(self) -> bool:
        limit = self._limit()
        return 0 < limit <= self._buffered and not self._closing

    async def _wait_room(self) -> None:
        """Wait until fewer records than ``maxsize`` are queued (the consumer's backpressure)."""
        while self._full():
            room = self._room = asyncio.get_running_loop().create_future()
            try:
                await room
            finally:
                self._room = None

    def _wake(self) -> None:
        for fut in (self._waiter, self._room, self._pause):
            if fut is not None and not fut.done():
                fut.set_result(None)

    def _drop(self, tps: set[TP]) -> int:
        """Forget queued records of ``tps`` (revoked or sought): their partition is read again
        from the committed or sought offset. Returns how many were dropped."""
        dropped = 0
        if self._dropped_meanwhile is not None:
            self._dropped_meanwhile |= tps
        msgs = self._msgs
        if msgs and self._msgs_tp in tps:
            dropped += len(msgs) - self._pos
            self._msgs = ()
            self._pos = 0
        entries = self._entries
        if entries:
            kept: list[Any] = []
            for entry in entries:
                if type(entry) is not _Failure and entry[0] in tps:
                    dropped += len(entry[1])
                    self._buffered -= len(entry[1])
                else:
                    kept.append(entry)
            entries.clear()
            entries.extend(kept)
        self._wake()
        return dropped

    def _close_reading(self) -> None:
        """The app stops reading: the next read ends the iteration (after acking the event in
        hand); queued records are dropped unprocessed, so they are not committed."""
        self._closing = True
        self._msgs = ()
        self._pos = 0
        if self._entries:
            self._entries.clear()
        self._buffered = 0
        if self._skip_log is not None:
            self._skip_log.flush()
        self._wake()

    def _reopen(self) -> None:
        self._closing = False

    @property
    def buffered(self) -> int:
        """How many fetched records wait in this reader, not yet read."""
        return self._buffered + len(self._msgs) - self._pos

    def held(self) -> Message | None:
        """The record of the event in hand (read, not yet processed), if any."""
        current = self._current
        return None if current is None or current.acked else current.message

    # -- Faust's channel API ------------------------------------------------------------

    def ack(self, event: Event[K, V]) -> bool:
        """Mark ``event`` processed now (otherwise it is when the next one is read)."""
        return event.ack()

    async def get(self, timeout: float | None = None) -> Event[K, V]:
        """The next event, waiting at most ``timeout`` seconds when given."""
        if timeout:
            return await asyncio.wait_for(self.__anext__(), timeout)
        return await self.__anext__()

    def empty(self) -> bool:
        """Whether no event is waiting."""
        queue = self._queue
        return self.buffered == 0 and not self._entries and (queue is None or queue.empty())

    async def put(self, event: Event[K, V]) -> None:
        """Put ``event`` on this iterator's own queue (local; nothing goes to Kafka)."""
        if not self.is_iterator:
            raise RuntimeError(f"Cannot put on Topic channel before aiter({self})")
        await self.queue.put(event)
        self._wake()

    def throw(self, exc: BaseException) -> None:
        """Make the reader's next read raise ``exc`` (after the records queued before it)."""
        entries = self._entries
        if entries is None:
            entries = self._entries = collections.deque()
        entries.append(_Failure(exc))
        self._wake()

    @overload
    async def decode(self, message: Message, *, propagate: Literal[True] = True) -> Event[K, V]: ...

    @overload
    async def decode(self, message: Message, *, propagate: bool) -> Event[K, V] | None: ...

    async def decode(self, message: Message, *, propagate: bool = True) -> Event[K, V] | None:
        """Decode ``message`` into a typed event (not tracked for commits). A failure is a
        :class:`DecodeError` naming topic, partition, offset and field: raised with
        ``propagate=True``, otherwise handed to :meth:`on_decode_error_event` (which queues
        it for the reader) and None is returned."""
        try:
            try:
                event = await self._build_async(message, 0)
            except _Failed as failed:
                raise self._decode_error(message, failed) from failed.cause
        except DecodeError as exc:
            if propagate:
                raise
            await self.on_decode_error_event(exc, message)
            return None
        event._src = Source(None, -1, event._src.to_message)
        return event

    async def on_decode_error_event(self, exc: DecodeError, message: Message) -> None:
        """Hand a record that did not decode to the reader (its next read raises ``exc``)."""
        self.throw(exc)

    async def deliver(self, message: Message) -> None:
        """Decode ``message`` and queue the event locally, or queue the decode error (Faust's
        ``deliver``; the app's consumer hands records over in batches instead)."""
        event = await self.decode(message, propagate=False)
        if event is not None:
            await self.put(event)

    def on_stop_iteration(self) -> None:
        """Iteration stopped: an isolated-partition clone leaves the app's subscriptions."""
        if self.active_partitions is not None:
            self.app.conductor.discard(self)

    # -- positions: seek, replay, lag -------------------------------------------------

    def _tps(self, partitions: Sequence[int | TP | tuple[str, int]]) -> list[TP] | None:
        out: list[TP] = []
        for p in partitions:
            if isinstance(p, int) and not isinstance(p, bool):
                out.append(TP(self.get_topic_name(), p))
            elif isinstance(p, tuple) and len(p) == 2:
                out.append(TP(str(p[0]), int(p[1])))
            else:
                raise SeekError(f"a partition is an int or a (topic, partition) pair, got {p!r}")
        return out or None

    async def seek(self, partition: int | TP | tuple[str, int], offset: int) -> None:
        """Read ``partition`` from ``offset`` next (Kafka's ``seek``): every reader of this
        app on that partition gets the records from there; events read before and not yet
        processed no longer count, and the next commit stores ``offset``."""
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise SeekError(f"seek() needs an offset >= 0, got {offset!r}")
        tps = self._tps([partition])
        assert tps is not None
        await self.app.conductor.seek(self, {tps[0]: offset})

    async def seek_to_beginning(self, *partitions: int | TP | tuple[str, int]) -> None:
        """Read the given partitions (default: all of this topic assigned to the app) from
        the first record still in the log."""
        await self.app.conductor.seek_to(self, self._tps(partitions), "beginning")

    async def seek_to_end(self, *partitions: int | TP | tuple[str, int]) -> None:
        """Read only records written from now on to the given partitions (default: all of
        this topic assigned to the app)."""
        await self.app.conductor.seek_to(self, self._tps(partitions), "end")

    async def seek_to_timestamp(
        self, timestamp: float | datetime, *partitions: int | TP | tuple[str, int]
    ) -> None:
        """Read from the first record whose timestamp is at or after ``timestamp`` (seconds
        since the epoch, or an aware datetime), by Kafka's offsets-for-times; a partition
        with no such record is read from its end."""
        seconds = timestamp.timestamp() if isinstance(timestamp, datetime) else float(timestamp)
        await self.app.conductor.seek_to(
            self, self._tps(partitions), "timestamp", round(seconds * 1000.0)
        )

    async def positions(self) -> dict[TP, int]:
        """Per assigned partition of this topic, the offset of the next record the consumer
        hands to readers (Kafka's ``position``); records between the committed offset and it
        are read or queued in readers."""
        return await self.app.conductor.positions(self)

    async def end_offsets(self) -> dict[TP, int]:
        """Per assigned partition of this topic, the offset the next record written will get."""
        return await self.app.conductor.end_offsets(self)

    async def lag(self) -> dict[TP, int]:
        """Per assigned partition of this topic, how many records this app has still to
        process: the end offset minus the lowest offset not processed yet.

        Unlike ``end_offsets() - positions()``, records already fetched and waiting in a
        reader count; unlike the group's lag (end minus committed), records processed since
        the last commit do not. Offsets removed by compaction count too (it is an offset
        distance)."""
        return await self.app.conductor.unprocessed(self)

    @property
    def skipped(self) -> int:
        """How many records that did not decode this topic's readers skipped."""
        return self.read_stats.skipped

    @property
    def dead_lettered(self) -> int:
        """How many records that did not decode this topic's readers dead-lettered."""
        return self.read_stats.dead_lettered


def _bulk_builder(
    src: Source,
    kdec: Callable[[bytes], Any] | None,
    vdec: Callable[[bytes], Any] | None,
    kready: Callable[[bytes], bool] | None,
    vready: Callable[[bytes], bool] | None,
    key_ok: bool,
    value_ok: bool,
) -> _BulkBuilder:
    """A function that builds the events of records ``start`` .. ``stop - 1`` of a segment in
    one loop (``take()``'s path: no Python call per record but the codecs' own). It stops
    before the first record that does not build at once (a null the type excludes, a codec
    that must await or fails): the next single read decodes that one and deals with it."""
    if kdec is None and vdec is None:
        if key_ok and value_ok:
            # Raw bytes, nulls admitted (the common fast case): nothing can fail.

            def raw_many(msgs: Sequence[FetchedRecord], start: int, stop: int) -> list[Any]:
                out: list[Any] = []
                append = out.append
                index = start
                for m in msgs[start:stop]:
                    event: Event[Any, Any] = _new(Event)
                    event.key = m.key
                    event.value = m.value
                    event._record = m
                    event._src = src
                    event._index = index
                    index += 1
                    append(event)
                return out

            return raw_many

        def raw_checked_many(msgs: Sequence[FetchedRecord], start: int, stop: int) -> list[Any]:
            out: list[Any] = []
            append = out.append
            index = start
            for m in msgs[start:stop]:
                k = m.key
                v = m.value
                if (k is None and not key_ok) or (v is None and not value_ok):
                    break
                event: Event[Any, Any] = _new(Event)
                event.key = k
                event.value = v
                event._record = m
                event._src = src
                event._index = index
                index += 1
                append(event)
            return out

        return raw_checked_many

    def decoded_many(msgs: Sequence[FetchedRecord], start: int, stop: int) -> list[Any]:
        out: list[Any] = []
        append = out.append
        index = start
        try:
            for m in msgs[start:stop]:
                k = m.key
                if k is None:
                    if not key_ok:
                        break
                elif kdec is not None:
                    if kready is not None and not kready(k):
                        break
                    k = kdec(k)
                v = m.value
                if v is None:
                    if not value_ok:
                        break
                elif vdec is not None:
                    if vready is not None and not vready(v):
                        break
                    v = vdec(v)
                event: Event[Any, Any] = _new(Event)
                event.key = k
                event.value = v
                event._record = m
                event._src = src
                event._index = index
                index += 1
                append(event)
        except Exception:
            pass  # the failing record starts the next read, which deals with it
        return out

    return decoded_many


def _identity(record: Any) -> Message:
    return record  # type: ignore[no-any-return]


def _ready_check(codec: Codec[Any]) -> Callable[[bytes], bool]:
    """For a prepared codec: a check whether it can decode ``data`` without awaiting."""
    ready = getattr(codec, "decode_ready", None)
    if callable(ready):
        return cast(Callable[[bytes], bool], ready)
    return _never_ready


def _never_ready(data: bytes) -> bool:
    return False


class _Batches(AsyncIterator[list[Event[K, V]]]):
    """``topic.take(...)``: batches of events, each acked when the next one is asked for."""

    def __init__(self, reader: TopicReading[K, V], max_records: int, within: float) -> None:
        self.reader = reader
        self.max_records = max_records
        self.within = within
        self._ranges: list[tuple[Chunk, int, int, int]] = []
        self._batch: list[Event[K, V]] = []
        self._sensed: list[list[Any]] = []
        self._sensed_at = 0.0

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> list[Event[K, V]]:
        self.ack()
        reader = self.reader
        txns = reader.app.transactions
        if txns is not None and reader._txn_held:
            # Exactly-once: the batch's sends and offsets may commit now (the next batch's
            # first read enters the next transaction).
            reader._txn_held = False
            txns.leave()
            await txns.processed()
        self._batch = batch = await reader._next_batch(self.max_records, self.within, self._ranges)
        sensors = reader.app.sensors
        if sensors.active:
            group = reader.app.conf.consumer_group_id
            self._sensed = [sensors.event_start(event, group) for event in batch]
            self._sensed_at = time.monotonic()
        return batch

    def ack(self) -> None:
        """Mark the current batch processed (done anyway when the next batch is read)."""
        ranges = self._ranges
        covered = 0
        for chunk, slot, start, stop in ranges:
            chunk.ack_range(slot, start, stop)
            covered += stop - start
        ranges.clear()
        batch = self._batch
        if covered < len(batch):
            # Some events are not in a range (no chunk: put locally, or acks off).
            for event in batch:
                if event._src.chunk is None:
                    event.ack()
        sensed, self._sensed = self._sensed, []
        if sensed:
            sensors = self.reader.app.sensors
            duration = time.monotonic() - self._sensed_at
            for event, tokens in zip(self._batch, sensed, strict=False):
                sensors.event_processed(tokens, event.message, duration)
        self._batch = []
