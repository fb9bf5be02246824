"""The app's consumer: subscribes to what iterated topics want, routes, tracks, commits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from gen_topics._messages import TP, Message
from gen_topics._offsets import OffsetTracker
from gen_topics._transport.base import ConsumerTransport
from gen_topics.errors import CommitFailed

if TYPE_CHECKING:
    from gen_topics._app import App
    from gen_topics._topic_reading import TopicReading

__all__ = ["Conductor"]

log = logging.getLogger(__name__)

_FETCH_TIMEOUT_MS = 200


class Conductor:
    """Owns the consumer transport and the set of iterated topics (Faust's ``app.topics``).

    Each fetched record goes to every subscribed topic whose names or pattern match its
    topic name; its offset becomes committable once every one of those readers acked it.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.tracker = OffsetTracker()
        self._topics: set[TopicReading[Any, Any]] = set()
        self._routes: dict[str, list[TopicReading[Any, Any]]] = {}
        self._dirty = True
        self._consumer: ConsumerTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_commit = 0.0
        self._error: BaseException | None = None
        self._isolated = False
        # Partitions revoked while the current fetched batch is being dispatched.
        self._revoked_in_batch: set[TP] = set()

    def __len__(self) -> int:
        return len(self._topics)

    @property
    def topics(self) -> frozenset[TopicReading[Any, Any]]:
        """The subscribed (iterating) topics."""
        return frozenset(self._topics)

    def add(self, topic: TopicReading[Any, Any]) -> None:
        """Subscribe ``topic`` (an iterator clone); the consumer starts on first use."""
        self._topics.add(topic)
        self._dirty = True

    def discard(self, topic: TopicReading[Any, Any]) -> None:
        """Unsubscribe ``topic``."""
        if topic in self._topics:
            self._topics.discard(topic)
            self._dirty = True

    async def ensure_running(self) -> None:
        """Start the consumer and its fetch loop if needed; re-raise a crash of the loop."""
        if self._error is not None:
            raise self._error
        if self._task is None or self._task.done():
            if self._consumer is None:
                consumer = self.app.transport.consumer(self.app.conf.consumer())
                await consumer.start()
                self._consumer = consumer
            # The first periodic commit is one interval after the start (not at once because
            # the loop's clock, the machine's uptime, happens to exceed the interval).
            self._last_commit = asyncio.get_running_loop().time()
            self._task = asyncio.create_task(self._run(), name=f"{self.app.id}-consumer")

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
        self._isolated = any(t.active_partitions is not None for t in self._topics)
        await consumer.subscribe(frozenset(names), tuple(patterns), self)

    def _route(self, name: str) -> list[TopicReading[Any, Any]]:
        targets = self._routes.get(name)
        if targets is None:
            targets = [t for t in self._topics if t.wants(name)]
            self._routes[name] = targets
        return targets

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._dirty:
                    await self._resubscribe(consumer)
                batches = await consumer.getmany(_FETCH_TIMEOUT_MS)
                self._revoked_in_batch.clear()
                for tp, messages in batches.items():
                    for message in messages:
                        if tp in self._revoked_in_batch:
                            break  # the new owner reads these from the committed offset
                        await self._dispatch(tp, message)
                if loop.time() - self._last_commit >= self.app.conf.commit_interval:
                    try:
                        await self.commit()
                    except CommitFailed as exc:
                        # A rebalance is under way: the revocation commits what it can.
                        log.warning("app %r: periodic commit skipped: %s", self.app.id, exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.exception("consumer of app %r stopped", self.app.id)
            self._error = exc
            for topic in list(self._topics):
                topic.throw(exc)
            raise

    async def _dispatch(self, tp: TP, message: Message) -> None:
        targets = self._route(tp.topic)
        if self._isolated:
            # Isolated-partition readers only get the partitions they were given.
            targets = [
                t for t in targets if t.active_partitions is None or tp in t.active_partitions
            ]
        acking = [t for t in targets if t.acks]
        self.tracker.delivered(tp, message, len(acking))
        for topic in targets:
            await topic.deliver(message)
            if tp in self._revoked_in_batch:
                # Revoked while this delivery waited for room in a full queue.
                topic.drop_queued(lambda queued: queued is message)

    # -- rebalancing (RebalanceListener) -------------------------------------------------

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Commit what was processed on ``revoked``, then drop their unprocessed records so
        the new owner reads them from the committed offset (at-least-once, no loss)."""
        if not revoked:
            return  # aiokafka's first join revokes nothing
        self._revoked_in_batch |= revoked
        offsets = self.tracker.committable(revoked)
        if offsets and self._consumer is not None:
            try:
                await self._consumer.commit(offsets)
                self.tracker.mark_committed(offsets)
            except Exception as exc:
                # Not committed: the new owner reprocesses them (duplicates, never a loss).
                log.warning(
                    "app %r: could not commit %s before giving the partitions up: %s",
                    self.app.id,
                    offsets,
                    exc,
                )
        tracker = self.tracker
        for topic in list(self._topics):
            topic.drop_queued(lambda m: m.tp in revoked and tracker.holds(m))
        tracker.forget(revoked)

    async def on_partitions_assigned(self, assigned: set[TP]) -> None:
        """Track ``assigned`` afresh: reading restarts at their committed offsets."""
        self.tracker.forget(assigned)

    def ack(self, message: Message) -> None:
        """A reader finished ``message``."""
        self.tracker.ack(message)

    async def commit(self) -> dict[TP, int]:
        """Commit every processed offset now; returns what was committed."""
        self._last_commit = asyncio.get_running_loop().time()
        if self._consumer is None:
            return {}
        offsets = self.tracker.committable()
        if offsets:
            await self._consumer.commit(offsets)
            self.tracker.mark_committed(offsets)
        return offsets

    async def stop(self) -> None:
        """Stop fetching, commit what was processed, leave the group."""
        task, self._task = self._task, None
        while task is not None and not task.done():
            # Cancel until it sticks: a client library may swallow one cancellation.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait({task}, timeout=1.0)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                offsets = self.tracker.committable()
                if offsets:
                    await consumer.commit(offsets)
                    self.tracker.mark_committed(offsets)
            finally:
                await consumer.stop()
