"""KIP-447 on real Kafka: a transaction's offsets carry the consuming member's generation, so a
member the group has fenced (a zombie) cannot commit them, nor its transaction's records; and a
read_committed member reads a partition's committed offset only once no transaction holds it."""

from __future__ import annotations

import asyncio
import collections
import logging

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from gen_topics import TP, App
from gen_topics._transport.base import ConsumerSettings, ConsumerTransport, ProducerSettings
from gen_topics._transport.kafka_kip447 import UnstableOffsetCommitError
from gen_topics.errors import MemberFencedError
from tests.gen_topics.eos_checks import committed_to_end, read_committed

pytestmark = pytest.mark.kafka

_TIMEOUT = 60.0


async def _poll_until(consumers: list[ConsumerTransport], done: object) -> None:
    """Fetch with every consumer (they answer the group's rebalances) until ``done()``."""
    async with asyncio.timeout(_TIMEOUT):
        while not done():  # type: ignore[operator]
            await asyncio.gather(*(c.getmany(100) for c in consumers))


async def test_a_member_with_a_stale_generation_cannot_commit_its_transaction(
    kafka_bootstrap: str, unique: str
) -> None:
    url = f"kafka://{kafka_bootstrap}"
    source, sink, group = f"fin-{unique}", f"fout-{unique}", f"fg-{unique}"
    async with App(f"setup-{unique}", broker=url) as app:
        await app.topic(source, partitions=1).declare()
        await app.topic(sink, partitions=1).declare()
        settings = ConsumerSettings(group_id=group, isolation_level="read_committed")
        first = app.transport.consumer(settings)
        second = app.transport.consumer(settings)
        producer = app.transport.producer(ProducerSettings(transactional_id=f"tid-{unique}"))
        await first.start()
        await second.start()
        await producer.start()
        try:
            await first.subscribe(frozenset({source}), ())
            await _poll_until([first], lambda: bool(first.assignment()))
            stale = first.group_metadata()
            assert stale is not None and stale.is_member

            # A second member joins: the group moves to a new generation; ``stale`` is what a
            # zombie still holds (a member that missed the rebalance).
            await second.subscribe(frozenset({source}), ())

            def rebalanced() -> bool:
                md = second.group_metadata()
                return md is not None and md.generation_id > stale.generation_id

            await _poll_until([first, second], rebalanced)

            path = producer.send_path()
            await path.delivery(
                await path.send(sink, b"zombie", None, 0, None, None), sink, 0, None
            )
            with pytest.raises(MemberFencedError) as caught:
                await producer.commit_transaction({TP(source, 0): 1}, group, stale)
            assert caught.value.reason in {"ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"}
            assert caught.value.generation_id == stale.generation_id
            assert f"group {group!r} fenced member" in str(caught.value)
            # What gen_topics does next (Transactions.commit): abort, a new one begins.
            await producer.abort_transaction()
            assert await first.committed(TP(source, 0)) is None

            # The same producer commits with the current owner's metadata: the refusal above
            # was the stale generation, not the request.
            owner = first if TP(source, 0) in first.assignment() else second
            await _poll_until([first, second], lambda: TP(source, 0) in owner.assignment())
            current = owner.group_metadata()
            await path.delivery(await path.send(sink, b"owner", None, 0, None, None), sink, 0, None)
            await producer.commit_transaction({TP(source, 0): 1}, group, current)
            # require_stable: the offset is read once the transaction has completed.
            assert await owner.committed(TP(source, 0)) == 1

            # Stock aiokafka (TxnOffsetCommit v0, no generation) lets the same zombie through:
            # what the check above prevents, and proof that other aiokafka clients in the
            # process keep aiokafka's own behaviour.
            plain = AIOKafkaProducer(
                bootstrap_servers=kafka_bootstrap, transactional_id=f"plain-{unique}"
            )
            await plain.start()
            try:
                await plain.begin_transaction()
                await plain.send_offsets_to_transaction({TopicPartition(source, 0): 2}, group)
                await plain.commit_transaction()
            finally:
                await plain.stop()
            assert await owner.committed(TP(source, 0)) == 2
        finally:
            await producer.stop()
            await second.stop()
            await first.stop()
    assert await read_committed(url, sink, 1) == collections.Counter({b"owner": 1})


