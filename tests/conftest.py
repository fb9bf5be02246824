"""Session fixtures: real Kafka and a real schema registry, started on first use only.

``kafka_bootstrap`` and ``registry_url`` use ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL``
when set (nothing is started then); otherwise the first test that asks starts the service (see
scripts/stack.py), and it is stopped when the session ends. A run that needs neither starts neither.
``kafka_cluster`` is a three-node cluster the session always starts itself (on first use), since
its tests kill nodes. ``report`` collects figures that the session prints at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from scripts.kafka_cluster import KafkaCluster
from scripts.stack import ServiceStack

_STACK = pytest.StashKey[ServiceStack]()
_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def service_stack(request: pytest.FixtureRequest) -> Iterator[ServiceStack]:
    """The session's lazily started services; stopped at session end."""
    stack = ServiceStack()
    request.config.stash[_STACK] = stack
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(service_stack: ServiceStack) -> str:
    """``"127.0.0.1:PORT"`` of a real Kafka 4.x broker (or ``$KAFKA_BOOTSTRAP_SERVERS``)."""
    return service_stack.kafka_bootstrap()


@pytest.fixture(scope="session")
def registry_url(service_stack: ServiceStack) -> str:
    """Base URL of a real Confluent-compatible registry API (or ``$SCHEMA_REGISTRY_URL``)."""
    return service_stack.registry_url()


@pytest.fixture(scope="session")
def kafka_cluster(service_stack: ServiceStack) -> KafkaCluster:
    """A three-node Kafka 4.x KRaft cluster (replication factor 3, min.insync.replicas 2) of the
    session's own; ``.address`` is its bootstrap string, ``.node(n)`` node ``n`` (to kill and
    ``start_again``). A test that kills a node brings it back."""
    return service_stack.kafka_cluster()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report(line)``: print ``line`` now and again in the session's "figures" section."""
    figures = request.config.stash.setdefault(_FIGURES, [])

    def _report(line: str) -> None:
        print(line)
        figures.append(f"{request.node.name}: {line}")

    return _report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """List the services this session started, with their start times, and the figures."""
    stack = config.stash.get(_STACK, None)
    if stack is not None and stack.log:
        terminalreporter.section("test services")
        for line in stack.log:
            terminalreporter.write_line(line)
    figures = config.stash.get(_FIGURES, None)
    if figures:
        terminalreporter.section("figures")
        for line in figures:
            terminalreporter.write_line(line)
