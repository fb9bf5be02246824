"""The typed event a topic reader receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from gen_topics._messages import Message
from gen_topics._offsets import Chunk
from gen_topics._transport.base import FetchedRecord

__all__ = ["Event", "Source", "new_event"]

K = TypeVar("K")
V = TypeVar("V")


def _same(record: Any) -> Message:
    return record  # type: ignore[no-any-return]


class Source:
    """What the events of one fetched segment share: the chunk and reader slot their acks go
    to (no chunk: nothing to ack), and how their records become :class:`Message` objects."""

    __slots__ = ("chunk", "on_processed", "slot", "to_message")

    def __init__(
        self,
        chunk: Chunk | None,
        slot: int,
        to_message: Callable[[Any], Message] = _same,
        on_processed: Callable[[Event[Any, Any]], None] | None = None,
    ) -> None:
        self.chunk = chunk
        self.slot = slot
        self.to_message = to_message
        #: Told of each event's first ack (set only while the app has sensors).
        self.on_processed = on_processed


_LOCAL = Source(None, -1)


class Event(Generic[K, V]):
    """A decoded record: typed ``key`` and ``value``, ``headers`` (a dict), the raw ``message``.

    The record's offset becomes committable once the event is acked: explicitly with
    :meth:`ack`, or implicitly when the reader asks its topic for the next event (or, with
    ``take()``, for the next batch).

    An event of a fetched record holds the transport's own record and builds ``message`` and
    ``headers`` from it when first asked (most readers never ask for them).
    """

    # Only key, value, _record, _src and _index are set when the consumer builds an event
    # (it does per record); the others are filled on first use.
    __slots__ = (
        "_acked",
        "_headers",
        "_index",
        "_message",
        "_on_ack",
        "_record",
        "_src",
        "key",
        "value",
    )

    key: K
    value: V

    def __init__(
        self,
        key: K,
        value: V,
        headers: dict[str, bytes],
        message: Message,
        *,
        on_ack: Callable[[Message], None] | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self._headers = headers
        self._message = message
        self._record: FetchedRecord = message
        self._src = _LOCAL
        self._acked = False
        self._on_ack = on_ack
        self._index = 0

    @property
    def message(self) -> Message:
        """The record as consumed: topic, partition, offset, timestamp, raw key/value/headers."""
        try:
            return self._message
        except AttributeError:
            message = self._message = self._src.to_message(self._record)
            return message

    @property
    def headers(self) -> dict[str, bytes]:
        """The record's headers as a dict (the last value of a repeated name wins; the
        ordered pairs are in ``message.headers``)."""
        try:
            return self._headers
        except AttributeError:
            raw = self._record.headers
            headers = self._headers = dict(raw) if raw else {}
            return headers

    @headers.setter
    def headers(self, headers: dict[str, bytes]) -> None:
        self._headers = headers

    @property
    def acked(self) -> bool:
        """Whether the event was marked processed."""
        src = self._src
        if src.chunk is not None:
            return src.chunk.is_acked(src.slot, self._index)
        return getattr(self, "_acked", False)

    def ack(self) -> bool:
        """Mark the event processed; returns False if it already was."""
        src = self._src
        if src.chunk is not None:
            first = src.chunk.ack(src.slot, self._index)
            if first and src.on_processed is not None:
                src.on_processed(self)
            return first
        if getattr(self, "_acked", False):
            return False
        self._acked = True
        on_ack = getattr(self, "_on_ack", None)
        if on_ack is not None:
            on_ack(self.message)
        return True

    def __repr__(self) -> str:
        m = self._record
        return (
            f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r:.40} "
            f"value={self.value!r:.60}>"
        )


_new = object.__new__


def new_event(key: Any, value: Any, record: Any, src: Source, index: int) -> Event[Any, Any]:
    """An event of a fetched ``record`` (a :class:`Message`, or the transport's own record
    that ``src.to_message`` converts) whose ack goes to ``src.chunk``."""
    event: Event[Any, Any] = _new(Event)
    event.key = key
    event.value = value
    event._record = record
    event._src = src
    event._index = index
    return event
