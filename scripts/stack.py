"""The services a test session uses, started lazily and stopped together.

``ServiceStack.kafka_bootstrap()`` / ``registry_url()`` return the address of an existing service
named by ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL`` if set; otherwise they start the
service on first call (once) and return its address. ``kafka_cluster()`` starts a three-node
cluster on first call (always its own: failover tests kill its nodes). ``stop()`` (also run at
interpreter exit) stops whatever this stack started.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable

from scripts.kafka_cluster import KafkaCluster, start_kafka_cluster
from scripts.kafka_service import start_kafka
from scripts.registry_service import start_registry
from scripts.running import RunningService

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
REGISTRY_ENV = "SCHEMA_REGISTRY_URL"
# Exported by `services.py start --cluster` / `run --cluster`; tests start their own cluster.
KAFKA_CLUSTER_ENV = "KAFKA_CLUSTER_BOOTSTRAP_SERVERS"


class ServiceStack:
    """Kafka and the schema registry for one process, each started at most once, on demand."""

    def __init__(self, *, detached: bool = False, use_env: bool = True) -> None:
        """Services die with this process unless *detached*; *use_env* honours the env vars."""
        self._detached = detached
        self._use_env = use_env
        self._lock = threading.Lock()
        self._started: dict[str, RunningService] = {}
        self._cluster: KafkaCluster | None = None
        # One line per service started here (name, version, address, start time), for reports.
        self.log: list[str] = []
        if not detached:
            atexit.register(self.stop)

    def _get(self, name: str, env: str, start: Callable[..., RunningService]) -> str:
        external = os.environ.get(env) if self._use_env else None
        if external:
            return external
        with self._lock:
            if name not in self._started:
                began = time.monotonic()
                service = start(tie_to_parent=not self._detached)
                self._started[name] = service
                self.log.append(
                    f"{service.name} {service.version} at {service.address}, "
                    f"started in {time.monotonic() - began:.1f}s"
                )
            return self._started[name].address

    def kafka_bootstrap(self) -> str:
        """Return ``host:port`` of a Kafka broker (env override, else one started here)."""
        return self._get("kafka", KAFKA_ENV, start_kafka)

    def registry_url(self) -> str:
        """Return the Confluent-compatible base URL of a registry (env, else started here)."""
        return self._get("registry", REGISTRY_ENV, start_registry)

    def kafka_cluster(self) -> KafkaCluster:
        """A three-node KRaft cluster (replication factor 3, min.insync.replicas 2), started
        here on first call. Its ``address`` is the bootstrap string naming all three nodes."""
        with self._lock:
            if self._cluster is None:
                began = time.monotonic()
                cluster = start_kafka_cluster(tie_to_parent=not self._detached)
                self._cluster = cluster
                self.log.append(
                    f"{cluster.name} ({len(cluster.nodes)} nodes) {cluster.version} at "
                    f"{cluster.address}, started in {time.monotonic() - began:.1f}s"
                )
            return self._cluster

    def started(self) -> list[RunningService]:
        """The single services this stack started and has not stopped yet (the cluster, if
        started, is :meth:`cluster_or_none`)."""
        with self._lock:
            return list(self._started.values())

    def cluster_or_none(self) -> KafkaCluster | None:
        """The cluster this stack started, if any."""
        return self._cluster

    def stop(self) -> None:
        """Stop every service this stack started, in reverse start order."""
        with self._lock:
            services: list[RunningService | KafkaCluster] = list(self._started.values())
            if self._cluster is not None:
                services.append(self._cluster)
            self._started.clear()
            self._cluster = None
        errors: list[BaseException] = []
        for service in reversed(services):
            try:
                service.stop()
            except Exception as exc:  # stop the others too, then report
                errors.append(exc)
        if errors:
            raise errors[0]
