"""Declaring: create with config, read existing topics back, report mismatches, maybe_declare."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gen_topics import App, TopicConfigMismatch
from gen_topics._declare import TopicConfigMismatchWarning, topic_config
from gen_topics._transport.base import AdminTransport, TopicDescription
from gen_topics.errors import DeclareError


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {}),
        ({"retention": 300.3}, {"retention.ms": "300300"}),
        ({"compacting": True}, {"cleanup.policy": "compact"}),
        ({"deleting": True}, {"cleanup.policy": "delete"}),
        (
            {"compacting": True, "deleting": True, "retention": 10},
            {"cleanup.policy": "compact,delete", "retention.ms": "10000"},
        ),
        ({"retention": 1, "config": {"retention.ms": "5"}}, {"retention.ms": "5"}),
    ],
)
def test_config_builder(kwargs: dict[str, Any], expected: dict[str, str]) -> None:
    args: dict[str, Any] = {"retention": None, "compacting": None, "deleting": None, "config": {}}
    args.update(kwargs)
    assert topic_config(**args) == expected


async def test_declare_creates_with_config_read_back_from_broker(
    broker_url: str, unique: str
) -> None:
    async with App(f"decl-{unique}", broker=broker_url) as app:
        name = f"decl-{unique}"
        topic = app.topic(
            name,
            partitions=3,
            replicas=1,
            retention="2h",
            compacting=True,
            deleting=True,
            config={"max.message.bytes": "65536"},
        )
        assert await topic.declare() == []
        described = await (await app.admin()).describe_topic(name)
        assert described is not None
        assert (described.partitions, described.replicas) == (3, 1)
        assert described.config["retention.ms"] == str(2 * 3600 * 1000)
        assert sorted(described.config["cleanup.policy"].split(",")) == ["compact", "delete"]
        assert described.config["max.message.bytes"] == "65536"
        # Declaring again finds the same configuration: no mismatch.
        assert await app.topic(name, partitions=3, retention="2h").declare() == []


async def test_declare_uses_app_defaults(broker_url: str, unique: str) -> None:
    async with App(f"decl-{unique}", broker=broker_url, topic_partitions=4) as app:
        name = f"defaults-{unique}"
        await app.topic(name).declare()
        described = await (await app.admin()).describe_topic(name)
        assert described is not None and described.partitions == 4


async def test_mismatch_is_reported_with_both_values(broker_url: str, unique: str) -> None:
    name = f"mm-{unique}"
    async with App(f"mm-{unique}", broker=broker_url) as app:
        await app.topic(name, partitions=2, retention=60).declare()
        with pytest.warns(TopicConfigMismatchWarning, match=rf"topic '{name}'.*partitions"):
            found = await app.topic(name, partitions=5, retention=120).declare()
        [mismatch] = found
        assert mismatch.differences["partitions"] == (5, 2)
        assert mismatch.differences["retention.ms"] == ("120000", "60000")
    async with App(f"mm-{unique}", broker=broker_url, topic_config_mismatch="raise") as strict:
        with pytest.raises(TopicConfigMismatch, match="declared 5, broker has 2"):
            await strict.topic(name, partitions=5).declare()
    async with App(f"mm-{unique}", broker=broker_url, topic_config_mismatch="ignore") as lax:
        found = await lax.topic(name, partitions=5).declare()
        assert [m.topic for m in found] == [name]


async def test_undeclared_partitions_are_not_compared(memory_url: str) -> None:
    async with App("x", broker=memory_url) as app:
        await app.topic("t", partitions=1).declare()
        assert await app.topic("t").declare() == []  # app default 8 is not a declaration


async def test_declare_disabled_or_pattern_does_nothing(memory_url: str) -> None:
    async with App("x", broker=memory_url, topic_allow_declare=False) as app:
        await app.topic("nope").declare()
        assert app._admin is None  # no admin client was even started
    async with App("x", broker=memory_url) as app:
        await app.topic(pattern="^p").declare()
        described = await (await app.admin()).describe_topic("p")
        assert described is None


class _CountingAdmin(AdminTransport):
    def __init__(self, fail_times: int = 0) -> None:
        self.calls = 0
        self.fail_times = fail_times
        self.gate = asyncio.Event()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def create_topic(self, name: str, *, partitions: int, replicas: int, config: Any) -> bool:
        self.calls += 1
        await self.gate.wait()
        if self.calls <= self.fail_times:
            raise DeclareError(f"Cannot create topic: {name} (7): broker said no")
        return True

    async def describe_topic(self, name: str) -> TopicDescription | None:
        return None


async def test_maybe_declare_from_ten_tasks_declares_once(broker_url: str, unique: str) -> None:
    async with App(f"md-{unique}", broker=broker_url) as app:
        admin = await app.admin()
        created: list[str] = []
        original = admin.create_topic

        async def counting(name: str, **kwargs: Any) -> bool:
            created.append(name)
            await asyncio.sleep(0.01)
            return await original(name, **kwargs)

        admin.create_topic = counting  # type: ignore[method-assign]
        topic = app.topic(f"once-{unique}", partitions=2)
        await asyncio.gather(*(topic.maybe_declare() for _ in range(10)))
        assert created == [f"once-{unique}"]
        await asyncio.gather(*(topic.maybe_declare() for _ in range(10)))
        assert created == [f"once-{unique}"]  # once per topic, not once per burst
        described = await admin.describe_topic(f"once-{unique}")
        assert described is not None and described.partitions == 2


async def test_maybe_declare_failure_reaches_every_waiter_and_retries(memory_url: str) -> None:
    # Fix over Faust: concurrent waiters hung forever when declare() raised.
    async with App("x", broker=memory_url) as app:
        admin = _CountingAdmin(fail_times=1)
        app._admin = admin
        topic = app.topic("flaky")
        waiters = [asyncio.create_task(topic.maybe_declare()) for _ in range(5)]
        await asyncio.sleep(0)
        admin.gate.set()
        results = await asyncio.wait_for(
            asyncio.gather(*waiters, return_exceptions=True), timeout=2
        )
        assert admin.calls == 1
        assert all(isinstance(r, DeclareError) for r in results)
        await topic.maybe_declare()  # a later call tries again, and succeeds
        assert admin.calls == 2
        await topic.maybe_declare()
        assert admin.calls == 2


async def test_clones_share_the_declaration(memory_url: str) -> None:
    async with App("x", broker=memory_url) as app:
        admin = _CountingAdmin()
        admin.gate.set()
        app._admin = admin
        topic = app.topic("shared")
        await topic.maybe_declare()
        await topic.__aiter__().maybe_declare()
        assert admin.calls == 1


class _RecordingAdmin(_CountingAdmin):
    def __init__(self) -> None:
        super().__init__()
        self.gate.set()
        self.requests: list[tuple[str, int, int, dict[str, str]]] = []

    async def create_topic(self, name: str, *, partitions: int, replicas: int, config: Any) -> bool:
        self.requests.append((name, partitions, replicas, dict(config)))
        return True


async def test_declare_each_name_in_order_with_partitions_and_replicas(memory_url: str) -> None:
    async with App("x", broker=memory_url, topic_replication_factor=3) as app:
        admin = _RecordingAdmin()
        app._admin = admin
        await app.topic("foo", "bar", partitions=101, replicas=202, compacting=True).declare()
        assert admin.requests == [
            ("foo", 101, 202, {"cleanup.policy": "compact"}),
            ("bar", 101, 202, {"cleanup.policy": "compact"}),
        ]
        admin.requests.clear()
        await app.topic("baz", replicas=0).declare()  # 0 and None fall back to the app's
        assert admin.requests == [("baz", 8, 3, {})]
