"""A started service: its address, process and private working directory."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from scripts.process import ServiceProcess

DEFAULT_TIMEOUT_S = 90.0


def start_timeout() -> float:
    """Seconds to wait for a service to answer (``GEN_TOPICS_SERVICE_TIMEOUT``, default 90)."""
    return float(os.environ.get("GEN_TOPICS_SERVICE_TIMEOUT", DEFAULT_TIMEOUT_S))


@dataclass
class RunningService:
    """A service that answered its readiness probe; ``stop()`` removes every trace of it."""

    name: str
    version: str
    address: str
    process: ServiceProcess
    workdir: Path

    def stop(self) -> None:
        """Stop the process and delete its working directory (data, logs, temp files)."""
        try:
            self.process.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def discard(process: ServiceProcess | None, workdir: Path) -> None:
    """Clean up after a failed start: stop *process* if it was spawned, delete *workdir*."""
    try:
        if process is not None:
            process.stop(timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
