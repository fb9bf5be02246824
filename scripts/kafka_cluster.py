"""Start a multi-broker Apache Kafka 4.x KRaft cluster on 127.0.0.1 (three nodes by default).

Each node is one JVM that is both broker and controller (``process.roles=broker,controller``);
the nodes form a static controller quorum (``controller.quorum.voters``), so the cluster keeps a
controller, and elects new partition leaders, while any one node is down. Topics default to
replication factor 3 and ``min.insync.replicas`` 2, internal topics included.

Failover tests crash a node with ``cluster.node(n).kill()`` (SIGKILL) and bring it back with
``start_again()`` (same ports and data), polling ``ready()``.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import workdirs
from scripts.artifacts import kafka_libs
from scripts.errors import ServiceStartError
from scripts.java import find_java
from scripts.kafka_probe import metadata_brokers
from scripts.kafka_service import (
    FORMAT_TIMEOUT_S,
    HOST,
    LOG4J2,
    MIN_JAVA,
    check_format,
    cluster_id,
    format_command,
    kafka_command,
    kafka_version,
    server_properties,
    two_free_ports,
)
from scripts.process import ServiceProcess, log_tail, stop_processes
from scripts.running import BIND_ATTEMPTS, PORT_TAKEN_MARKERS, RunningService, start_timeout

NAME = "kafka-cluster"
DEFAULT_SIZE = 3
MIN_INSYNC_REPLICAS = 2
_STOP_TIMEOUT_S = 20.0


def lists_brokers(port: int, count: int) -> bool:
    """True when the node on *port* answers a Metadata request listing *count* live brokers."""
    try:
        return len(metadata_brokers(HOST, port)) >= count
    except OSError:
        return False
    except Exception:  # a half-started broker may answer garbage; not ready yet
        return False


@dataclass
class KafkaCluster:
    """A running cluster: ``nodes[i]`` is node id ``i + 1``; ``stop()`` removes every trace."""

    version: str
    nodes: list[RunningService]
    workdir: Path
    name: str = NAME

    @property
    def address(self) -> str:
        """The bootstrap string naming every node: ``127.0.0.1:P1,127.0.0.1:P2,...``."""
        return ",".join(node.address for node in self.nodes)

    @property
    def pids(self) -> list[int]:
        """Process ids of the nodes that were started (each leads its own process group)."""
        return [node.process.pid for node in self.nodes]

    def node(self, node_id: int) -> RunningService:
        """The node with Kafka ``node.id`` *node_id* (1-based)."""
        if not 1 <= node_id <= len(self.nodes):
            raise KeyError(f"no node {node_id} in a cluster of {len(self.nodes)}")
        return self.nodes[node_id - 1]

    def node_by_port(self, port: int) -> RunningService:
        """The node whose broker listens on *port* (as metadata reports it)."""
        for node in self.nodes:
            if node.address.endswith(f":{port}"):
                return node
        raise KeyError(f"no node of this cluster listens on port {port}")

    def stop(self) -> None:
        """Stop every node at once (SIGTERM, then SIGKILL) and delete all data."""
        try:
            stop_processes([node.process for node in self.nodes], timeout=_STOP_TIMEOUT_S)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _distinct_ports(count: int) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    while len(pairs) < count:
        pair = two_free_ports()
        if used.isdisjoint(pair):
            pairs.append(pair)
            used.update(pair)
    return pairs


def _format_all(java: Path, classpath: str, nodedirs: list[Path]) -> None:
    # One JVM per node, in parallel: formatting is most of the start's fixed cost.
    cid = cluster_id()
    running: list[tuple[list[str], subprocess.Popen[bytes], Path]] = []
    try:
        for nodedir in nodedirs:
            argv = format_command(java, classpath, nodedir, cluster_id=cid, standalone=False)
            log_path = nodedir / "kafka.log"
            with log_path.open("ab") as log:
                popen = subprocess.Popen(
                    argv,
                    cwd=nodedir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            running.append((argv, popen, log_path))
        deadline = time.monotonic() + FORMAT_TIMEOUT_S
        for argv, popen, log_path in running:
            try:
                code: int | None = popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                code = None
            check_format(argv, code, log_path)
    finally:
        for _, popen, _ in running:
            if popen.poll() is None:
                popen.kill()
                popen.wait()


def _prepare(
    workdir: Path, java: Path, classpath: str, version: str, size: int, tie_to_parent: bool
) -> list[RunningService]:
    ports = _distinct_ports(size)
    voters = ",".join(f"{i + 1}@{HOST}:{controller}" for i, (_, controller) in enumerate(ports))
    nodedirs: list[Path] = []
    for i, (broker_port, controller_port) in enumerate(ports):
        nodedir = workdir / f"node-{i + 1}"
        (nodedir / "tmp").mkdir(parents=True)
        (nodedir / "log4j2.yaml").write_text(LOG4J2)
        (nodedir / "server.properties").write_text(
            server_properties(
                nodedir / "data",
                broker_port,
                controller_port,
                node_id=i + 1,
                voters=voters,
                replication=size,
                min_isr=min(MIN_INSYNC_REPLICAS, size),
            )
        )
        nodedirs.append(nodedir)
    _format_all(java, classpath, nodedirs)
    nodes: list[RunningService] = []
    for i, ((broker_port, _), nodedir) in enumerate(zip(ports, nodedirs, strict=True)):
        process = ServiceProcess(
            f"Kafka {version} node {i + 1}",
            kafka_command(java, classpath, nodedir),
            cwd=nodedir,
            log_path=nodedir / "kafka.log",
            tie_to_parent=tie_to_parent,
        )
        nodes.append(
            RunningService(
                f"{NAME}-node-{i + 1}",
                version,
                f"{HOST}:{broker_port}",
                process,
                nodedir,
                functools.partial(lists_brokers, broker_port, size),
                f"answering a Metadata request on {HOST}:{broker_port} that lists {size} brokers",
            )
        )
    return nodes


def start_kafka_cluster(
    size: int = DEFAULT_SIZE, *, version: str | None = None, tie_to_parent: bool = True
) -> KafkaCluster:
    """Fetch (once) and start a *size*-node cluster on free ports; return when every node
    answers and lists all *size* brokers.

    A start that lost a port race (another process bound a picked port first) is retried from
    scratch with new ports, up to BIND_ATTEMPTS times; every failed attempt's processes and
    directory are removed.
    """
    if size < 1:
        raise ValueError(f"a cluster needs at least one node, got {size}")
    version = version or kafka_version()
    java = find_java(MIN_JAVA, purpose=f"Apache Kafka {version}")
    classpath = f"{kafka_libs(version)}/*"
    workdirs.sweep_abandoned()
    for attempt in range(1, BIND_ATTEMPTS + 1):
        workdir = workdirs.create(NAME)
        nodes: list[RunningService] = []
        try:
            nodes = _prepare(workdir, java, classpath, version, size, tie_to_parent)
            for node in nodes:
                node.process.start()
            _wait_all_ready(nodes, start_timeout())
            return KafkaCluster(version, nodes, workdir)
        except ServiceStartError as exc:
            _discard(nodes, workdir)
            port_taken = any(marker in str(exc) for marker in PORT_TAKEN_MARKERS)
            if port_taken and attempt < BIND_ATTEMPTS:
                continue
            raise
        except BaseException:
            _discard(nodes, workdir)
            raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _wait_all_ready(nodes: list[RunningService], timeout: float) -> None:
    # All at once: a node that exits (say, on a taken port) must end the wait right away, not
    # after the others gave up waiting for it to join.
    deadline = time.monotonic() + timeout
    while True:
        for node in nodes:
            code = node.process.exit_code()
            if code is not None:
                raise ServiceStartError(
                    f"{node.process.name} exited with code {code} before {node.what}.\n"
                    f"command: {' '.join(node.process.argv)}\n"
                    f"--- {node.process.log_path} (tail) ---\n{log_tail(node.process.log_path)}"
                )
        waiting = [node for node in nodes if not node.probe()]
        if not waiting:
            return
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {node.process.log_path} (tail) ---\n{log_tail(node.process.log_path)}"
                for node in waiting
            )
            raise ServiceStartError(
                f"{len(waiting)} of {len(nodes)} cluster nodes did not become ready within "
                f"{timeout:.0f}s: " + "; ".join(node.what for node in waiting) + f"\n{tails}"
            )
        time.sleep(0.2)


def _discard(nodes: list[RunningService], workdir: Path) -> None:
    try:
        stop_processes([node.process for node in nodes], timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
