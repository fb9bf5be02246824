"""At-least-once bookkeeping: which consumed offsets are processed and safe to commit."""

from __future__ import annotations

from runtime.messages import TP

__all__ = ["OffsetTracker"]


class OffsetTracker:
    """Tracks, per partition, records handed to readers and not yet acked.

    A record delivered to N readers needs N acks. The committable offset of a partition
    is the lowest still-pending offset (nothing at or after it is committed), or one
    past the highest delivered offset when nothing is pending.
    """

    def __init__(self) -> None:
        self._pending: dict[TP, dict[int, int]] = {}
        self._next: dict[TP, int] = {}
        self._committed: dict[TP, int] = {}

    def delivered(self, tp: TP, offset: int, readers: int) -> None:
        """``offset`` was handed to ``readers`` readers (0: nothing to wait for)."""
        if tp not in self._committed:
            # The first record read is where the group's committed position already is.
            self._committed[tp] = offset
        if readers > 0:
            self._pending.setdefault(tp, {})[offset] = readers
        if offset + 1 > self._next.get(tp, -1):
            self._next[tp] = offset + 1

    def ack(self, tp: TP, offset: int) -> None:
        """One reader finished ``offset``."""
        pending = self._pending.get(tp)
        if pending is None:
            return
        left = pending.get(offset)
        if left is None:
            return
        if left <= 1:
            del pending[offset]
        else:
            pending[offset] = left - 1

    def committable(self) -> dict[TP, int]:
        """Offsets that advanced since the last :meth:`mark_committed`."""
        out: dict[TP, int] = {}
        for tp, nxt in self._next.items():
            pending = self._pending.get(tp)
            offset = min(pending) if pending else nxt
            if offset > self._committed.get(tp, -1):
                out[tp] = offset
        return out

    def mark_committed(self, offsets: dict[TP, int]) -> None:
        """Remember what was committed."""
        self._committed.update(offsets)

    def forget(self, tps: set[TP]) -> None:
        """Drop partitions (revoked, or the reader stopped)."""
        for tp in tps:
            self._pending.pop(tp, None)
            self._next.pop(tp, None)
            self._committed.pop(tp, None)
