"""The ``send_soon`` buffer: records queued synchronously, published in the background."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging

from gen_topics._messages import FutureMessage

__all__ = ["ProducerBuffer"]

log = logging.getLogger(__name__)


class ProducerBuffer:
    """Unbounded FIFO of FutureMessages, drained by one background task.

    Each message is published by its own channel (``fut.message.channel``); a publish
    failure is set on the message's future, never dropped.
    """

    def __init__(self) -> None:
        self._pending: collections.deque[FutureMessage] = collections.deque()
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._in_progress = 0
        self._idle: asyncio.Event | None = None

    def put(self, fut: FutureMessage) -> None:
        """Queue ``fut`` and make sure the drain task runs (when an event loop is running)."""
        self._pending.append(fut)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # drained by the next flush() from async code
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain_forever(), name="send_soon-buffer")
        self._wakeup.set()

    async def _publish_one(self, fut: FutureMessage) -> None:
        self._in_progress += 1
        if self._idle is None:
            self._idle = asyncio.Event()
        self._idle.clear()
        try:
            await fut.message.channel.publish_message(fut, wait=False)
        except Exception as exc:
            log.warning("send_soon to %r failed: %s", fut.message.topic, exc)
            if not fut.done():
                fut.set_exception(exc)
        finally:
            self._in_progress -= 1
            if not self._in_progress:
                self._idle.set()

    async def _drain_forever(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                await self._publish_one(self._pending.popleft())

    async def flush(self) -> None:
        """Publish everything queued so far, including what the drain task holds
        (the deliveries themselves may still be in flight)."""
        while self._pending:
            await self._publish_one(self._pending.popleft())
        while self._in_progress and self._idle is not None:
            await self._idle.wait()

    async def stop(self) -> None:
        """Flush, then stop the drain task."""
        await self.flush()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._wakeup = None
