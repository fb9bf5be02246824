"""At-least-once bookkeeping: which consumed offsets are processed and safe to commit.

Records are tracked per fetched batch, not per record: the consumer hands each partition's
batch to its readers as one :class:`Chunk`, and each acking reader has a slot in it that counts
how many of the batch's records it processed in order (an ack out of order is kept aside until
the gap closes). Acking in order, one event or a whole ``take()`` batch, is then O(1).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence

from gen_topics._messages import TP
from gen_topics._transport.base import FetchedRecord

__all__ = ["Chunk", "Lane", "OffsetTracker"]


class Lane:
    """One partition's deliveries since it was assigned (or sought): replaced, never reset,
    so an ack of a record delivered before a rebalance or a seek finds a dead lane."""

    __slots__ = ("chunks", "committed", "next", "tp")

    def __init__(self, tp: TP, committed: int) -> None:
        self.tp = tp
        self.chunks: collections.deque[Chunk] = collections.deque()
        # One past the highest offset delivered; where a commit goes when nothing is pending.
        self.next = committed
        # What the group has committed as far as this app knows (-1: commit ``next`` anyway).
        self.committed = committed

    def committable(self) -> int:
        """The lowest offset some reader has not processed yet, else :attr:`next`."""
        chunks = self.chunks
        while chunks:
            chunk = chunks[0]
            low = min(chunk.done)
            if low < chunk.size:
                return chunk.messages[low].offset
            chunks.popleft()
        return self.next


class Chunk:
    """A batch of one partition's records delivered to ``readers`` acking readers.

    ``done[slot]`` is how many records, from the start, reader ``slot`` has processed;
    ``later[slot]`` holds indexes it acked past a gap.
    """

    __slots__ = ("done", "later", "messages", "size")

    def __init__(self, messages: Sequence[FetchedRecord], readers: int) -> None:
        self.messages = messages
        self.size = len(messages)
        self.done = [0] * readers
        self.later: dict[int, set[int]] | None = None

    def ack(self, slot: int, index: int) -> bool:
        """Reader ``slot`` processed record ``index``; False if it already had."""
        done = self.done[slot]
        if index == done:
            done += 1
            later = self.later
            if later is not None and slot in later:
                done = self._absorb(later, slot, done)
            self.done[slot] = done
            if done >= self.size:
                self._release()
            return True
        if index < done:
            return False
        later = self.later
        if later is None:
            later = self.later = {}
        pending = later.setdefault(slot, set())
        if index in pending:
            return False
        pending.add(index)
        return True

    def ack_range(self, slot: int, start: int, stop: int) -> None:
        """Reader ``slot`` processed records ``start`` .. ``stop - 1`` (a batch)."""
        done = self.done[slot]
        if start <= done:
            if stop > done:
                done = stop
                later = self.later
                if later is not None and slot in later:
                    done = self._absorb(later, slot, done)
                self.done[slot] = done
                if done >= self.size:
                    self._release()
            return
        for index in range(start, stop):
            self.ack(slot, index)

    def _release(self) -> None:
        # Every reader is done: let the records go now, not at the next commit (a long-lived
        # backlog of records makes Python's garbage collector scan them over and over).
        if min(self.done) >= self.size:
            self.messages = ()

    def _absorb(self, later: dict[int, set[int]], slot: int, done: int) -> int:
        pending = later[slot]
        pending.difference_update([i for i in pending if i < done])
        while done in pending:
            pending.discard(done)
            done += 1
        if not pending:
            del later[slot]
        return done

    def is_acked(self, slot: int, index: int) -> bool:
        """Whether reader ``slot`` has processed record ``index``."""
        if index < self.done[slot]:
            return True
        later = self.later
        return later is not None and index in later.get(slot, ())


class OffsetTracker:
    """Tracks, per partition, records handed to readers and not yet processed.

    The committable offset of a partition is its lowest unprocessed offset (nothing at or
    after it is committed), or one past the highest delivered offset when all are processed.
    """

    def __init__(self) -> None:
        self.lanes: dict[TP, Lane] = {}

    def delivered(self, tp: TP, messages: Sequence[FetchedRecord], readers: int) -> Chunk | None:
        """``messages`` (ascending offsets of ``tp``) go to ``readers`` acking readers; returns
        the chunk their acks go to (None when no reader acks: nothing to wait for)."""
        lane = self.lanes.get(tp)
        if lane is None:
            # The first record read is where the group's committed position already is.
            lane = self.lanes[tp] = Lane(tp, messages[0].offset)
        last = messages[-1].offset + 1
        if last > lane.next:
            lane.next = last
        if readers <= 0:
            return None
        chunk = Chunk(messages, readers)
        lane.chunks.append(chunk)
        return chunk

    def committable(self, tps: Iterable[TP] | None = None) -> dict[TP, int]:
        """Offsets that advanced since the last :meth:`mark_committed` (only ``tps`` if given)."""
        out: dict[TP, int] = {}
        lanes = self.lanes
        for tp in lanes if tps is None else tps:
            lane = lanes.get(tp)
            if lane is None:
                continue
            offset = lane.committable()
            if offset > lane.committed or lane.committed < 0:
                out[tp] = offset
        return out

    def pending(self, tp: TP) -> int:
        """How many delivered records of ``tp`` some reader has not processed (for reports)."""
        lane = self.lanes.get(tp)
        if lane is None:
            return 0
        return sum(chunk.size - min(chunk.done) for chunk in lane.chunks)

    def mark_committed(self, offsets: dict[TP, int]) -> None:
        """Remember what was committed."""
        for tp, offset in offsets.items():
            lane = self.lanes.get(tp)
            if lane is not None:
                lane.committed = offset

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop partitions (revoked, newly assigned): acks of their earlier deliveries count
        for nothing from now on."""
        for tp in tps:
            self.lanes.pop(tp, None)

    def moved(self, tp: TP, offset: int) -> None:
        """The consumer's position of ``tp`` was moved to ``offset`` (a seek): what was
        delivered before no longer counts, and the next commit stores ``offset`` (Kafka's
        semantics: committing after a seek commits the new position)."""
        lane = self.lanes[tp] = Lane(tp, offset)
        lane.committed = -1
