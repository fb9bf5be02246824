"""Sensors see every send, read, decode error and commit; a failing sensor changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from gen_topics import App, DecodeError, Event, RecordMetadata
from gen_topics._messages import TP, Headers, Message
from gen_topics.sensors import Sensor


class Recorder(Sensor):
    """Keeps what each hook was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_send_start(self, topic: str, key: object, tombstone: bool, headers: Headers) -> Any:
        self.calls.append(("send_start", (topic, key, tombstone)))
        return ("token", key)

    def on_send_done(
        self, token: Any, topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        assert latency >= 0
        self.calls.append(("send_done", (token, topic, metadata.offset, size)))

    def on_message_in(self, message: Message) -> None:
        self.calls.append(("message_in", (message.topic, message.offset)))

    def on_event_start(self, event: Event[Any, Any], group: str) -> Any:
        self.calls.append(("event_start", (event.key, group)))
        return event.message.offset

    def on_event_processed(self, token: Any, message: Message, duration: float) -> None:
        assert duration >= 0
        self.calls.append(("event_processed", (token, message.offset)))

    def on_decode_error(self, message: Message, error: BaseException) -> None:
        self.calls.append(("decode_error", (message.offset, type(error).__name__)))

    def on_commit(self, offsets: Mapping[TP, int], duration: float) -> None:
        self.calls.append(("commit", dict(offsets)))

    def kinds(self, kind: str) -> list[Any]:
        return [args for k, args in self.calls if k == kind]


class Exploding(Sensor):
    """Raises in every hook it has."""

    def on_send_start(self, topic: str, key: object, tombstone: bool, headers: Headers) -> Any:
        raise RuntimeError("send_start broke")

    def on_send_done(
        self, token: Any, topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        raise RuntimeError("send_done broke")

    def on_message_in(self, message: Message) -> None:
        raise RuntimeError("message_in broke")

    def on_event_start(self, event: Event[Any, Any], group: str) -> Any:
        raise RuntimeError("event_start broke")

    def on_event_processed(self, token: Any, message: Message, duration: float) -> None:
        raise RuntimeError("event_processed broke")

    def on_commit(self, offsets: Mapping[TP, int], duration: float) -> None:
        raise RuntimeError("commit broke")


async def _send_and_read(app: App, name: str, count: int) -> list[Event[Any, Any]]:
    topic = app.topic(name, key_serializer="str", value_serializer="json", partitions=1)
    await topic.maybe_declare()
    for i in range(count):
        await (await topic.send(key=f"k{i}", value={"i": i}))
    events = []
    async for event in topic:
        events.append(event)
        if len(events) == count:
            break
    return events


async def test_hooks_see_sends_reads_and_commits() -> None:
    recorder = Recorder()
    async with App("sensed", broker="memory://sensors-1", value_serializer="json") as app:
        app.sensors.add(recorder)
        events = await _send_and_read(app, "s1", 3)
        events[-1].ack()
        await app.commit()
    assert recorder.kinds("send_start") == [("s1", f"k{i}", False) for i in range(3)]
    done = recorder.kinds("send_done")
    assert [(token, offset) for token, _, offset, _ in done] == [
        (("token", f"k{i}"), i) for i in range(3)
    ]
    assert all(size > 0 for *_, size in done)
    assert recorder.kinds("message_in") == [("s1", i) for i in range(3)]
    assert recorder.kinds("event_start") == [(f"k{i}", "sensed") for i in range(3)]
    assert recorder.kinds("event_processed") == [(i, i) for i in range(3)]
    assert {TP("s1", 0): 3} in recorder.kinds("commit")


async def test_decode_errors_reach_the_sensor() -> None:
    recorder = Recorder()
    async with App("sensed-bad", broker="memory://sensors-2") as app:
        app.sensors.add(recorder)
        raw = app.topic("bad", key_serializer="raw", value_serializer="raw", partitions=1)
        await (await raw.send(value=b"not json"))
        typed = app.topic("bad", value_serializer="json")
        iterator = typed.__aiter__()
        with pytest.raises(DecodeError):
            await iterator.__anext__()
    assert recorder.kinds("decode_error") == [(0, "DecodeError")]


async def test_a_raising_sensor_changes_nothing_and_is_logged_once_per_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="gen_topics.sensors")
    broken, recorder = Exploding(), Recorder()
    async with App("sensed-broken", broker="memory://sensors-3") as app:
        app.sensors.add(broken)
        app.sensors.add(recorder)
        events = await _send_and_read(app, "s3", 4)
        events[-1].ack()
        committed = await app.conductor.commit()
    # Everything went through, and the healthy sensor still saw all of it.
    assert [e.value for e in events] == [{"i": i} for i in range(4)]
    assert committed == {TP("s3", 0): 4}
    assert len(recorder.kinds("send_done")) == 4
    assert len(recorder.kinds("event_processed")) == 4
    logged = [r for r in caplog.records if r.name == "gen_topics.sensors"]
    hooks = sorted(r.getMessage().split(" raised in ")[1].split(" ")[0] for r in logged)
    assert hooks == sorted(
        {
            "on_send_start",
            "on_send_done",
            "on_message_in",
            "on_event_start",
            "on_event_processed",
            "on_commit",
        }
    )
    assert app.sensors.failures[("Exploding", "on_send_done")] == 4


async def test_warnings_about_a_record_carry_its_coordinates_as_fields(
    caplog: pytest.LogCaptureFixture, memory_url: str
) -> None:
    caplog.set_level(logging.WARNING, logger="gen_topics")
    async with App("fields", broker=memory_url) as app:
        raw = app.topic("coords", value_serializer="raw", partitions=1)
        await (await raw.send(value=b"broken"))
        await (await raw.send(value=b'{"ok": 1}'))
        typed = app.topic("coords", value_serializer="json", on_decode_error="skip")
        async for event in typed:
            assert event.value == {"ok": 1}
            break
    (skipped,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert (skipped.topic, skipped.partition, skipped.offset) == ("coords", 0, 0)  # type: ignore[attr-defined]
    assert skipped.field == "value"  # type: ignore[attr-defined]
