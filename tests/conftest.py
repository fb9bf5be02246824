"""Session fixtures: real Kafka and a real schema registry, started on first use only.

``kafka_bootstrap`` and ``registry_url`` use ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL``
when set (nothing is started then); otherwise the first test that asks starts the service (see
scripts/stack.py), and it is stopped when the session ends. A run that needs neither starts neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.stack import ServiceStack

_STACK = pytest.StashKey[ServiceStack]()


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


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """List the services this session started, with their start times."""
    stack = config.stash.get(_STACK, None)
    if stack is not None and stack.log:
        terminalreporter.section("test services")
        for line in stack.log:
            terminalreporter.write_line(line)
