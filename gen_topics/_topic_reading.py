"""Reading: iteration, the delivery queue, decoding, acks (at-least-once)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal, Self, TypeVar, cast, overload

from gen_topics._events import Event
from gen_topics._messages import Message
from gen_topics._topic_core import TopicCore
from gen_topics.codecs import PreparedCodec
from gen_topics.errors import DecodeError

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["TopicReading"]


class _Failure:
    """A decode error queued in place of the event it could not become."""

    __slots__ = ("error", "message")

    def __init__(self, error: BaseException, message: Message | None) -> None:
        self.error = error
        self.message = message


def _is_stale(item: Any, stale: Callable[[Message], bool]) -> bool:
    message = item.message if isinstance(item, Event | _Failure) else None
    return message is not None and stale(message)


class TopicReading(TopicCore[K, V]):
    """The consumer half of a topic: ``async for event in topic`` reads an iterator clone
    fed by the app's consumer; reading the next event acks the previous one."""

    # -- consuming ----------------------------------------------------------------

    @property
    def queue(self) -> asyncio.Queue[Any]:
        """The delivery queue (created on first use, bounded by ``maxsize``)."""
        if self._queue is None:
            size = self.maxsize if self.maxsize is not None else self.app.conf.stream_buffer_maxsize
            self._queue = asyncio.Queue(maxsize=size)
        return self._queue

    def __aiter__(self) -> Self:
        if self.is_iterator:
            return self
        clone = self.clone(is_iterator=True)
        self.app.conductor.add(clone)
        return clone

    async def __anext__(self) -> Event[K, V]:
        if not self.is_iterator:
            raise RuntimeError("Need to call channel.__aiter__()")
        self._ack_current()
        await self.app.conductor.ensure_running()
        item = await self.queue.get()
        if type(item) is _Failure:
            self._current = item.message
            raise item.error
        event: Event[K, V] = item  # no cast(): this runs per record
        self._current = event
        return event

    def _ack_current(self) -> None:
        # The reader asking for the next event means the previous one is processed.
        current, self._current = self._current, None
        if current is None:
            return
        if isinstance(current, Event):
            current.ack()
        elif self.acks:
            self.app.conductor.ack(current)

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
        return self.queue.empty()

    async def put(self, event: Event[K, V]) -> None:
        """Put ``event`` on this iterator's own queue (local; nothing goes to Kafka)."""
        if not self.is_iterator:
            raise RuntimeError(f"Cannot put on Topic channel before aiter({self})")
        await self.queue.put(event)

    def throw(self, exc: BaseException) -> None:
        """Make the reader's next read raise ``exc``."""
        self.queue.put_nowait(_Failure(exc, None))

    @overload
    async def decode(self, message: Message, *, propagate: Literal[True] = True) -> Event[K, V]: ...

    @overload
    async def decode(self, message: Message, *, propagate: bool) -> Event[K, V] | None: ...

    async def decode(self, message: Message, *, propagate: bool = True) -> Event[K, V] | None:
        """Decode ``message`` into a typed event. A failure is a :class:`DecodeError` naming
        topic, partition, offset and field: raised with ``propagate=True``, otherwise handed
        to :meth:`on_decode_error` (which queues it for the reader) and None is returned."""
        try:
            return await self._decode(message)
        except DecodeError as exc:
            if propagate:
                raise
            await self.on_decode_error(exc, message)
            return None

    async def on_decode_error(self, exc: DecodeError, message: Message) -> None:
        """Hand a record that did not decode to the reader (its next read raises ``exc``)."""
        await self.queue.put(_Failure(exc, message))

    async def _decode(self, message: Message) -> Event[K, V]:
        name = message.topic
        key: Any = None
        value: Any = None
        field = "key"
        try:
            if message.key is not None:
                key = await self._decode_field(name, True, message.key)
            field = "value"
            if message.value is not None:
                value = await self._decode_field(name, False, message.value)
        except Exception as exc:
            raise DecodeError(
                f"cannot decode the {field} of {name}[{message.partition}]@{message.offset}: {exc}",
                topic=name,
                partition=message.partition,
                offset=message.offset,
                field=field,
                data=message.key if field == "key" else message.value,
            ) from exc
        on_ack = self.app.conductor.ack if self.acks else None
        return Event(key, value, dict(message.headers), message, on_ack=on_ack)

    async def _decode_field(self, name: str, is_key: bool, data: bytes) -> Any:
        codec, prepared = self._codec(name, is_key, None, None)
        if prepared:
            return await cast(PreparedCodec, codec).decode_async(data)
        return codec.decode(data)

    async def deliver(self, message: Message) -> None:
        """The consumer's path: decode and queue the event, or queue the decode error."""
        try:
            item: Any = await self._decode(message)
        except DecodeError as exc:
            item = _Failure(exc, message)
        await self.queue.put(item)

    def drop_queued(self, stale: Callable[[Message], bool]) -> int:
        """Remove queued events (and decode failures) whose record ``stale`` says to drop,
        keeping the others in order; returns how many were dropped. Used on a rebalance."""
        queue = self._queue
        if queue is None or queue.empty():
            return 0
        items = [queue.get_nowait() for _ in range(queue.qsize())]
        kept = [item for item in items if not _is_stale(item, stale)]
        for item in kept:
            queue.put_nowait(item)
        return len(items) - len(kept)

    def on_stop_iteration(self) -> None:
        """Iteration stopped: an isolated-partition clone leaves the app's subscriptions."""
        if self.active_partitions is not None:
            self.app.conductor.discard(self)
