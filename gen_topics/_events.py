"""The typed event a topic reader receives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from gen_topics._messages import Message

__all__ = ["Event"]

K = TypeVar("K")
V = TypeVar("V")


class Event(Generic[K, V]):
    """A decoded record: typed ``key`` and ``value``, ``headers`` (a dict), the raw ``message``.

    The record's offset becomes committable once the event is acked: explicitly with
    :meth:`ack`, or implicitly when the reader asks its topic for the next event.
    """

    __slots__ = ("_on_ack", "acked", "headers", "key", "message", "value")

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
        self.acked = False
        self._on_ack = on_ack

    def ack(self) -> bool:
        """Mark the event processed; returns False if it already was."""
        if self.acked:
            return False
        self.acked = True
        if self._on_ack is not None:
            self._on_ack(self.message)
        return True

    def __repr__(self) -> str:
        m = self.message
        return (
            f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r:.40} "
            f"value={self.value!r:.60}>"
        )
