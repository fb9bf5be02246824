"""Exactly-once processing: the sends made while events are processed, and those events'
offsets, committed in one transaction of the app's transactional producer.

One transaction is open at a time (one producer per app). Readers enter it when they hand an
event (or a ``take`` batch) to the service and leave it when the service asks for the next
one. A commit waits until no reader holds an event, and holds back new events meanwhile, so a
transaction never has the sends of an event whose offset it does not commit, nor the reverse.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from gen_topics.errors import (
    MemberFencedError,
    TransactionError,
    TransactionFencedError,
    TransactionTimeoutError,
)

if TYPE_CHECKING:
    from gen_topics._app import App

__all__ = ["Transactions"]

log = logging.getLogger(__name__)


class Transactions:
    """The app's transaction bookkeeping (``processing_guarantee="exactly_once"``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.held = 0
        self._idle: asyncio.Event | None = None
        self._committing: asyncio.Future[None] | None = None
        self._last = 0.0
        # An abort happened while events were in readers' hands: what they still send goes
        # into the next transaction, which must therefore abort too, not commit.
        self._poisoned = False
        # The error that left the producer unable to commit (the broker aborted its
        # transaction on timeout, or a newer producer fenced it): later commits, such as the
        # one stop() makes, have nothing valid to commit.
        self._broken: TransactionError | None = None

    def producer_started(self) -> None:
        """A new producer (a new transactional session) can commit again."""
        self._broken = None

    # -- readers -------------------------------------------------------------------------

    @property
    def committing(self) -> bool:
        """True while a commit (or its abort) is under way: new events wait."""
        return self._committing is not None

    def enter_now(self) -> None:
        """A reader hands out an event while no commit is under way."""
        self.held += 1

    async def enter(self) -> None:
        """A reader hands out an event: wait while a commit is under way, then count it."""
        while self._committing is not None:
            await asyncio.shield(self._committing)
        self.held += 1

    def leave(self) -> None:
        """The reader's event was processed (the service asked for the next one)."""
        self.held -= 1
        if self.held <= 0:
            self.held = 0
            if self._idle is not None:
                self._idle.set()

    async def processed(self) -> None:
        """After an event or batch: commit now (per event) or when the interval is due."""
        interval = self.app.conf.transaction_commit_interval
        if interval is not None and asyncio.get_running_loop().time() - self._last < interval:
            return
        try:
            await self.commit()
        except MemberFencedError as exc:
            self.fenced(exc)

    def fenced(self, exc: MemberFencedError) -> None:
        """A commit the group refused because it fenced this member: not the service's
        error. The transaction is aborted and its partitions rewound; the consumer rejoins
        the group and reads what it is assigned (the partitions' owner processes the rest)."""
        log.warning(
            "app %r: transaction aborted, the group fenced this member: %s", self.app.id, exc
        )

    # -- commit and abort ---------------------------------------------------------------

    async def commit(self) -> None:
        """Commit the open transaction with every processed offset, once no reader holds
        an event (new events wait); on failure abort it and raise."""
        if self._committing is not None:
            await asyncio.shield(self._committing)
            return
        if self._broken is not None:
            log.warning(
                "app %r: not committing: the producer's transactions failed earlier (%s); "
                "what was processed since the last commit is processed again after a restart",
                self.app.id,
                self._broken,
            )
            return
        loop = asyncio.get_running_loop()
        done = self._committing = loop.create_future()
        try:
            timeout = self.app.conf.producer_transaction_timeout_ms / 1000.0
            while self.held > 0:
                if self._idle is None:
                    self._idle = asyncio.Event()
                self._idle.clear()
                try:
                    async with asyncio.timeout(timeout):
                        await self._idle.wait()
                except TimeoutError:
                    ms = self.app.conf.producer_transaction_timeout_ms
                    raise TransactionTimeoutError(
                        f"app {self.app.id!r}: {self.held} event(s) were still being processed "
                        f"after {timeout:g} s, the transaction's timeout "
                        f"(producer_transaction_timeout_ms={ms}): the transaction cannot commit "
                        "(the broker aborts it); it is aborted and its events are processed "
                        "again: process an event (or batch) faster, commit more often "
                        "(transaction_commit_interval), or raise producer_transaction_timeout_ms "
                        "(the broker caps it at transaction.max.timeout.ms)",
                        elapsed=timeout,
                        timeout=timeout,
                    ) from None
            if self._poisoned:
                # The events of the aborted transaction have been left now (held == 0).
                self._poisoned = False
                log.warning(
                    "app %r: aborting the transaction that holds what events of an aborted "
                    "one sent after it was aborted (they are processed again)",
                    self.app.id,
                )
                await self.abort()
                return
            await self._commit_now()
        except BaseException as exc:
            if isinstance(exc, TransactionTimeoutError | TransactionFencedError) and not (
                isinstance(exc, MemberFencedError)  # the member rejoins; the producer is fine
            ):
                self._broken = exc
            await self.abort()
            raise
        finally:
            self._last = loop.time()
            self._committing = None
            done.set_result(None)

    async def _commit_now(self) -> None:
        app = self.app
        tracker = app.conductor.tracker
        offsets = tracker.committable()
        producer = app.producer_or_none
        if producer is None:
            if not offsets:
                return
            producer = await app.maybe_start_producer()
        # send_soon's buffered records belong to this transaction: they go out first.
        await app.flush()
        consumer = app.conductor.consumer
        # The member's generation now: the group refuses these offsets if it has moved the
        # partitions to another member meanwhile (MemberFencedError; the abort follows).
        member = consumer.group_metadata() if consumer is not None else None
        await producer.commit_transaction(offsets, app.conf.consumer_group_id, member)
        tracker.mark_committed(offsets)

    async def abort(self) -> None:
        """Abort the open transaction; every partition read since the last commit is read
        again from its committed offset (the service sees those events again)."""
        if self.held > 0:
            self._poisoned = True
        producer = self.app.producer_or_none
        if producer is not None:
            try:
                await producer.abort_transaction()
            except Exception as exc:
                # The broker aborts it anyway (a newer instance, or its timeout).
                log.warning("app %r: aborting the transaction failed: %s", self.app.id, exc)
        await self.app.conductor.rewind()
