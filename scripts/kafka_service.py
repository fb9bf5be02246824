"""Start a single-node Apache Kafka 4.x KRaft broker (broker and controller in one JVM)."""

from __future__ import annotations

import base64
import functools
import os
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

from scripts.artifacts import kafka_libs
from scripts.errors import ServiceStartError
from scripts.java import find_java
from scripts.kafka_probe import broker_ready
from scripts.process import ServiceProcess, free_port, log_tail
from scripts.running import Launch, RunningService, start_service

DEFAULT_VERSION = "4.4.0"
MIN_JAVA = 17
HOST = "127.0.0.1"
FORMAT_TIMEOUT_S = 120

LOG4J2 = """\
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka.request.logger
        level: WARN
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
"""


def kafka_version() -> str:
    """The Kafka version to run (``GEN_TOPICS_KAFKA_VERSION``, default 4.4.0)."""
    return os.environ.get("GEN_TOPICS_KAFKA_VERSION", DEFAULT_VERSION)


def cluster_id() -> str:
    """A random cluster id."""
    # Same shape as Kafka's Uuid.randomUuid().toString() (URL-safe base64 of 16 random bytes,
    # never starting with "-"), made here to save a JVM start for `kafka-storage random-uuid`.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(
    data_dir: Path,
    broker_port: int,
    controller_port: int,
    *,
    node_id: int = 1,
    voters: str | None = None,
    replication: int = 1,
    min_isr: int = 1,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """``server.properties`` of one combined broker+controller node on 127.0.0.1.

    Without *voters* the node is a standalone quorum of one (the single-node service); with
    ``voters`` (``"1@host:port,2@host:port,..."``) it is one voter of a static controller quorum,
    and *replication* / *min_isr* set the cluster's default replication factor and
    ``min.insync.replicas`` (internal topics too). *overrides* replace or add settings (a test's
    private broker, e.g. one that cannot host the transaction state topic).
    """
    quorum = (
        {"controller.quorum.voters": voters}
        if voters
        else {"controller.quorum.bootstrap.servers": f"{HOST}:{controller_port}"}
    )
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        **quorum,
        "listeners": f"PLAINTEXT://{HOST}:{broker_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "default.replication.factor": str(replication),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replication),
        # Fewer internal partitions than the default 50 make the first consumer group join fast.
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": str(min_isr),
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        # Tests join groups constantly; the 3 s default delay would dominate their run time.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        **(overrides or {}),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def format_command(
    java: Path, classpath: str, workdir: Path, *, cluster_id: str, standalone: bool = True
) -> list[str]:
    """The ``kafka-storage format`` command for the node configured in *workdir*.

    *standalone* formats a quorum of one; a node of a static quorum (``controller.quorum.voters``)
    needs no quorum flag.
    """
    return [
        str(java),
        "-Xmx256m",
        # A one-shot tool: the quick JIT tier and serial GC start it faster.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        f"-Dlog4j2.configurationFile={workdir / 'log4j2.yaml'}",
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        *(["--standalone"] if standalone else []),
        "--cluster-id",
        cluster_id,
        "--config",
        str(workdir / "server.properties"),
    ]


def check_format(argv: list[str], returncode: int | None, log_path: Path) -> None:
    """Raise ServiceStartError when the format command timed out (None) or failed."""
    if returncode is None:
        raise ServiceStartError(
            f"kafka-storage format did not finish in {FORMAT_TIMEOUT_S}s.\n"
            f"--- {log_path} (tail) ---\n{log_tail(log_path)}"
        )
    if returncode != 0:
        raise ServiceStartError(
            f"kafka-storage format failed (exit {returncode}).\n"
            f"command: {' '.join(argv)}\n--- {log_path} (tail) ---\n{log_tail(log_path)}"
        )


def _format_storage(java: Path, classpath: str, workdir: Path, log_path: Path) -> None:
    argv = format_command(java, classpath, workdir, cluster_id=cluster_id())
    with log_path.open("ab") as log:
        try:
            done = subprocess.run(
                argv,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=FORMAT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            check_format(argv, None, log_path)
    check_format(argv, done.returncode, log_path)


def kafka_command(java: Path, classpath: str, workdir: Path) -> list[str]:
    """The JVM command line of the broker configured in *workdir*."""
    return [
        str(java),
        "-Xms256m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Djava.io.tmpdir={workdir / 'tmp'}",
        f"-Dlog4j2.configurationFile={workdir / 'log4j2.yaml'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(workdir / "server.properties"),
    ]


def two_free_ports() -> tuple[int, int]:
    """Two different ports, free right now."""
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


def start_kafka(
    *,
    version: str | None = None,
    tie_to_parent: bool = True,
    overrides: Mapping[str, str] | None = None,
) -> RunningService:
    """Fetch (once) and start a Kafka broker on free 127.0.0.1 ports; return when it answers.

    *overrides*: broker settings that replace or add to :func:`server_properties`' own.

    The address is the bootstrap string ``127.0.0.1:PORT``. Retries with new ports when another
    process grabbed a port between picking and binding it.
    """
    version = version or kafka_version()
    java = find_java(MIN_JAVA, purpose=f"Apache Kafka {version}")
    classpath = f"{kafka_libs(version)}/*"

    def prepare(workdir: Path) -> Launch:
        broker_port, controller_port = two_free_ports()
        (workdir / "tmp").mkdir()
        (workdir / "log4j2.yaml").write_text(LOG4J2)
        (workdir / "server.properties").write_text(
            server_properties(workdir / "data", broker_port, controller_port, overrides=overrides)
        )
        log_path = workdir / "kafka.log"
        _format_storage(java, classpath, workdir, log_path)
        process = ServiceProcess(
            f"Kafka {version}",
            kafka_command(java, classpath, workdir),
            cwd=workdir,
            log_path=log_path,
            tie_to_parent=tie_to_parent,
        )
        return Launch(
            process,
            f"{HOST}:{broker_port}",
            functools.partial(broker_ready, HOST, broker_port),
            f"answering a Metadata request on {HOST}:{broker_port}",
        )

    return start_service("kafka", version, prepare)
