"""The ``send_soon`` buffer: records queued synchronously, published in the background.

The app owes every buffered record a delivery: the buffer publishes them in order, retries a
record whose send failed for a transient reason (the broker unreachable, no leader, too few
in-sync replicas) for as long as the app runs, and resolves each record's future exactly once:
with its metadata, or with the error it failed with for good. Its callback runs once, then.
``App.stop()`` waits for the buffer up to ``producer_stop_timeout`` and gets back what could not
be delivered (:meth:`ProducerBuffer.close`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gen_topics._log_fields import record_fields
from gen_topics._messages import FutureMessage, RecordMetadata
from gen_topics._topic_sending import run_callback
from gen_topics.errors import DeliveryError

__all__ = ["ProducerBuffer"]

log = logging.getLogger(__name__)

_FIRST_BACKOFF_S = 0.1
_MAX_BACKOFF_S = 2.0
# After the producer was aborted its deliveries fail at once; this only guards against a
# transport that does not keep that promise.
_SETTLE_TIMEOUT_S = 10.0


@dataclass(slots=True, eq=False)
class _Entry:
    fut: FutureMessage
    seq: int
    buffered_at: float
    attempts: int = 0
    last_error: BaseException | None = None
    resolved: bool = False


class ProducerBuffer:
    """FIFO of FutureMessages, drained by one background task.

    ``retriable(exc)`` (the transport's judgement, given by the app) decides whether a failed
    send is tried again. Each message is published by its own channel
    (``fut.message.channel.deliver_message``).
    """

    def __init__(self, retriable: Callable[[BaseException], bool] | None = None) -> None:
        self._retriable = retriable or (lambda exc: bool(getattr(exc, "retriable", False)))
        self._queue: collections.deque[_Entry] = collections.deque()
        self._retry: list[_Entry] = []
        self._owed: set[_Entry] = set()
        self._delivering: set[asyncio.Task[None]] = set()
        self._publishing: _Entry | None = None
        self._seq = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._backoff = _FIRST_BACKOFF_S
        self._closing = False
        self._close_reason = "the app stopped"
        # Records that failed for good since begin_stop(): what stop() reports.
        self._failed: list[_Entry] | None = None

    def __len__(self) -> int:
        """How many records are owed: buffered, on their way, or waiting to be retried."""
        return len(self._owed)

    # -- queueing ---------------------------------------------------------------------

    def put(self, fut: FutureMessage) -> None:
        """Queue ``fut`` and make sure the drain task runs (when an event loop is running)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        entry = _Entry(fut, next(self._seq), loop.time() if loop is not None else 0.0)
        self._queue.append(entry)
        self._owed.add(entry)
        if self._idle is not None:
            self._idle.clear()
        if loop is not None:
            self._ensure_task()

    def _ensure_task(self) -> None:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        if self._idle is None:
            self._idle = asyncio.Event()
        if not self._owed:
            self._idle.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain_forever(), name="send_soon-buffer")
        self._wakeup.set()

    async def _drain_forever(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue and not self._closing:
                await self._publish(self._queue.popleft())

    async def _publish(self, entry: _Entry) -> None:
        if entry.buffered_at == 0.0:  # put() ran outside the event loop
            entry.buffered_at = asyncio.get_running_loop().time()
        entry.attempts += 1
        self._publishing = entry
        try:
            delivery = await entry.fut.message.channel.deliver_message(entry.fut)
        except Exception as exc:
            await self._failed_attempt(entry, exc)
            return
        finally:
            self._publishing = None
        task = asyncio.ensure_future(self._await_delivery(entry, delivery))
        self._delivering.add(task)
        task.add_done_callback(self._delivering.discard)

    async def _await_delivery(self, entry: _Entry, delivery: Awaitable[RecordMetadata]) -> None:
        try:
            metadata = await delivery
        except Exception as exc:
            await self._failed_attempt(entry, exc)
            return
        self._backoff = _FIRST_BACKOFF_S
        await self._resolve(entry, metadata, None)

    # -- retrying ---------------------------------------------------------------------

    async def _failed_attempt(self, entry: _Entry, exc: Exception) -> None:
        if not self._closing or entry.last_error is None:
            entry.last_error = exc  # (an abort's own error says less than the one before)
        if not self._closing and self._retriable(exc):
            self._retry.append(entry)
            if self._timer is None:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self._backoff, self._requeue)
                self._backoff = min(self._backoff * 2, _MAX_BACKOFF_S)
            return
        if self._closing and self._retriable(exc):
            # Failed because stop() gave up (the producer was aborted), or while it did.
            await self._resolve(entry, None, self._gave_up(entry, self._close_reason))
            return
        if self._failed is None:
            log.error(
                "send_soon record for topic %r failed and is not retried: %s",
                entry.fut.message.topic,
                exc,
                extra=record_fields(str(entry.fut.message.topic), entry.fut.message.partition),
            )
        await self._resolve(entry, None, self._final_error(entry, exc))

    def _requeue(self) -> None:
        # Failed records go back in front, in the order they were buffered.
        self._timer = None
        if self._retry and not self._closing:
            self._queue = collections.deque(
                sorted([*self._retry, *self._queue], key=lambda e: e.seq)
            )
            self._retry.clear()
            if self._wakeup is not None:
                self._wakeup.set()

    @staticmethod
    def _final_error(entry: _Entry, exc: BaseException) -> BaseException:
        if entry.attempts <= 1 or not isinstance(exc, DeliveryError):
            return exc
        age = asyncio.get_running_loop().time() - entry.buffered_at
        error = DeliveryError(
            f"{exc} (send_soon tried it {entry.attempts} times over {age:.1f} s)",
            topic=exc.topic,
            partition=exc.partition,
            elapsed=age,
            retriable=exc.retriable,
        )
        error.__cause__ = exc.__cause__ or exc
        return error

    # -- resolving --------------------------------------------------------------------

    async def _resolve(
        self, entry: _Entry, metadata: RecordMetadata | None, exc: BaseException | None
    ) -> None:
        if entry.resolved:
            return  # a future resolves, and its callback runs, once
        entry.resolved = True
        fut = entry.fut
        if not fut.done():
            if exc is None:
                assert metadata is not None
                fut.set_result(metadata)
            else:
                fut.set_exception(exc)
                # Reported by stop()'s UndeliveredRecordsError or the log line above, so the
                # future must not be reported again as "exception was never retrieved".
                fut.exception()
                if self._failed is not None:
                    self._failed.append(entry)
        try:
            await run_callback(fut)
        except Exception:
            log.exception("callback of the send_soon record for topic %r raised", fut.message.topic)
        finally:
            # Owed until its callback has run: flush() and stop() wait for callbacks too.
            self._owed.discard(entry)
            if not self._owed and self._idle is not None:
                self._idle.set()

    # -- flushing and stopping --------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every record buffered so far is delivered or failed for good (during an
        outage: until the broker is back)."""
        if not self._owed:
            return
        self._ensure_task()
        assert self._idle is not None
        await self._idle.wait()

    def begin_stop(self) -> None:
        """From now on, collect the records that fail for good (for :meth:`close`)."""
        if self._failed is None:
            self._failed = []

    async def drain(self, deadline: float) -> bool:
        """Wait until nothing is owed or the loop time reaches ``deadline``; True if drained."""
        if not self._owed:
            return True
        self._ensure_task()
        assert self._idle is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._idle.wait()
        return not self._owed

    async def halt(self, reason: str) -> None:
        """Stop publishing and retrying (what is owed stays owed until :meth:`close`);
        ``reason`` is what the records failing from now on are told."""
        self.begin_stop()
        self._closing = True
        self._close_reason = reason
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self, reason: str) -> list[FutureMessage]:
        """:meth:`halt`, fail what is still owed with ``reason``, and return every record
        that failed for good since :meth:`begin_stop`, in the order they were buffered.

        Records still on their way are left to their deliveries (the app aborts the producer
        first, so they fail at once) and counted too.
        """
        await self.halt(reason)
        stranded = [*self._retry, *self._queue]
        if self._publishing is not None:
            stranded.append(self._publishing)
        self._retry.clear()
        self._queue.clear()
        for entry in sorted(stranded, key=lambda e: e.seq):
            await self._resolve(entry, None, self._gave_up(entry, reason))
        if self._delivering:
            _, late = await asyncio.wait(set(self._delivering), timeout=_SETTLE_TIMEOUT_S)
            for pending in late:
                pending.cancel()
        for entry in sorted(self._owed, key=lambda e: e.seq):  # deliveries cancelled above
            if not entry.resolved:
                await self._resolve(entry, None, self._gave_up(entry, reason))
        failed = [entry.fut for entry in sorted(self._failed or (), key=lambda e: e.seq)]
        self._failed = None
        self._closing = False
        self._close_reason = "the app stopped"
        self._wakeup = None
        self._idle = None
        self._backoff = _FIRST_BACKOFF_S
        return failed

    @staticmethod
    def _gave_up(entry: _Entry, reason: str) -> DeliveryError:
        message = entry.fut.message
        topic = str(message.topic)
        last = entry.last_error
        partition = last.partition if isinstance(last, DeliveryError) else message.partition
        where = f"topic {topic!r}" + ("" if partition is None else f" partition {partition}")
        age = asyncio.get_running_loop().time() - entry.buffered_at
        tried = f"tried {entry.attempts} times" if entry.attempts else "never sent"
        error = DeliveryError(
            f"send_soon record for {where} was not delivered: {reason}; it was buffered "
            f"{age:.1f} s before and {tried}" + ("" if last is None else f"; last error: {last}"),
            topic=topic,
            partition=partition,
            elapsed=age,
            retriable=True,
        )
        error.__cause__ = last
        return error
