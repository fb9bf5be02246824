"""The start-and-retry loop shared by the Kafka and registry services, with real (small) processes.

`sh` stands in for the JVM: one that prints Java's bind error and exits plays a start that lost a
port race; one that prints the READY line and sleeps plays a service that is up. No Java or Maven
needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import running, workdirs
from scripts.errors import ServiceStartError
from scripts.process import ServiceProcess
from scripts.running import Launch, start_service

BIND_ERROR = "echo 'java.net.BindException: Address already in use'; exit 1"
QUARKUS_BIND_ERROR = (
    "echo 'ERROR Port 8080 seems to be in use by another process. Quarkus may already be"
    " running'; exit 1"
)
# A JVM prints the bind error and then takes a while to exit: the loaded-machine case, every time.
LINGERING_BIND_ERROR = "echo 'java.net.BindException: Address already in use'; sleep 1; exit 1"
# The whole line a fake service prints once it is up. The probe compares whole lines: a bind
# error says "already", and a substring probe that read the log before sh had exited took that
# for readiness (seen on a loaded machine).
READY = "FAKE-SERVICE-READY"
# Long enough to outlive any test on a loaded machine; stop() ends it.
UP = f"echo {READY}; exec sleep 600"


class _Script:
    """A ``prepare`` callback whose n-th attempt runs the n-th shell command."""

    def __init__(self, *commands: str) -> None:
        self.commands = list(commands)
        self.workdirs: list[Path] = []

    def __call__(self, workdir: Path) -> Launch:
        attempt = len(self.workdirs)
        self.workdirs.append(workdir)
        process = ServiceProcess(
            f"fake-{attempt}",
            ["sh", "-c", self.commands[attempt]],
            cwd=workdir,
            log_path=workdir / "fake.log",
        )
        log = process.log_path
        return Launch(process, f"addr-{attempt}", lambda: _printed_ready(log), "answering")


def _printed_ready(log: Path) -> bool:
    return READY in log.read_text().splitlines()


@pytest.mark.parametrize(
    "bind_error",
    [BIND_ERROR, QUARKUS_BIND_ERROR, LINGERING_BIND_ERROR],
    ids=["java", "quarkus", "java-slow-exit"],
)
def test_lost_port_race_is_retried_in_a_fresh_directory(bind_error: str) -> None:
    script = _Script(bind_error, UP)
    service = start_service("fake", "1.0", script)
    try:
        assert (service.name, service.version, service.address) == ("fake", "1.0", "addr-1")
        assert service.workdir == script.workdirs[1]
        assert service.process.exit_code() is None
        assert not script.workdirs[0].exists(), "the failed attempt's directory is removed"
    finally:
        service.stop()
    assert service.process.exit_code() is not None
    assert not service.workdir.exists()


def test_other_start_failures_are_not_retried() -> None:
    script = _Script("echo 'no such option -Xfoo'; exit 2", UP)
    with pytest.raises(ServiceStartError, match=r"fake-0 exited with code 2") as info:
        start_service("fake", "1.0", script)
    assert "no such option -Xfoo" in str(info.value), "the log tail explains the failure"
    assert len(script.workdirs) == 1
    assert not script.workdirs[0].exists()


def test_port_race_lost_every_time_gives_up_after_the_last_attempt() -> None:
    script = _Script(*[BIND_ERROR] * (running.BIND_ATTEMPTS + 1))
    with pytest.raises(ServiceStartError, match="Address already in use"):
        start_service("fake", "1.0", script)
    assert len(script.workdirs) == running.BIND_ATTEMPTS
    assert not any(workdir.exists() for workdir in script.workdirs)


def test_prepare_failure_removes_the_directory_and_propagates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[Path] = []
    create = workdirs.create

    def recording_create(kind: str) -> Path:
        created.append(create(kind))
        return created[-1]

    def broken_prepare(workdir: Path) -> Launch:
        raise OSError(f"cannot write {workdir / 'server.properties'}")

    monkeypatch.setattr(workdirs, "create", recording_create)
    with pytest.raises(OSError, match=r"server\.properties"):
        start_service("fake", "1.0", broken_prepare)
    assert len(created) == 1 and created[0].name.startswith(f"{workdirs.PREFIX}fake-")
    assert not created[0].exists()
