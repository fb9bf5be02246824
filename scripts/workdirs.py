"""Private working directories of service processes, and the sweep of abandoned ones.

A service's data, logs and temp files live in one directory under the system temp dir. A normal
stop deletes it; a test session killed with SIGKILL cannot, although the kernel still ends its
JVMs (see process._die_with_parent). The next start therefore sweeps directories whose creator
is gone and that no running process mentions on its command line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "gen-topics-svc-"
_OWNER_FILE = "owner.pid"


def create(kind: str) -> Path:
    """Create a fresh working directory for a *kind* service, recording this process as owner."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-"))
    (workdir / _OWNER_FILE).write_text(str(os.getpid()))
    return workdir


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mentioned_by_a_process(workdir: Path) -> bool:
    needle = str(workdir).encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if needle in cmdline.read_bytes():
                return True
    return False


def sweep_abandoned() -> list[Path]:
    """Delete working directories left by killed sessions; return the ones deleted."""
    removed: list[Path] = []
    for workdir in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((workdir / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not fully created yet, or not ours
        if _pid_alive(owner) or _mentioned_by_a_process(workdir):
            continue
        shutil.rmtree(workdir, ignore_errors=True)
        removed.append(workdir)
    return removed
