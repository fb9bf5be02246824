"""The typed event a topic reader receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from gen_topics._messages import Message
from gen_topics._offsets import Chunk

__all__ = ["Event", "new_event"]

K = TypeVar("K")
V = TypeVar("V")


class Event(Generic[K, V]):
    """A decoded record: typed ``key`` and ``value``, ``headers`` (a dict), the raw ``message``.

    The record's offset becomes committable once the event is acked: explicitly with
    :meth:`ack`, or implicitly when the reader asks its topic for the next event (or, with
    ``take()``, for the next batch).
    """

    __slots__ = (
        "_acked",
        "_chunk",
        "_index",
        "_on_ack",
        "_slot",
        "headers",
        "key",
        "message",
        "value",
    )

    key: K
    value: V
    headers: dict[str, bytes]
    message: Message

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
        self.headers = headers
        self.message = message
        self._acked = False
        self._on_ack = on_ack
        self._chunk: Chunk | None = None
        self._slot = 0
        self._index = 0

    @property
    def acked(self) -> bool:
        """Whether the event was marked processed."""
        chunk = self._chunk
        if chunk is not None:
            return chunk.is_acked(self._slot, self._index)
        return self._acked

    def ack(self) -> bool:
        """Mark the event processed; returns False if it already was."""
        chunk = self._chunk
        if chunk is not None:
            return chunk.ack(self._slot, self._index)
        if self._acked:
            return False
        self._acked = True
        if self._on_ack is not None:
            self._on_ack(self.message)
        return True

    def __repr__(self) -> str:
        m = self.message
        return (
            f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r:.40} "
            f"value={self.value!r:.60}>"
        )


_new = object.__new__


def new_event(
    key: Any, value: Any, message: Message, chunk: Chunk | None, slot: int, index: int
) -> Event[Any, Any]:
    """An event of a fetched record whose ack goes to ``chunk`` (the consumer's path: no
    keyword parsing, headers copied only when there are any)."""
    event: Event[Any, Any] = _new(Event)
    event.key = key
    event.value = value
    headers = message.headers
    event.headers = dict(headers) if headers else {}
    event.message = message
    event._chunk = chunk
    event._slot = slot
    event._index = index
    event._acked = False
    event._on_ack = None
    return event
