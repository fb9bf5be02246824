"""At-least-once bookkeeping: which consumed offsets are processed and safe to commit."""

from __future__ import annotations

from gen_topics._messages import TP, Message

__all__ = ["OffsetTracker"]


class _Pending:
    """A delivered record: how many readers still have to ack it, and what they were given."""

    __slots__ = ("left", "message")

    def __init__(self, left: int, message: Message) -> None:
        self.left = left
        self.message = message


class OffsetTracker:
    """Tracks, per partition, records handed to readers and not yet acked.

    A record delivered to N readers needs N acks. The committable offset of a partition
    is the lowest still-pending offset (nothing at or after it is committed), or one
    past the highest delivered offset when nothing is pending.

    A pending record is remembered with the :class:`Message` that was delivered, and only
    an ack of that same object counts: after a rebalance the same offset may be delivered
    again, and a late ack of the earlier delivery must not mark the new one processed.
    """

    def __init__(self) -> None:
        self._pending: dict[TP, dict[int, _Pending]] = {}
        self._next: dict[TP, int] = {}
        self._committed: dict[TP, int] = {}

    def delivered(self, tp: TP, message: Message, readers: int) -> None:
        """``message`` (at ``tp``) was handed to ``readers`` readers (0: nothing to wait for)."""
        offset = message.offset
        if tp not in self._committed:
            # The first record read is where the group's committed position already is.
            self._committed[tp] = offset
        if readers > 0:
            self._pending.setdefault(tp, {})[offset] = _Pending(readers, message)
        if offset + 1 > self._next.get(tp, -1):
            self._next[tp] = offset + 1

    def holds(self, message: Message) -> bool:
        """Whether ``message`` is a delivery still waiting for acks."""
        pending = self._pending.get(message.tp)
        entry = pending.get(message.offset) if pending is not None else None
        return entry is not None and entry.message is message

    def ack(self, message: Message) -> None:
        """One reader finished ``message`` (ignored when it is no longer tracked)."""
        pending = self._pending.get(message.tp)
        if pending is None:
            return
        entry = pending.get(message.offset)
        if entry is None or entry.message is not message:
            return
        if entry.left <= 1:
            del pending[message.offset]
        else:
            entry.left -= 1

    def committable(self, tps: set[TP] | None = None) -> dict[TP, int]:
        """Offsets that advanced since the last :meth:`mark_committed` (only ``tps`` if given)."""
        out: dict[TP, int] = {}
        for tp, nxt in self._next.items():
            if tps is not None and tp not in tps:
                continue
            pending = self._pending.get(tp)
            offset = min(pending) if pending else nxt
            if offset > self._committed.get(tp, -1):
                out[tp] = offset
        return out

    def mark_committed(self, offsets: dict[TP, int]) -> None:
        """Remember what was committed."""
        self._committed.update(offsets)

    def forget(self, tps: set[TP]) -> None:
        """Drop partitions (revoked, newly assigned, or the reader stopped)."""
        for tp in tps:
            self._pending.pop(tp, None)
            self._next.pop(tp, None)
            self._committed.pop(tp, None)
