"""A started service: its address, process and private working directory; and how to start one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts import workdirs
from scripts.errors import ServiceStartError
from scripts.process import ServiceProcess

DEFAULT_TIMEOUT_S = 90.0
BIND_ATTEMPTS = 3
# How a start that lost a port race ends, in the process log that ServiceStartError quotes:
# Java's BindException (Kafka), and Quarkus' own message, which replaces it (Apicurio).
PORT_TAKEN_MARKERS = ("Address already in use", "seems to be in use by another process")


def start_timeout() -> float:
    """Seconds to wait for a service to answer (``GEN_TOPICS_SERVICE_TIMEOUT``, default 90)."""
    return float(os.environ.get("GEN_TOPICS_SERVICE_TIMEOUT", DEFAULT_TIMEOUT_S))


def _never_ready() -> bool:
    return False


@dataclass
class RunningService:
    """A service that answered its readiness probe; ``stop()`` removes every trace of it.

    Failover tests crash it with :meth:`kill` and bring it back with :meth:`start_again` (same
    command, ports and data), then poll :meth:`ready`.
    """

    name: str
    version: str
    address: str
    process: ServiceProcess
    workdir: Path
    probe: Callable[[], bool] = _never_ready
    what: str = "answering"

    def ready(self) -> bool:
        """Whether the service answers its readiness probe now."""
        return self.process.exit_code() is None and self.probe()

    def kill(self) -> None:
        """SIGKILL the service (its data stays, for :meth:`start_again`)."""
        self.process.kill()

    def start_again(self) -> None:
        """Start the killed or stopped service again on the same ports and data; returns at once
        (poll :meth:`ready`). Call it from the thread that should own the process (see
        ``process._die_with_parent``): in tests, the main thread."""
        self.process.start()

    def restart(self, *, timeout: float | None = None) -> None:
        """:meth:`start_again`, then wait until it answers (ServiceStartError if it does not)."""
        self.start_again()
        self.process.wait_ready(
            self.probe, timeout=start_timeout() if timeout is None else timeout, what=self.what
        )

    def stop(self) -> None:
        """Stop the process and delete its working directory (data, logs, temp files)."""
        try:
            self.process.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass(frozen=True)
class Launch:
    """A prepared, not yet started service process and how to tell that it is ready."""

    process: ServiceProcess
    address: str
    probe: Callable[[], bool]
    # Completes "... before {what}" / "did not become ready ({what})" in start errors.
    what: str


def _discard(process: ServiceProcess | None, workdir: Path) -> None:
    """Clean up after a failed start: stop *process* if it was spawned, delete *workdir*."""
    try:
        if process is not None:
            process.stop(timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def start_service(name: str, version: str, prepare: Callable[[Path], Launch]) -> RunningService:
    """Start a service in a fresh working directory and return it once its probe answers.

    ``prepare(workdir)`` picks free ports, writes the config and returns the Launch. Ports are
    free when picked but may be taken before the service binds them, so a start whose error shows
    one of PORT_TAKEN_MARKERS is retried from scratch (new directory, new ports), up to
    BIND_ATTEMPTS times. Every failed attempt's process and directory are removed.
    """
    workdirs.sweep_abandoned()
    for attempt in range(1, BIND_ATTEMPTS + 1):
        workdir = workdirs.create(name)
        process: ServiceProcess | None = None
        try:
            launch = prepare(workdir)
            process = launch.process
            process.start()
            process.wait_ready(launch.probe, timeout=start_timeout(), what=launch.what)
            return RunningService(
                name, version, launch.address, process, workdir, launch.probe, launch.what
            )
        except ServiceStartError as exc:
            _discard(process, workdir)
            port_taken = any(marker in str(exc) for marker in PORT_TAKEN_MARKERS)
            if port_taken and attempt < BIND_ATTEMPTS:
                continue
            raise
        except BaseException:
            _discard(process, workdir)
            raise
    raise AssertionError("unreachable: the last attempt returns or raises")
