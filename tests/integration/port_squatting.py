"""Shared set-up for the "a picked port is already taken" service-start tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from scripts import workdirs
from scripts.process import free_port


@contextmanager
def first_port_taken(
    monkeypatch: pytest.MonkeyPatch, service_module: ModuleType
) -> Iterator[tuple[int, list[Path]]]:
    """Hold a bound port that ``service_module.free_port`` hands out first.

    Yields the taken port and the list of work dirs each start attempt created, so a test
    can check that the start retried on new ports and removed every attempt's dir.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        picks = iter([taken])
        monkeypatch.setattr(service_module, "free_port", lambda: next(picks, None) or free_port())
        attempts: list[Path] = []
        create = workdirs.create

        def recording_create(kind: str) -> Path:
            attempts.append(create(kind))
            return attempts[-1]

        monkeypatch.setattr(workdirs, "create", recording_create)
        yield taken, attempts
