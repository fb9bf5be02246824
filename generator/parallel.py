"""Spread independent compile work over the machine's cores, with the same result.

Rendering thousands of modules is pure Python and single-threaded; forked workers share
the loaded model for free (copy-on-write), so only their results cross (through a file in
memory). Every item's result depends on the item and the model alone, so the output is the
same byte for byte whatever the number of workers. Where ``fork`` is unsafe or missing
(macOS, Windows), in a process that runs other threads (a lock a thread holds at the fork
would never be released in the worker), or when a worker fails in any way, the work runs in
this process instead: a worker can only make a compile faster, never change or break it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable that sets the number of worker processes (``1``: none).
JOBS_ENV = "GEN_TOPICS_JOBS"

# Below this much estimated work (seconds) forking costs more than it saves.
_MIN_WORK = 0.3
# Runs per process: more even out a wrong estimate better, each costs one pipe read.
_CHUNKS_PER_WORKER = 16
# Tickets are single bytes.
_MAX_CHUNKS = 256


def available_jobs() -> int:
    """Worker processes to use: ``$GEN_TOPICS_JOBS``, else the CPUs this process may use."""
    raw = os.environ.get(JOBS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            return 1
    if not sys.platform.startswith("linux"):
        return 1  # fork without exec is unsafe on macOS and missing on Windows
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def chunks(weights: Sequence[float], workers: int) -> list[list[int]]:
    """Item indexes cut into runs for ``workers`` processes to take one after another.

    Heaviest items first, so that the last runs taken are light and every process finishes
    at about the same time; at most :data:`_MAX_CHUNKS` runs, at least one per worker.
    """
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    total = sum(weights)
    if total <= 0:  # no estimates at all: every item counts the same
        weights, total = [1.0] * len(weights), float(len(weights))
    # Small runs even out what the weights got wrong; each costs a pipe read, no more.
    size = max(total / (workers * _CHUNKS_PER_WORKER), total / _MAX_CHUNKS)
    runs: list[list[int]] = []
    run: list[int] = []
    load = 0.0
    for index in order:
        run.append(index)
        load += weights[index]
        if load >= size:
            runs.append(run)
            run, load = [], 0.0
    if run:
        runs.append(run)
    while len(runs) > _MAX_CHUNKS:  # a rounding remainder: one more run than the tickets
        last = runs.pop()
        runs[-1] += last
    return runs


def fork_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    weights: Sequence[float],
    *,
    jobs: int | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, computed by up to ``jobs`` processes.

    ``weights`` estimate each item's cost in seconds. ``fn`` must be deterministic and
    its results picklable. An exception ``fn`` raises surfaces as if called here.
    """
    jobs = available_jobs() if jobs is None else jobs
    if jobs <= 1 or len(items) < 2 or sum(weights) < _MIN_WORK or not hasattr(os, "fork"):
        return [fn(item) for item in items]
    if _other_threads():
        # A thread holding a lock (logging, imports) at the fork would hold it forever in
        # the worker: the compile would hang. The command itself runs no threads.
        return [fn(item) for item in items]
    runs = chunks(weights, min(jobs, len(items)))
    processes = min(jobs, len(runs))
    # Each process starts with a run of its own (the heaviest ones), then takes the others
    # one by one from a pipe of one-byte tickets, so that a process the weights
    # underestimated does not keep the rest waiting. A one-byte read is atomic.
    tickets = _tickets(range(processes, len(runs)))
    children: list[tuple[int, int]] = []
    try:
        for first in range(1, processes):
            child = _start(fn, items, runs, first, tickets)
            if child is not None:
                children.append(child)
        results: dict[int, R] = {}
        try:
            # Without a ticket pipe, what no process took is done at the end, below.
            for run in itertools.chain((0,), () if tickets is None else _take(tickets)):
                for index in runs[run]:
                    results[index] = fn(items[index])
        except BaseException:
            _abandon(children)
            raise
    finally:
        if tickets is not None:
            os.close(tickets)
    for n, (pid, fd) in enumerate(children):
        try:
            got: dict[int, R] | None = _collect(pid, fd)
        except BaseException:
            _abandon(children[n + 1 :])
            raise
        if got is not None:
            results.update(got)
    # What a failed worker had taken is computed here, where an exception gets its real
    # traceback.
    return [results[i] if i in results else fn(items[i]) for i in range(len(items))]


def _other_threads() -> bool:
    return threading.active_count() > 1


def _tickets(runs: range) -> int | None:
    """The read end of a pipe holding one byte per run in ``runs``, its write end closed."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        os.write(write_end, bytes(runs))  # at most 256 bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    return read_end


def _take(tickets: int) -> Iterator[int]:
    """Runs taken from the ticket pipe until it is empty."""
    while ticket := os.read(tickets, 1):
        yield ticket[0]


def _start(
    fn: Callable[[T], R],
    items: Sequence[T],
    runs: list[list[int]],
    first: int,
    tickets: int | None,
) -> tuple[int, int] | None:
    results = _results_file()
    if results is None:
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(results)
        return None
    if pid == 0:  # the worker: compute, send, and leave without running any cleanup
        status = 1
        try:
            taken = itertools.chain((first,), () if tickets is None else _take(tickets))
            with os.fdopen(results, "wb", closefd=False) as out:
                pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
                # Each run is written as soon as it is done, while the other processes
                # still compute: at the end only the last run is left to encode.
                for run in taken:
                    pickler.dump({i: fn(items[i]) for i in runs[run]})
            status = 0
        except BaseException:
            pass
        finally:
            os._exit(status)
    return pid, results


def _results_file() -> int | None:
    """A file for a worker's results, in memory where the platform can: unlike a pipe it
    never fills up, so a worker never waits for this process to read (it reads at the end).
    """
    try:
        if hasattr(os, "memfd_create"):
            return os.memfd_create("gen-topics-results", os.MFD_CLOEXEC)
        with tempfile.TemporaryFile() as spare:  # unnamed: nothing is left behind
            return os.dup(spare.fileno())
    except OSError:
        return None


def _abandon(children: list[tuple[int, int]]) -> None:
    """Stop workers whose results are no longer wanted (this process failed)."""
    for pid, fd in children:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _collect(pid: int, fd: int) -> dict[int, R] | None:
    _, status = os.waitpid(pid, 0)
    if status != 0:
        os.close(fd)
        return None
    got: dict[int, R] = {}
    with os.fdopen(fd, "rb") as results:
        results.seek(0)  # the worker's writes moved the offset both processes share
        unpickler = pickle.Unpickler(results)
        try:
            while True:
                got.update(unpickler.load())
        except EOFError:
            pass  # every run the worker took was read
        except Exception:
            return None
    return got
