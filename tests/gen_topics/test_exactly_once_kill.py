"""Exactly-once on real Kafka: a read-process-write service SIGKILLed twice mid-stream leaves
each input's derived record exactly once for read_committed readers; at-least-once does not."""

from __future__ import annotations

import asyncio
import collections
import signal
import sys
from pathlib import Path

import pytest

from gen_topics import App
from tests.gen_topics.eos_checks import committed_to_end, read_committed

PROCESSOR = Path(__file__).with_name("eos_processor.py")
RECORDS = 20_000
PARTITIONS = 4


async def _run_until(args: list[str], *, kill_after: int | None, done: asyncio.Event) -> None:
    """Run the processor; SIGKILL it once it processed ``kill_after`` events (or SIGTERM it
    when ``done`` is set)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(PROCESSOR), *args, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        if kill_after is not None:
            while True:
                raw = await proc.stdout.readline()
                assert raw, "the processor ended early"
                if int(raw.split()[1]) >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    break
        else:
            reading = asyncio.create_task(proc.stdout.read())
            await done.wait()
            proc.send_signal(signal.SIGTERM)
            await reading
    finally:
        if proc.returncode is None:
            await proc.wait()


async def _killed_twice(url: str, unique: str, guarantee: str) -> collections.Counter[bytes]:
    source, sink, group = f"kin-{unique}", f"kout-{unique}", f"kg-{unique}"
    async with App(f"fill-{unique}", broker=url) as app:
        inp = app.topic(source, partitions=PARTITIONS, key_serializer="raw", value_serializer="raw")
        await inp.declare()
        await app.topic(sink, partitions=PARTITIONS).declare()
        for i in range(RECORDS):
            inp.send_soon(key=str(i).encode(), value=str(i).encode())
        await app.flush()
    args = [url, group, source, sink, guarantee]
    never = asyncio.Event()
    await _run_until(args, kill_after=6000, done=never)
    await _run_until(args, kill_after=6000, done=never)
    done = asyncio.Event()
    last = asyncio.create_task(_run_until(args, kill_after=None, done=done))
    await committed_to_end(url, group, source, PARTITIONS)
    done.set()
    await last
    return await read_committed(url, sink, PARTITIONS)


@pytest.mark.kafka
@pytest.mark.timeout(300)
async def test_exactly_once_survives_two_sigkills(kafka_bootstrap: str, unique: str) -> None:
    async with asyncio.timeout(240):
        found = await _killed_twice(f"kafka://{kafka_bootstrap}", unique, "exactly_once")
    expected = {b"d-%d" % i for i in range(RECORDS)}
    missing = expected - set(found)
    duplicated = {v: n for v, n in found.items() if n > 1}
    assert not missing and not duplicated and set(found) == expected, (
        f"{len(missing)} missing, {len(duplicated)} duplicated"
    )


@pytest.mark.kafka
@pytest.mark.timeout(300)
async def test_at_least_once_shows_the_duplicates_exactly_once_removes(
    kafka_bootstrap: str, unique: str
) -> None:
    async with asyncio.timeout(240):
        found = await _killed_twice(f"kafka://{kafka_bootstrap}", unique, "at_least_once")
    assert set(found) == {b"d-%d" % i for i in range(RECORDS)}  # nothing lost
    assert sum(found.values()) > RECORDS  # but some processed (and written) twice
