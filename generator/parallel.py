"""Spread independent compile work over the machine's cores, with the same result.

Rendering thousands of modules is pure Python and single-threaded; forked workers share
the loaded model for free (copy-on-write), so only their results cross a pipe. Every
item's result depends on the item and the model alone, so the output is the same byte for
byte whatever the number of workers. Where ``fork`` is unsafe or missing (macOS, Windows),
in a process that runs other threads (a lock a thread holds at the fork would never be
released in the worker), or when a worker fails in any way, the work runs in this process
instead: a worker can only make a compile faster, never change or break it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable that sets the number of worker processes (``1``: none).
JOBS_ENV = "GEN_TOPICS_JOBS"

# Below this much estimated work (seconds) forking costs more than it saves.
_MIN_WORK = 0.3


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


def balanced(weights: Sequence[float], workers: int) -> list[list[int]]:
    """Item indexes per worker, heaviest items first onto the least loaded worker."""
    loads = [0.0] * workers
    groups: list[list[int]] = [[] for _ in range(workers)]
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        target = min(range(workers), key=lambda w: (loads[w], w))
        groups[target].append(index)
        loads[target] += weights[index]
    return [sorted(group) for group in groups if group]


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
    groups = balanced(weights, min(jobs, len(items)))
    children: list[tuple[int, int, list[int]]] = []
    for group in groups[1:]:
        child = _start(fn, items, group)
        if child is not None:
            children.append((*child, group))
    results: dict[int, R] = {}
    delegated = {i for _, _, group in children for i in group}
    try:
        for index in range(len(items)):
            if index not in delegated:
                results[index] = fn(items[index])
    except BaseException:
        _abandon(children)
        raise
    for n, (pid, fd, group) in enumerate(children):
        try:
            got: list[R] | None = _collect(pid, fd)
        except BaseException:
            _abandon(children[n + 1 :])
            raise
        if got is not None and len(got) == len(group):
            results.update(zip(group, got, strict=True))
        else:
            # The worker failed: compute here, where an exception gets its real traceback.
            for index in group:
                if index not in results:
                    results[index] = fn(items[index])
    return [results[i] for i in range(len(items))]


def _other_threads() -> bool:
    return threading.active_count() > 1


def _start(fn: Callable[[T], R], items: Sequence[T], group: list[int]) -> tuple[int, int] | None:
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the worker: compute, send, and leave without running any cleanup
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps([fn(items[i]) for i in group], protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        except BaseException:
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _abandon(children: list[tuple[int, int, list[int]]]) -> None:
    """Stop workers whose results are no longer wanted (this process failed)."""
    for pid, fd, _ in children:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def _collect(pid: int, fd: int) -> list[R] | None:
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        got: list[R] = pickle.loads(data)
    except Exception:
        return None
    return got
