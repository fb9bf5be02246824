"""The app's consumer: subscribes to what iterated topics want, routes, tracks, commits, seeks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from gen_topics._messages import TP, Message
from gen_topics._offsets import OffsetTracker
from gen_topics._transport.base import ConsumerTransport
from gen_topics.errors import CommitFailed, MemberFencedError, SeekError

if TYPE_CHECKING:
    from gen_topics._app import App
    from gen_topics._topic_reading import TopicReading

__all__ = ["Conductor"]

log = logging.getLogger(__name__)

_FETCH_TIMEOUT_MS = 200
# How long a seek or a position query waits for the group to assign this app partitions.
_ASSIGNMENT_TIMEOUT = 60.0
# How long stop() keeps trying to commit while the group refuses commits (a rebalance).
_STOP_COMMIT_TIMEOUT = 10.0

# Per partition: the readers it goes to, each one's slot in the batch's chunk (-1: it does
# not ack), and how many readers ack.
_Route = tuple[list["TopicReading[Any, Any]"], list[int], int]


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


class Conductor:
    """Owns the app's one consumer transport and the set of iterated topics (Faust's
    ``app.topics``), however many readers start at once.

    Each fetched batch goes, as one segment, to every subscribed topic whose names or pattern
    match its topic name; an offset becomes committable once every acking reader processed
    the record.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.tracker = OffsetTracker()
        self._topics: set[TopicReading[Any, Any]] = set()
        self._routes: dict[TP, _Route] = {}
        self._dirty = True
        self._consumer: ConsumerTransport | None = None
        self._starting: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_commit = 0.0
        self._error: BaseException | None = None
        self._reading = True
        # Partitions revoked or sought while the current fetched batch is being dispatched.
        self._interrupted: set[TP] = set()
        self._assigned: asyncio.Event | None = None

    def __len__(self) -> int:
        return len(self._topics)

    @property
    def topics(self) -> frozenset[TopicReading[Any, Any]]:
        """The subscribed (iterating) topics."""
        return frozenset(self._topics)

    @property
    def consumer(self) -> ConsumerTransport | None:
        """The started consumer transport, or None."""
        return self._consumer

    def to_message(self, record: Any) -> Message:
        """The :class:`Message` of a record the consumer fetched."""
        consumer = self._consumer
        return record if consumer is None else consumer.to_message(record)

    def add(self, topic: TopicReading[Any, Any]) -> None:
        """Subscribe ``topic`` (an iterator clone); the consumer starts on first use."""
        self._topics.add(topic)
        self._dirty = True
        self._routes.clear()
        if not self._reading:
            topic._close_reading()

    def discard(self, topic: TopicReading[Any, Any]) -> None:
        """Unsubscribe ``topic``."""
        if topic in self._topics:
            self._topics.discard(topic)
            self._dirty = True
            self._routes.clear()

    # -- starting -----------------------------------------------------------------------

    async def ensure_running(self) -> None:
        """Start the consumer and its fetch loop once, however many readers ask at the same
        moment; re-raise a crash of the loop."""
        if self._error is not None:
            raise self._error
        if not self._reading or (self._task is not None and not self._task.done()):
            return
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
            # Its error reaches every waiter; retrieved here too, in case none is left.
            self._starting.add_done_callback(_retrieve)
        starting = self._starting
        try:
            await asyncio.shield(starting)
        finally:
            if starting.done() and self._starting is starting:
                self._starting = None

    async def _start(self) -> None:
        if self._consumer is None:
            consumer = self.app.transport.consumer(self.app.conf.consumer())
            try:
                await consumer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await consumer.stop()
                raise
            self._consumer = consumer
        if not self._reading or (self._task is not None and not self._task.done()):
            return
        # The first periodic commit is one interval after the start (not at once because
        # the loop's clock, the machine's uptime, happens to exceed the interval).
        self._last_commit = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name=f"{self.app.id}-consumer")

    def reopen(self) -> None:
        """Allow reading again after :meth:`stop` (the app was started again)."""
        self._reading = True
        self._error = None
        for topic in self._topics:
            topic._reopen()

    # -- the fetch loop ---------------------------------------------------------------

    async def _resubscribe(self, consumer: ConsumerTransport) -> None:
        self._dirty = False
        names: set[str] = set()
        patterns = []
        for topic in self._topics:
            if topic.pattern is not None:
                patterns.append(topic.pattern)
            else:
                names.update(topic.topics)
        self._routes.clear()
        await consumer.subscribe(frozenset(names), tuple(patterns), self)

    def _route(self, tp: TP) -> _Route:
        targets = [
            t
            for t in self._topics
            if t.wants(tp.topic) and (t.active_partitions is None or tp in t.active_partitions)
        ]
        slots: list[int] = []
        acking = 0
        for t in targets:
            if t.acks:
                slots.append(acking)
                acking += 1
            else:
                slots.append(-1)
        route = self._routes[tp] = (targets, slots, acking)
        return route

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        loop = asyncio.get_running_loop()
        tracker = self.tracker
        interrupted = self._interrupted
        try:
            while self._reading:
                if self._dirty:
                    await self._resubscribe(consumer)
                batches = await consumer.getmany(_FETCH_TIMEOUT_MS)
                interrupted.clear()
                if self.app.sensors.active:
                    self._sense_fetched(batches)
                for tp, messages in batches.items():
                    if not messages or tp in interrupted or not self._reading:
                        continue
                    route = self._routes.get(tp) or self._route(tp)
                    targets, slots, acking = route
                    chunk = tracker.delivered(tp, messages, acking)
                    for reader, slot in zip(targets, slots, strict=True):
                        if reader._full():
                            await reader._wait_room()
                            if tp in interrupted:
                                break  # revoked or sought meanwhile: read again from there
                        reader._push(tp, messages, chunk if slot >= 0 else None, slot)
                if loop.time() - self._last_commit >= self.app.conf.commit_interval:
                    try:
                        await self.commit()
                    except CommitFailed as exc:
                        # A rebalance is under way: the revocation commits what it can.
                        log.warning("app %r: periodic commit skipped: %s", self.app.id, exc)
                    except MemberFencedError as exc:
                        txns = self.app.transactions
                        assert txns is not None  # only transactions are fenced so
                        txns.fenced(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Kept, not raised: stop() must not find an unretrieved task exception.
            log.exception("consumer of app %r stopped", self.app.id)
            self._error = exc
            for topic in list(self._topics):
                topic.throw(exc)

    def _sense_fetched(self, batches: Mapping[TP, Sequence[Any]]) -> None:
        sensors = self.app.sensors
        for messages in batches.values():
            for record in messages:
                sensors.message_in(self.to_message(record))

    async def _commit(self, consumer: ConsumerTransport, offsets: Mapping[TP, int]) -> None:
        """Commit ``offsets`` and tell the sensors (with how long the commit took)."""
        started = time.monotonic()
        await consumer.commit(offsets)
        self.tracker.mark_committed(dict(offsets))
        if self.app.sensors.active:
            self.app.sensors.commit(offsets, time.monotonic() - started)

    # -- rebalancing (RebalanceListener) -------------------------------------------------

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Drop the unprocessed records of ``revoked`` and commit what was processed on them,
        so the new owner reads the rest from the committed offset (no loss; under exactly-once
        no duplicate either)."""
        if not revoked:
            return  # aiokafka's first join revokes nothing
        self._interrupted |= revoked
        # Drop the queued records first: an event a reader took from its queue and that waits
        # for a commit under way (the interval's, which this revocation may only join) is
        # then skipped when that commit ends, not handed out after it and before the drop.
        for topic in list(self._topics):
            topic._drop(revoked)
        offsets = self.tracker.committable(revoked)
        txns = self.app.transactions
        if txns is not None:
            # Exactly-once: the revoked partitions' processed offsets commit with the sends
            # made for them, in the open transaction (else it aborts; they are read again).
            try:
                await txns.commit()
            except Exception as exc:
                log.warning(
                    "app %r: transaction not committed before giving partitions up: %s",
                    self.app.id,
                    exc,
                )
            offsets = {}
        if offsets and self._consumer is not None:
            try:
                await self._commit(self._consumer, offsets)
            except Exception as exc:
                # Not committed: the new owner reprocesses them (duplicates, never a loss).
                log.warning(
                    "app %r: could not commit %s before giving the partitions up: %s",
                    self.app.id,
                    offsets,
                    exc,
                    extra={
                        "app": self.app.id,
                        "offsets": {f"{t}[{p}]": o for (t, p), o in offsets.items()},
                    },
                )
        for topic in list(self._topics):
            topic._drop(revoked)
        self.tracker.forget(revoked)
        if self.app.sensors.active:
            self.app.sensors.rebalance(set(), set(revoked))

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """Track ``assigned`` afresh: reading restarts at their committed offsets."""
        self.tracker.forget(assigned)
        if self._assigned is not None:
            self._assigned.set()
        if self.app.sensors.active:
            self.app.sensors.rebalance(set(assigned), set())

    # -- commits ------------------------------------------------------------------------

    async def commit(self) -> dict[TP, int]:
        """Commit every processed offset now; returns what was committed."""
        self._last_commit = asyncio.get_running_loop().time()
        if self._consumer is None:
            return {}
        txns = self.app.transactions
        if txns is not None:
            before = dict(self.tracker.committable())
            await txns.commit()
            return before
        offsets = self.tracker.committable()
        if offsets:
            await self._commit(self._consumer, offsets)
        return offsets

    async def lag(self) -> dict[TP, int]:
        """Per assigned partition, the end offset minus the group's committed offset (the
        beginning offset where nothing is committed yet)."""
        consumer = self._consumer
        if consumer is None:
            return {}
        assigned = consumer.assignment()
        if not assigned:
            return {}
        ends = await consumer.end_offsets(assigned)
        committed = {tp: await consumer.committed(tp) for tp in assigned}
        missing = [tp for tp, offset in committed.items() if offset is None]
        starts = await consumer.beginning_offsets(missing) if missing else {}
        lags: dict[TP, int] = {}
        for tp in sorted(assigned):
            base = committed[tp]
            if base is None:
                base = starts.get(tp, 0)
            lags[tp] = max(0, ends.get(tp, 0) - base)
        return lags

    async def rewind(self) -> None:
        """Read every partition again from its last committed offset (an aborted
        transaction's events are processed again; what readers queued is dropped)."""
        consumer = self._consumer
        if consumer is None:
            return
        assigned = consumer.assignment()
        for tp, lane in list(self.tracker.lanes.items()):
            # Anything delivered past the committed offset, processed, queued or still in a
            # reader's hand (an abort while an event is being processed): read it again.
            if tp in assigned and lane.committed >= 0 and lane.next > lane.committed:
                await consumer.seek(tp, lane.committed)
                self._moved(tp, lane.committed)
            elif tp in assigned and lane.committed < 0:
                committed = await consumer.committed(tp)
                if committed is not None:
                    await consumer.seek(tp, committed)
                    self._moved(tp, committed)

    def pending(self) -> dict[TP, int]:
        """Per partition, how many delivered records are not processed yet (for reports)."""
        out: dict[TP, int] = {}
        for tp in self.tracker.lanes:
            count = self.tracker.pending(tp)
            if count:
                out[tp] = count
        return out

    # -- positions ------------------------------------------------------------------------

    async def _consumer_for(
        self, topic: TopicReading[Any, Any], tps: Iterable[TP] | None
    ) -> tuple[ConsumerTransport, list[TP]]:
        """The running consumer and the partitions of ``topic`` to act on (``tps``, or all of
        its partitions assigned to this app), once the group assigned some."""
        names = list(tps) if tps is not None else None
        wanted = set(topic.topics) | {tp.topic for tp in names or ()}
        if not any(
            t is topic or t.root is topic or not wanted.isdisjoint(t.topics) for t in self._topics
        ):
            raise SeekError(
                f"app {self.app.id!r} does not read {topic}: start iterating it first "
                "(stream = aiter(topic)), then seek"
            )
        await self.ensure_running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ASSIGNMENT_TIMEOUT
        while True:
            consumer = self._consumer
            if consumer is None:
                raise SeekError(f"app {self.app.id!r} is not reading (it was stopped)")
            assignment = consumer.assignment()
            mine = sorted(tp for tp in assignment if topic.wants(tp.topic))
            if names is not None and assignment:
                missing = [tp for tp in names if tp not in assignment]
                if missing:
                    where = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in missing)
                    raise SeekError(
                        f"partition {where} is not assigned to app {self.app.id!r} (group "
                        f"{self.app.conf.consumer_group_id!r}); it has "
                        + (", ".join(f"{t}[{p}]" for t, p in mine) or "no partition of it")
                    )
                return consumer, names
            if names is None and mine:
                return consumer, mine
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SeekError(
                    f"no partition of {topic} was assigned to app {self.app.id!r} within "
                    f"{_ASSIGNMENT_TIMEOUT:.0f} s (do other members of group "
                    f"{self.app.conf.consumer_group_id!r} hold them all?)"
                )
            if self._assigned is None:
                self._assigned = asyncio.Event()
            self._assigned.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self._assigned.wait()

    def _moved(self, tp: TP, offset: int) -> None:
        self._interrupted.add(tp)
        for reader in list(self._topics):
            reader._drop({tp})
        self.tracker.moved(tp, offset)

    async def seek(self, topic: TopicReading[Any, Any], offsets: Mapping[TP, int]) -> None:
        """Move the consumer's position of each partition (readers drop what they queued)."""
        consumer, tps = await self._consumer_for(topic, list(offsets))
        for tp in tps:
            try:
                await consumer.seek(tp, offsets[tp])
            except ValueError as exc:
                raise SeekError(f"cannot seek {tp.topic}[{tp.partition}]: {exc}") from exc
            self._moved(tp, offsets[tp])

    async def seek_to(
        self,
        topic: TopicReading[Any, Any],
        tps: list[TP] | None,
        where: Literal["beginning", "end", "timestamp"],
        timestamp_ms: int = 0,
    ) -> None:
        """Seek to the log's beginning, its end, or the first record at a timestamp."""
        consumer, parts = await self._consumer_for(topic, tps)
        if where == "beginning":
            targets = await consumer.beginning_offsets(parts)
        elif where == "end":
            targets = await consumer.end_offsets(parts)
        else:
            found = await consumer.offsets_for_times(dict.fromkeys(parts, timestamp_ms))
            ends = await consumer.end_offsets([tp for tp, o in found.items() if o is None])
            targets = {tp: ends[tp] if o is None else o for tp, o in found.items()}
        for tp in parts:
            await consumer.seek(tp, targets[tp])
            self._moved(tp, targets[tp])

    async def positions(self, topic: TopicReading[Any, Any]) -> dict[TP, int]:
        """The consumer's position of each assigned partition of ``topic``."""
        consumer, parts = await self._consumer_for(topic, None)
        return {tp: await consumer.position(tp) for tp in parts}

    async def end_offsets(self, topic: TopicReading[Any, Any]) -> dict[TP, int]:
        """The end offset of each assigned partition of ``topic``."""
        consumer, parts = await self._consumer_for(topic, None)
        return await consumer.end_offsets(parts)

    async def unprocessed(self, topic: TopicReading[Any, Any]) -> dict[TP, int]:
        """Per assigned partition of ``topic``, the end offset minus the lowest offset this
        app has not processed: records fetched and queued in readers count as unprocessed."""
        consumer, parts = await self._consumer_for(topic, None)
        ends = await consumer.end_offsets(parts)
        out: dict[TP, int] = {}
        for tp in parts:
            lane = self.tracker.lanes.get(tp)
            base = lane.committable() if lane is not None else await consumer.position(tp)
            out[tp] = max(0, ends[tp] - base)
        return out

    # -- stopping -----------------------------------------------------------------------

    def stop_reading(self) -> None:
        """No more records reach readers: each reader's next read ends its iteration (the
        event in hand is acked first); records queued in readers are left unprocessed."""
        self._reading = False
        for topic in list(self._topics):
            topic._close_reading()

    async def stop(self) -> None:
        """Stop fetching, commit what was processed, leave the group."""
        self.stop_reading()
        starting, self._starting = self._starting, None
        if starting is not None:
            # A start in flight finishes first, so its consumer is stopped, not left open.
            await asyncio.wait({starting})
            if not starting.cancelled():
                starting.exception()  # retrieved: the readers that waited got it
        task, self._task = self._task, None
        while task is not None and not task.done():
            # Cancel until it sticks: a client library may swallow one cancellation.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait({task}, timeout=1.0)
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            txns = self.app.transactions
            if txns is None:
                await self._final_commit(consumer)
            elif txns.held:
                # An event's processing did not finish (its service failed or was cancelled):
                # none of the transaction commits; the next run processes it all again.
                log.warning(
                    "app %r: %d event(s) unprocessed at stop: aborting the transaction",
                    self.app.id,
                    txns.held,
                )
                await txns.abort()
            else:
                try:
                    await txns.commit()
                except MemberFencedError as exc:
                    txns.fenced(exc)  # the partitions' owner processes them
        finally:
            await consumer.stop()

    async def _final_commit(self, consumer: ConsumerTransport) -> None:
        """Commit what was processed; while the group refuses (it is rebalancing), try again
        for a while: the partitions come back to this member, or their revocation commits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STOP_COMMIT_TIMEOUT
        while True:
            offsets = self.tracker.committable()
            if not offsets:
                return
            try:
                await self._commit(consumer, offsets)
            except CommitFailed:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            return
