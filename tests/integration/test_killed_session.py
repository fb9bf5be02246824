"""A test session killed outright (SIGKILL) leaves nothing running and nothing on disk.

A child Python process plays the session: it starts a service process the way every service
(single broker, each cluster node, registry) is started, in a working directory the way a
cluster's is made, and is then SIGKILLed. `sh` stands in for the JVM; no Java needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from scripts import workdirs

REPO = Path(__file__).resolve().parents[2]

SESSION = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from scripts import workdirs
    from scripts.process import ServiceProcess

    workdir = workdirs.create("kafka-cluster")
    node = workdir / "node-1"
    node.mkdir()
    service = ServiceProcess(
        "stand-in", ["sh", "-c", f"echo started; exec sleep 600 # {node}"],
        cwd=node, log_path=node / "service.log",
    )
    service.start()
    print(service.pid, workdir, flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped by init) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_killed_session_takes_its_services_along_and_the_next_start_sweeps() -> None:
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION, str(REPO)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert session.stdout is not None
        pid_text, workdir_text = session.stdout.readline().split()
        service_pid, workdir = int(pid_text), Path(workdir_text)
        assert _alive(service_pid) and workdir.exists()
    finally:
        session.send_signal(signal.SIGKILL)
        session.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(service_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(service_pid), "the service must die with the killed session"
    assert workdir.exists(), "a SIGKILLed session cannot clean up itself"
    assert workdir in workdirs.sweep_abandoned(), "the next start removes what it left"
    assert not workdir.exists()
