"""Fixtures for the runtime suite: a broker URL parametrized over memory:// and real Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gen_topics import Event, Topic
from gen_topics._transport.memory_broker import MemoryBroker


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """``memory://<fresh broker>`` or ``kafka://<session broker>``."""
    if request.param == "kafka":
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        yield f"kafka://{bootstrap}"
        return
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield f"memory://{name}"
    MemoryBroker.reset(name)


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh in-process broker only (for cases where the broker does not matter)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield f"memory://{name}"
    MemoryBroker.reset(name)


@pytest.fixture
def unique() -> str:
    """A unique suffix for topic and group names on the shared real broker."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def take() -> Any:
    """``await take(topic, n)``: the next ``n`` events of ``topic`` (30 s at most)."""

    async def _take(topic: Topic[Any, Any], n: int, timeout: float = 30.0) -> list[Event[Any, Any]]:
        events: list[Event[Any, Any]] = []
        if n == 0:
            return events
        async with asyncio.timeout(timeout):
            async for event in topic:
                events.append(event)
                if len(events) >= n:
                    break
        return events

    return _take
