"""Run one service process: its own process group, a log file, readiness polling, clean stop."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.errors import ServiceStartError

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test session is killed (even with SIGKILL,
    # where no atexit or finally runs), the kernel sends the service SIGTERM instead of leaving
    # an orphaned JVM. Linux only; elsewhere the atexit hook remains the safety net.
    # The signal fires when the spawning *thread* ends, so services are started from a thread
    # that lives as long as they should (the main thread, in pytest and in services.py).
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def log_tail(log_path: Path, lines: int = 40) -> str:
    """Return the last *lines* lines of *log_path* (or a note that it is missing)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return f"(no log at {log_path})"
    return "\n".join(text.splitlines()[-lines:])


def stop_group(pid: int, *, timeout: float = 30.0) -> None:
    """Stop the process group led by *pid*: SIGTERM, wait up to *timeout*, then SIGKILL."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    while _group_alive(pid) and time.monotonic() < deadline + 10:
        time.sleep(0.1)


def stop_processes(processes: Sequence[ServiceProcess], *, timeout: float = 30.0) -> None:
    """Stop several services at once: SIGTERM to all, up to *timeout* for them together, then
    SIGKILL to what is left. Stopping them one by one would wait on each in turn."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.stop(timeout=max(0.0, deadline - time.monotonic()))


def _group_alive(pgid: int) -> bool:
    # Reap our own child if it is one, so that a zombie does not count as alive.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ServiceProcess:
    """A long-running service (a JVM) started in its own process group, logging to a file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        log_path: Path,
        tie_to_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.cwd = cwd
        self.log_path = log_path
        self.tie_to_parent = tie_to_parent
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self._popen.pid

    def start(self) -> None:
        """Spawn the process; stdout and stderr go to the log file (appended to).

        After the process ended (:meth:`kill`, :meth:`stop`, a crash) this starts it again.
        """
        if self.exit_code() is None and self._popen is not None:
            raise RuntimeError(f"{self.name} is already running (pid {self._popen.pid})")
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tie_to_parent else None,
            )

    def exit_code(self) -> int | None:
        """Return the exit code if the process has ended, else None."""
        return None if self._popen is None else self._popen.poll()

    def wait_ready(self, probe: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll *probe* until it returns True.

        Raises ServiceStartError (with the log tail) if the process exits first or *timeout*
        seconds pass; the process is stopped in both cases.
        """
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None:
                raise ServiceStartError(
                    f"{self.name} exited with code {code} before {what}.\n"
                    f"command: {' '.join(self.argv)}\n"
                    f"--- {self.log_path} (tail) ---\n{log_tail(self.log_path)}"
                )
            if probe():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceStartError(
                    f"{self.name} did not become ready ({what}) within {timeout:.0f}s; "
                    "stopped it.\n"
                    f"command: {' '.join(self.argv)}\n"
                    f"--- {self.log_path} (tail) ---\n{log_tail(self.log_path)}"
                )
            time.sleep(0.2)

    def terminate(self) -> None:
        """Send SIGTERM to the process group without waiting (see :meth:`stop`)."""
        popen = self._popen
        if popen is not None and popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the process group at once and reap it (a crash, for failover tests).

        Unlike :meth:`stop`, nothing gets to shut down cleanly; the working directory stays, so
        :meth:`start` can run the same command on the same data again.
        """
        popen = self._popen
        if popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=30)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after *timeout*) and reap it."""
        popen = self._popen
        if popen is None:
            return
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGTERM)
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(timeout=10)
        # The JVM leads its group and forks nothing, but make sure no stray member survives.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
