"""Running a service until SIGTERM / SIGINT, and stopping it cleanly within a bound.

On the first signal: reading stops (each reader finishes the event in hand and its
``async for`` ends), the service coroutines return, then the app publishes what
``send_soon`` buffered, waits for every delivery and callback, commits what was processed and
disconnects. All of it within ``shutdown_timeout`` seconds; what the bound cut short is
reported. A second signal cuts the wait for the service coroutines short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gen_topics._app import App

__all__ = ["ShutdownReport", "run", "run_until_stopped"]

log = logging.getLogger("gen_topics.runner")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Of the shutdown bound, at least this much (or a third of it, if less) is kept for app.stop().
_STOP_RESERVE = 5.0

Service = Callable[["App"], Awaitable[Any]] | Awaitable[Any]


@dataclass
class ShutdownReport:
    """How a run ended: why, how long the shutdown took, and what it left undone.

    ``clean`` is True when every service coroutine returned and the app stopped (everything
    sent acknowledged, everything processed committed) within the bound. ``exit_code`` is the
    process exit status a service should end with: 0 when clean, 1 otherwise.
    """

    reason: str
    clean: bool = True
    seconds: float = 0.0
    left_undone: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 for a clean stop, 1 when something failed or was left undone."""
        return 0 if self.clean and not self.errors else 1

    def __str__(self) -> str:
        head = f"stopped ({self.reason}) in {self.seconds:.1f} s"
        if self.clean and not self.errors:
            return head + ", cleanly"
        lines = [head + "; left undone:"]
        lines += [f"  - {item}" for item in self.left_undone]
        lines += [f"  - error: {type(e).__name__}: {e}" for e in self.errors]
        return "\n".join(lines)


class _Stop:
    """The stop request: set by a signal, by ``app.request_stop()`` or when services end."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason = ""
        self.signals = 0

    def request(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def on_signal(self, signum: signal.Signals) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        if self.signals == 1:
            log.info("%s received: stopping (send it again to stop without waiting)", name)
        self.request(name)


def _install(stop: _Stop) -> list[signal.Signals]:
    """Signal handlers on the running loop (main thread only: elsewhere signals stay as they
    are, and ``app.request_stop()`` is how to stop)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    installed = []
    for signum in SIGNALS:
        try:
            loop.add_signal_handler(signum, stop.on_signal, signum)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Unix
            continue
        installed.append(signum)
    return installed


def _held(app: App) -> list[str]:
    """Where every reader's event in hand came from (topic[partition]@offset)."""
    out = []
    for reader in app.conductor.topics:
        message = reader.held()
        if message is not None:
            out.append(f"{message.topic}[{message.partition}]@{message.offset}")
    return sorted(out)


def _as_task(app: App, service: Service) -> asyncio.Future[Any]:
    if callable(service):
        service = service(app)
    return asyncio.ensure_future(service)


async def run_until_stopped(
    app: App, *services: Service, shutdown_timeout: float = 30.0
) -> ShutdownReport:
    """Start ``app``, run ``services`` (coroutines, or callables taking the app) until SIGTERM or
    SIGINT, ``app.request_stop()``, or until every service returned or one failed; then stop
    cleanly within ``shutdown_timeout`` seconds and return the :class:`ShutdownReport`."""
    loop = asyncio.get_running_loop()
    stop = _Stop()
    installed = _install(stop)
    app._stop_request = stop.request
    tasks: list[asyncio.Future[Any]] = []
    report = ShutdownReport(reason="")
    try:
        await app.start()
        tasks = [_as_task(app, s) for s in services]
        for task in tasks:
            task.add_done_callback(
                lambda t: (
                    stop.request("a service failed")
                    if not t.cancelled() and t.exception() is not None
                    else None
                )
            )
        waiter = asyncio.ensure_future(stop.event.wait())
        try:
            pending = set(tasks)
            while pending and not stop.event.is_set():
                _, pending = await asyncio.wait(
                    {*pending, waiter}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(waiter)
            if not tasks:
                await waiter
        finally:
            waiter.cancel()
        report.reason = stop.reason or "the services returned"
        await _shut_down(app, tasks, stop, report, loop.time() + shutdown_timeout)
    finally:
        app._stop_request = None
        for signum in installed:
            loop.remove_signal_handler(signum)
    return report


async def _shut_down(
    app: App,
    tasks: list[asyncio.Future[Any]],
    stop: _Stop,
    report: ShutdownReport,
    deadline: float,
) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    budget = deadline - began
    reserve = min(_STOP_RESERVE, budget / 3)
    # 1. No more records reach readers; each reader's next read ends its iteration.
    app.begin_stopping()
    app.conductor.stop_reading()
    # 2. The services finish the event in hand and return (a second signal: no waiting).
    running = {t for t in tasks if not t.done()}
    while running and stop.signals < 2:
        remaining = deadline - reserve - loop.time()
        if remaining <= 0:
            break
        _, running = await asyncio.wait(running, timeout=min(remaining, 0.5))
    if running:
        held = _held(app)
        report.clean = False
        report.left_undone.append(
            f"{len(running)} service task(s) did not return within "
            f"{budget - reserve:.1f} s and were cancelled"
            + (f" while processing {', '.join(held)} (not committed)" if held else "")
        )
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            report.errors.append(error)
            log.error("service failed", exc_info=error)
    # 3. Publish buffered sends, await deliveries and callbacks, commit, disconnect.
    remaining = max(deadline - loop.time(), reserve)
    try:
        async with asyncio.timeout(remaining):
            await app.stop()
    except TimeoutError:
        report.clean = False
        report.left_undone.append(
            f"stopping the app (publishing buffered sends, awaiting deliveries, committing) did "
            f"not finish within {remaining:.1f} s"
        )
    except Exception as exc:
        report.clean = False
        report.errors.append(exc)
    report.seconds = loop.time() - began
    if report.clean and not report.errors:
        log.info("app %r %s", app.id, report)
    else:
        log.error("app %r %s", app.id, report)


def run(
    app: App,
    main: Callable[[App], Coroutine[Any, Any, Any]] | None = None,
    *,
    shutdown_timeout: float = 30.0,
) -> int:
    """``sys.exit(app.run(main))``: run ``main(app)`` until it returns or SIGTERM/SIGINT, stop
    cleanly (see :func:`run_until_stopped`) and return the exit status (0: clean)."""

    async def _main() -> ShutdownReport:
        services = () if main is None else (main,)
        return await run_until_stopped(app, *services, shutdown_timeout=shutdown_timeout)

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_main()).exit_code
    return 1
