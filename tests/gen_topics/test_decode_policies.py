"""Records that do not decode: raise, skip or dead-letter them (on memory:// and real Kafka)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from gen_topics import TP, App, DecodeError, Event, Topic
from gen_topics._decode_policy import (
    DLQ_ERROR,
    DLQ_FIELD,
    DLQ_OFFSET,
    DLQ_PARTITION,
    DLQ_TOPIC,
)
from gen_topics._transport.base import ConsumerSettings
from gen_topics.errors import DeadLetterError

BAD = b"{not json"


async def _produce(broker_url: str, name: str) -> list[Any]:
    """Three records on one partition: valid, not JSON (with a key and a header), valid.
    Returns what the broker stored for the bad one (its timestamp)."""
    async with App(f"{name}-producer", broker=broker_url) as app:
        raw = app.topic(name, partitions=1, key_serializer="raw", value_serializer="raw")
        await raw.declare()
        await (await raw.send(key=b"k0", value=b'{"n": 0}'))
        bad = await (
            await raw.send(key=b"k1", value=BAD, headers=[("trace", b"t-1"), ("trace", b"t-2")])
        )
        await (await raw.send(key=b"k2", value=b'{"n": 2}'))
        return [bad]


async def _read(topic: Topic[Any, Any], n: int) -> list[Event[Any, Any] | DecodeError]:
    it = aiter(topic)
    out: list[Event[Any, Any] | DecodeError] = []
    async with asyncio.timeout(30):
        while len(out) < n:
            try:
                out.append(await anext(it))
            except DecodeError as exc:
                out.append(exc)
    return out


async def _committed(broker_url: str, group: str, tp: TP) -> int | None:
    consumer = App(group, broker=broker_url).transport.consumer(ConsumerSettings(group))
    await consumer.start()
    try:
        return await consumer.committed(tp)
    finally:
        await consumer.stop()


async def test_raise_hands_the_error_to_the_reader_and_moves_past_it(
    broker_url: str, unique: str
) -> None:
    name, group = f"raise-{unique}", f"raise-g-{unique}"
    await _produce(broker_url, name)
    async with App(group, broker=broker_url, commit_interval=600) as app:
        first, error, third = await _read(app.topic(name), 3)
        assert isinstance(first, Event) and isinstance(third, Event)
        assert isinstance(error, DecodeError)
        assert (error.topic, error.partition, error.offset, error.field) == (name, 0, 1, "value")
        assert error.data == BAD
        # Reading on acked the error's record and the last event is acked on the next read.
        third.ack()
    assert await _committed(broker_url, group, TP(name, 0)) == 3


async def test_skip_logs_counts_and_commits_past_the_record(
    broker_url: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    name, group = f"skip-{unique}", f"skip-g-{unique}"
    await _produce(broker_url, name)
    caplog.set_level(logging.WARNING, logger="gen_topics.consumer")
    async with App(group, broker=broker_url, commit_interval=600) as app:
        topic = app.topic(name, on_decode_error="skip")
        first, third = await _read(topic, 2)
        assert isinstance(first, Event) and isinstance(third, Event)
        assert (first.value, third.value) == ({"n": 0}, {"n": 2})
        third.ack()
        assert (topic.skipped, topic.dead_lettered) == (1, 0)
    assert await _committed(broker_url, group, TP(name, 0)) == 3
    [line] = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert f"{name}[0]@1" in line and "value" in line


async def test_dead_letter_produces_the_record_unchanged_then_commits(
    broker_url: str, unique: str
) -> None:
    name, group = f"dlq-{unique}", f"dlq-g-{unique}"
    [bad_md] = await _produce(broker_url, name)
    async with App(group, broker=broker_url, commit_interval=600) as app:
        topic = app.topic(name, on_decode_error="dead_letter")
        first, third = await _read(topic, 2)
        assert isinstance(first, Event) and isinstance(third, Event)
        third.ack()
        assert (topic.skipped, topic.dead_lettered) == (0, 1)
    assert await _committed(broker_url, group, TP(name, 0)) == 3

    async with App(f"{group}-inspect", broker=broker_url) as app:
        [dead] = await _read(
            app.topic(f"{name}.dlq", key_serializer="raw", value_serializer="raw"), 1
        )
    assert isinstance(dead, Event)
    message = dead.message
    assert (message.key, message.value) == (b"k1", BAD)  # byte-equal to the original
    assert message.timestamp == bad_md.timestamp
    original, ours = message.headers[:2], dict(message.headers[2:])
    assert original == [("trace", b"t-1"), ("trace", b"t-2")]
    assert ours[DLQ_TOPIC] == name.encode()
    assert (ours[DLQ_PARTITION], ours[DLQ_OFFSET], ours[DLQ_FIELD]) == (b"0", b"1", b"value")
    assert f"{name}[0]@1".encode() in ours[DLQ_ERROR]


async def test_dead_letter_topic_can_be_named(memory_url: str) -> None:
    async with App("named-dlq", broker=memory_url) as app:
        raw = app.topic("src", value_serializer="raw")
        await raw.send(value=BAD)
        await raw.send(value=b"1")
        topic = app.topic("src", on_decode_error="dead_letter", dead_letter_topic="quarantine")
        [event] = await _read(topic, 1)
        assert isinstance(event, Event) and event.value == 1
        [dead] = await _read(app.topic("quarantine", value_serializer="raw"), 1)
        assert isinstance(dead, Event) and dead.value == BAD


async def test_a_failed_dead_letter_keeps_the_record_for_the_next_read(memory_url: str) -> None:
    async with App("dlq-down", broker=memory_url, commit_interval=600) as app:
        raw = app.topic("src", value_serializer="raw")
        await raw.send(value=BAD)
        await raw.send(value=b"1")
        send_path = await app.start_send_path()

        async def broker_gone(*args: Any) -> Any:
            raise ConnectionError("broker unreachable")

        app.send_path = send_path._replace(send=broker_gone)
        it = aiter(app.topic("src", on_decode_error="dead_letter"))
        with pytest.raises(DeadLetterError, match=r"src\[0\]@0 to topic 'src.dlq'") as info:
            async with asyncio.timeout(10):
                await anext(it)
        assert info.value.offset == 0
        assert await app.conductor.commit() == {}  # nothing was committed past it
        app.send_path = send_path  # the broker is back: the same record is dead-lettered
        async with asyncio.timeout(10):
            event = await anext(it)
        assert event.value == 1 and it.dead_lettered == 1


def test_an_unknown_policy_is_refused(memory_url: str) -> None:
    app = App("bad-policy", broker=memory_url)
    with pytest.raises(ValueError, match="on_decode_error must be one of 'raise', 'skip'"):
        app.topic("t", on_decode_error="drop")  # type: ignore[arg-type]