async def test_a_zombie_app_that_missed_the_rebalance_cannot_commit(
    kafka_bootstrap: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An instance stuck on an event while the group rebalances is removed after the session
    timeout; its partitions go to the other instance, which processes the stuck event too.
    When the zombie gets going again, its commit is refused and its transaction aborted: the
    event's derived record is there once (without KIP-447 it would be there twice)."""
    url = f"kafka://{kafka_bootstrap}"
    source, sink, group = f"zin-{unique}", f"zout-{unique}", f"zg-{unique}"
    records = 20
    async with App(f"setup-{unique}", broker=url) as app:
        inp = app.topic(source, partitions=2, key_serializer="raw", value_serializer="raw")
        await inp.declare()
        await app.topic(sink, partitions=1).declare()
        for i in range(records):
            await (await inp.send(key=b"%d" % i, value=b"%d" % i, partition=i % 2))

    # No client id: the two instances' default transactional ids differ all the same.
    zombie = App(group, broker=url, processing_guarantee="exactly_once")
    other = App(group, broker=url, processing_guarantee="exactly_once")
    assert zombie.conf.producer_transactional_id != other.conf.producer_transactional_id
    holding, release = asyncio.Event(), asyncio.Event()
    other_seen: collections.Counter[bytes] = collections.Counter()
    zombie_events: list[bytes] = []

    async def run_zombie() -> None:
        source_t = zombie.topic(source, key_serializer="raw", value_serializer="raw")
        sink_t = zombie.topic(sink, key_serializer="raw", value_serializer="raw")
        async with zombie:
            async for event in source_t:
                value = event.value or b""
                await sink_t.send(key=event.key, value=b"d-" + value, partition=0)
                zombie_events.append(value)
                if not holding.is_set():
                    holding.set()
                    await release.wait()  # stuck (a long call, a GC pause, a frozen VM)

    async def run_other() -> None:
        source_t = other.topic(source, key_serializer="raw", value_serializer="raw")
        sink_t = other.topic(sink, key_serializer="raw", value_serializer="raw")
        async with other:
            async for event in source_t:
                value = event.value or b""
                await sink_t.send(key=event.key, value=b"d-" + value, partition=0)
                other_seen[value] += 1

    caplog.set_level(logging.WARNING, logger="gen_topics")
    fenced_text = f"group {group!r} fenced"
    tasks = [asyncio.create_task(run_zombie())]
    try:
        async with asyncio.timeout(120):
            await holding.wait()
            stuck = zombie_events[0]
            tasks.append(asyncio.create_task(run_other()))
            # The group gives up on the zombie (its revocation waits for the stuck event)
            # after the session timeout; the other instance then owns every partition and
            # processes the stuck event too, from the committed offset.
            while stuck not in other_seen:
                await asyncio.wait(tasks, timeout=0.1)
                assert not any(t.done() for t in tasks), [t.exception() for t in tasks]
            # Going again, the zombie commits (on its interval, or at the latest at stop).
            release.set()
            await committed_to_end(url, group, source, 2, records)
    finally:
        release.set()
        zombie.request_stop()
        other.request_stop()
        await asyncio.gather(*tasks)

    found = await read_committed(url, sink, 1)
    expected = {b"d-%d" % i for i in range(records)}
    assert set(found) == expected
    assert [v for v, n in found.items() if n > 1] == []
    fenced = [r.getMessage() for r in caplog.records if fenced_text in r.getMessage()]
    reasons = ("UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "NOT_A_MEMBER")
    assert any(reason in m for m in fenced for reason in reasons), fenced


async def test_a_read_committed_member_reads_a_transactions_offsets_only_once_completed(
    kafka_bootstrap: str, unique: str
) -> None:
    """require_stable (OffsetFetch v7): while a transaction holds offsets of a partition, the
    coordinator answers UNSTABLE_OFFSET_COMMIT instead of the previous offset; once it is
    committed, ``committed()`` returns the transaction's offset straight away."""
    url = f"kafka://{kafka_bootstrap}"
    source, group = f"sin-{unique}", f"sg-{unique}"
    async with App(f"setup-{unique}", broker=url) as app:
        await app.topic(source, partitions=1).declare()
        consumer = app.transport.consumer(
            ConsumerSettings(group_id=group, isolation_level="read_committed")
        )
        producer = app.transport.producer(ProducerSettings(transactional_id=f"tid-{unique}"))
        await consumer.start()
        await producer.start()
        try:
            tp = TP(source, 0)
            assert await consumer.committed(tp) is None
            aio = producer._transactional()  # type: ignore[attr-defined]
            await aio.send_offsets_to_transaction({TopicPartition(source, 0): 5}, group)
            # The offsets are pending in the open transaction: not stable.
            fetch = consumer._require()._coordinator._do_fetch_commit_offsets  # type: ignore[attr-defined]
            with pytest.raises(UnstableOffsetCommitError):
                await fetch([TopicPartition(source, 0)])
            await aio.commit_transaction()
            assert await consumer.committed(tp) == 5
        finally:
            await producer.stop()
            await consumer.stop()
