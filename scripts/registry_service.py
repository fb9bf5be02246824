"""Start Apicurio Registry 3.x with in-memory storage and its Confluent-compatible API."""

from __future__ import annotations

import functools
import os
import urllib.error
import urllib.request
from pathlib import Path

from scripts.artifacts import apicurio_home
from scripts.java import find_java
from scripts.process import ServiceProcess, free_port
from scripts.running import Launch, RunningService, start_service

DEFAULT_VERSION = "3.3.3"
CCOMPAT_PATH = "/apis/ccompat/v7"
_HOST = "127.0.0.1"
# Apicurio 3.3 classes are compiled for Java 21 (class file version 65).
MIN_JAVA = 21


def registry_version() -> str:
    """The Apicurio version to run (``GEN_TOPICS_APICURIO_VERSION``, default 3.3.3)."""
    return os.environ.get("GEN_TOPICS_APICURIO_VERSION", DEFAULT_VERSION)


def registry_ready(base_url: str) -> bool:
    """Return True when ``GET {base_url}/subjects`` answers 200."""
    try:
        with urllib.request.urlopen(f"{base_url}/subjects", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _jvm_args(workdir: Path, http_port: int, management_port: int) -> list[str]:
    tmp = workdir / "tmp"
    return [
        "-Xms64m",
        "-Xmx512m",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Djava.io.tmpdir={tmp}",
        f"-Dquarkus.http.host={_HOST}",
        f"-Dquarkus.http.port={http_port}",
        # The management interface (health, metrics) has its own port, 9000 by default; a fixed
        # port would clash between concurrent test sessions.
        f"-Dquarkus.management.host={_HOST}",
        f"-Dquarkus.management.port={management_port}",
        # In-memory H2 is the 3.x default; spelled out so a changed default cannot surprise us.
        "-Dapicurio.storage.kind=sql",
        "-Dapicurio.storage.sql.kind=h2",
        f"-Dapicurio.storage.snapshot.location={tmp}",
        f"-Dapicurio.import.work-dir={tmp}",
        # Deleting subjects and versions through /apis/ccompat is off by default in 3.x.
        "-Dapicurio.rest.deletion.group.enabled=true",
        "-Dapicurio.rest.deletion.artifact.enabled=true",
        "-Dapicurio.rest.deletion.artifact-version.enabled=true",
    ]


def start_registry(*, version: str | None = None, tie_to_parent: bool = True) -> RunningService:
    """Fetch (once) and start Apicurio Registry on a free 127.0.0.1 port; return when it answers.

    The address is the Confluent-compatible base URL ``http://127.0.0.1:PORT/apis/ccompat/v7``.
    Retries with new ports when another process grabbed a port between picking and binding it.
    """
    version = version or registry_version()
    java = find_java(MIN_JAVA, purpose=f"Apicurio Registry {version}")
    home = apicurio_home(version)

    def prepare(workdir: Path) -> Launch:
        (workdir / "tmp").mkdir()
        http_port = free_port()
        management_port = free_port()
        base_url = f"http://{_HOST}:{http_port}{CCOMPAT_PATH}"
        process = ServiceProcess(
            f"Apicurio Registry {version}",
            [
                str(java),
                *_jvm_args(workdir, http_port, management_port),
                "-jar",
                str(home / "quarkus-run.jar"),
            ],
            cwd=workdir,
            log_path=workdir / "registry.log",
            tie_to_parent=tie_to_parent,
        )
        return Launch(
            process,
            base_url,
            functools.partial(registry_ready, base_url),
            f"answering GET {base_url}/subjects with 200",
        )

    return start_service("registry", version, prepare)
