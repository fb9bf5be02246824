"""Start a single-node Apache Kafka 4.x KRaft broker (broker and controller in one JVM)."""

from __future__ import annotations

import base64
import functools
import os
import subprocess
import uuid
from pathlib import Path

from scripts.artifacts import kafka_libs
from scripts.errors import ServiceStartError
from scripts.java import find_java
from scripts.kafka_probe import broker_ready
from scripts.process import ServiceProcess, free_port, log_tail
from scripts.running import Launch, RunningService, start_service

DEFAULT_VERSION = "4.4.0"
MIN_JAVA = 17
_HOST = "127.0.0.1"
_FORMAT_TIMEOUT_S = 120

_LOG4J2 = """\
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


def _cluster_id() -> str:
    # Same shape as Kafka's Uuid.randomUuid().toString() (URL-safe base64 of 16 random bytes,
    # never starting with "-"), made here to save a JVM start for `kafka-storage random-uuid`.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _server_properties(data_dir: Path, broker_port: int, controller_port: int) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{_HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{_HOST}:{broker_port},CONTROLLER://{_HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{_HOST}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        # Fewer internal partitions than the default 50 make the first consumer group join fast.
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Tests join groups constantly; the 3 s default delay would dominate their run time.
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _format_storage(java: Path, classpath: str, workdir: Path, log_path: Path) -> None:
    argv = [
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
        "--standalone",
        "--cluster-id",
        _cluster_id(),
        "--config",
        str(workdir / "server.properties"),
    ]
    with log_path.open("ab") as log:
        try:
            done = subprocess.run(
                argv,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=_FORMAT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceStartError(
                f"kafka-storage format did not finish in {_FORMAT_TIMEOUT_S}s.\n"
                f"--- {log_path} (tail) ---\n{log_tail(log_path)}"
            ) from exc
    if done.returncode != 0:
        raise ServiceStartError(
            f"kafka-storage format failed (exit {done.returncode}).\n"
            f"command: {' '.join(argv)}\n--- {log_path} (tail) ---\n{log_tail(log_path)}"
        )


def _two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


def start_kafka(*, version: str | None = None, tie_to_parent: bool = True) -> RunningService:
    """Fetch (once) and start a Kafka broker on free 127.0.0.1 ports; return when it answers.

    The address is the bootstrap string ``127.0.0.1:PORT``. Retries with new ports when another
    process grabbed a port between picking and binding it.
    """
    version = version or kafka_version()
    java = find_java(MIN_JAVA, purpose=f"Apache Kafka {version}")
    classpath = f"{kafka_libs(version)}/*"

    def prepare(workdir: Path) -> Launch:
        broker_port, controller_port = _two_free_ports()
        (workdir / "tmp").mkdir()
        (workdir / "log4j2.yaml").write_text(_LOG4J2)
        (workdir / "server.properties").write_text(
            _server_properties(workdir / "data", broker_port, controller_port)
        )
        log_path = workdir / "kafka.log"
        _format_storage(java, classpath, workdir, log_path)
        process = ServiceProcess(
            f"Kafka {version}",
            [
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
            ],
            cwd=workdir,
            log_path=log_path,
            tie_to_parent=tie_to_parent,
        )
        return Launch(
            process,
            f"{_HOST}:{broker_port}",
            functools.partial(broker_ready, _HOST, broker_port),
            f"answering a Metadata request on {_HOST}:{broker_port}",
        )

    return start_service("kafka", version, prepare)
