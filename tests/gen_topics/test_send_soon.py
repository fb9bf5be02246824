"""send_soon and callbacks on the memory broker: every future resolves once, every callback runs
once (also for a record that failed), and stop() reports what it could not deliver.

The broker outages themselves are in test_outages.py (a real Kafka broker, killed).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import logging

import pytest

from gen_topics import App, FutureMessage, RecordMetadata, UndeliveredRecordsError
from gen_topics._transport.memory_broker import UnknownPartitionError
from tests.gen_topics.leaks import no_unretrieved_errors


async def test_a_record_that_fails_during_stop_is_given_back(
    memory_url: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls: collections.Counter[bytes] = collections.Counter()
    outcomes: dict[bytes, BaseException | None] = {}

    def callback(fut: FutureMessage) -> None:
        calls[fut.message.value] += 1
        outcomes[fut.message.value] = fut.exception()

    app = App(f"soon-{unique}", broker=memory_url)
    await app.start()
    topic = app.topic(f"bad-{unique}", partitions=2, value_serializer="raw")
    await topic.declare()
    good = [topic.send_soon(value=b"g%d" % i, callback=callback) for i in range(5)]
    bad = topic.send_soon(value=b"bad", partition=9, callback=callback)
    with pytest.raises(UndeliveredRecordsError) as info:
        await app.stop()
    assert info.value.messages == [bad]
    assert info.value.counts == {f"bad-{unique}": 1}
    assert info.value.pending[0].value == b"bad"
    assert "1 of 6 records buffered by send_soon not delivered" in str(info.value)
    assert "got partition 9" in str(info.value), "the record's own error is quoted"
    assert isinstance(bad.exception(), UnknownPartitionError)
    assert all(isinstance(f.result(), RecordMetadata) for f in good)
    assert set(calls.values()) == {1} and len(calls) == 6
    assert isinstance(outcomes[b"bad"], UnknownPartitionError) and outcomes[b"g0"] is None
    assert not app.started
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def test_a_failure_reported_before_stop_does_not_fail_stop(
    memory_url: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with App(f"soon-{unique}", broker=memory_url) as app:
        topic = app.topic(f"early-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        with caplog.at_level(logging.ERROR, logger="gen_topics._producer_buffer"):
            bad = topic.send_soon(value=b"x", partition=3)
            await app.flush()
        assert isinstance(bad.exception(), UnknownPartitionError)
        assert any(
            "send_soon record for topic" in r.getMessage() and "is not retried" in r.getMessage()
            for r in caplog.records
        ), "a failure nobody waits for is logged, never silent"
    # stop() returned normally: the failure was reported when it happened.


async def test_callback_errors_are_logged_and_do_not_stop_the_others(
    memory_url: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[bytes] = []

    def callback(fut: FutureMessage) -> None:
        seen.append(fut.message.value)
        if fut.message.value == b"1":
            raise RuntimeError("callback bug")

    async with App(f"soon-{unique}", broker=memory_url) as app:
        topic = app.topic(f"cb-{unique}", value_serializer="raw")
        futures = [topic.send_soon(value=str(i).encode(), callback=callback) for i in range(3)]
    assert seen == [b"0", b"1", b"2"]
    assert all(isinstance(f.result(), RecordMetadata) for f in futures)
    assert any("callback of the send_soon record" in r.getMessage() for r in caplog.records)


async def test_send_with_callback_calls_it_once_when_the_send_fails(
    memory_url: str, unique: str
) -> None:
    seen: list[FutureMessage] = []
    async with App(f"soon-{unique}", broker=memory_url) as app:
        topic = app.topic(f"fail-{unique}", partitions=1, value_serializer="raw")
        await topic.declare()
        with pytest.raises(UnknownPartitionError):
            await topic.send(value=b"x", partition=5, callback=seen.append)
        assert len(seen) == 1 and isinstance(seen[0].exception(), UnknownPartitionError)
        fut = topic.as_future_message(value=b"y", partition=5, callback=seen.append)
        with pytest.raises(UnknownPartitionError):
            await topic.publish_message(fut, wait=True)
        assert len(seen) == 2 and seen[1] is fut and fut.done()


def test_the_leak_check_sees_an_exception_nobody_retrieved() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(AssertionError, match="never retrieved"), no_unretrieved_errors():
            fut = loop.create_future()
            fut.set_exception(RuntimeError("nobody looks at me"))
            del fut
    finally:
        loop.close()
