"""Run one pure function of already-built data in a forked process, alongside this one.

The compiler's output is deterministic, so a result computed in a child is the one this
process would compute; when forking is not possible (no ``fork`` start method, one CPU)
or the child fails in any way, the function simply runs here, and any error it raises is
raised here, as without a child.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TypeVar, cast

__all__ = ["in_forked_process"]

_A = TypeVar("_A")
_R = TypeVar("_R")


def in_forked_process(fn: Callable[[_A], _R], arg: _A) -> Callable[[], _R]:
    """Start ``fn(arg)`` in a forked child; the returned function waits for its result."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return lambda: fn(arg)
    for stream in (sys.stdout, sys.stderr):
        # The child flushes the buffers it inherits when it ends: empty them first, or
        # buffered output would appear twice.
        with contextlib.suppress(Exception):
            stream.flush()
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(fn, arg, sender), daemon=True)
    try:
        child.start()
    except OSError:
        receiver.close()
        sender.close()
        return lambda: fn(arg)
    sender.close()

    def result() -> _R:
        try:
            ok, value = receiver.recv()
        except (EOFError, OSError):
            ok, value = False, None  # the child died before answering
        finally:
            receiver.close()
            child.join()
        if ok:
            return cast("_R", value)
        return fn(arg)  # the error (if any) is raised here, where it belongs

    return result


def _child(fn: Callable[[_A], _R], arg: _A, sender: Connection) -> None:
    try:
        value = fn(arg)
    except BaseException:  # reported by running fn again in the parent
        sender.send((False, None))
    else:
        sender.send((True, value))
    finally:
        sender.close()
