#!/usr/bin/env python3
"""Read-process-write throughput under exactly_once against at_least_once, in one run.

    python benchmarks/bench_exactly_once.py [--messages N] [--per-event N] [--rounds R]

N records (default 20,000; 100-byte raw values, 4 partitions) are produced once; every round
each mode reads them with a fresh consumer group and writes one derived record per input to
an output topic, on the same broker:

- ``async for event in topic`` + ``sink.send`` (not awaited):
  at_least_once (commit every ``commit_interval``) vs exactly_once with
  ``transaction_commit_interval=0.1`` (one transaction per 100 ms) and vs exactly_once per
  event (``transaction_commit_interval=None``: one transaction per event; it reads only
  ``--per-event`` records, default 500, since each event costs a transaction round trip);
- ``topic.take(500, within=0.2)`` + ``sink.send_soon`` per record: at_least_once vs
  exactly_once with one transaction per batch.

Each run is timed from its first record to its last one processed, flushed and committed
(group join, producer start and shutdown excluded on both sides). Rounds are paired and the
order of the modes rotates each round; it prints per mode the median records/s and CPU us
per record, and the median of the per-round ratios (exactly_once / at_least_once). The
broker comes from ``KAFKA_BOOTSTRAP_SERVERS`` or is started with the project's scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Literal, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gen_topics import App

VALUE = bytes(range(100))
PARTITIONS = 4


class Run(NamedTuple):
    """One timed run: records/s (first to last record), this process's CPU us per record."""

    rate: float
    cpu_us: float


class Mode(NamedTuple):
    name: str
    guarantee: Literal["at_least_once", "exactly_once"]
    interval: float | None
    batches: bool
    per_event: bool  # reads only --per-event records


MODES = [
    Mode("alo async-for", "at_least_once", None, False, False),
    Mode("eos async-for interval=0.1", "exactly_once", 0.1, False, False),
    Mode("eos async-for per event", "exactly_once", None, False, True),
    Mode("alo take(500)", "at_least_once", None, True, False),
    Mode("eos take(500) per batch", "exactly_once", None, True, False),
]
# (exactly_once mode, its at_least_once peer)
PAIRS = [
    ("eos async-for interval=0.1", "alo async-for"),
    ("eos async-for per event", "alo async-for"),
    ("eos take(500) per batch", "alo take(500)"),
]


async def _run(url: str, source: str, sink_name: str, mode: Mode, count: int) -> Run:
    group = f"bench-eos-{uuid.uuid4().hex[:8]}"
    app = App(
        group,
        broker=url,
        client_id=group,
        processing_guarantee=mode.guarantee,
        transaction_commit_interval=mode.interval,
    )
    async with app:
        topic = app.topic(source, key_serializer="raw", value_serializer="raw")
        sink = app.topic(sink_name, key_serializer="raw", value_serializer="raw")
        await app.maybe_start_producer()  # its start (and init_transactions) is not timed
        seen = 0
        started = cpu = 0.0
        if mode.batches:
            async for batch in topic.take(500, within=0.2):
                if not seen:
                    started, cpu = time.perf_counter(), time.process_time()
                for event in batch:
                    sink.send_soon(key=event.key, value=event.value)
                seen += len(batch)
                if seen >= count:
                    # Ends the iteration at the next read (a break would stop holding the
                    # batch, and exactly_once would abort its transaction).
                    app.request_stop()
        else:
            async for event in topic:
                if not seen:
                    started, cpu = time.perf_counter(), time.process_time()
                await sink.send(key=event.key, value=event.value)
                seen += 1
                if seen >= count:
                    app.request_stop()
        # Both sides end with everything flushed and committed (offsets, or the transaction).
        await app.flush()
        await app.conductor.commit()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return Run(seen / elapsed, cpu / seen * 1e6)


def _bootstrap() -> tuple[str, Any]:
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env:
        return env, None
    from scripts.stack import ServiceStack

    stack = ServiceStack(use_env=False)
    return stack.kafka_bootstrap(), stack


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--per-event", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bootstrap, stack = _bootstrap()
    url = f"kafka://{bootstrap}"
    try:
        source, sink = (
            f"bench-eos-in-{uuid.uuid4().hex[:8]}",
            f"bench-eos-out-{uuid.uuid4().hex[:8]}",
        )
        async with App("bench-admin", broker=url) as app:
            inp = app.topic(
                source, partitions=PARTITIONS, key_serializer="raw", value_serializer="raw"
            )
            await inp.declare()
            await app.topic(sink, partitions=PARTITIONS).declare()
            for i in range(args.messages):
                inp.send_soon(key=str(i).encode(), value=VALUE)
            await app.flush()
        runs: dict[str, list[Run]] = {m.name: [] for m in MODES}
        ratios: dict[tuple[str, str], list[float]] = {p: [] for p in PAIRS}
        for r in range(args.rounds):
            order = MODES[r % len(MODES) :] + MODES[: r % len(MODES)]
            this: dict[str, Run] = {}
            for mode in order:
                count = args.per_event if mode.per_event else args.messages
                this[mode.name] = run = await _run(url, source, sink, mode, count)
                runs[mode.name].append(run)
                print(
                    f"round {r + 1}: {mode.name:28} {run.rate:9.0f} rec/s "
                    f"{run.cpu_us:7.1f} us CPU/rec",
                    flush=True,
                )
            for eos, alo in PAIRS:
                ratios[(eos, alo)].append(this[eos].rate / this[alo].rate)
        print(
            f"\n{args.rounds} paired rounds, {args.messages} records ({args.per_event} per event)"
        )
        for mode in MODES:
            rs = runs[mode.name]
            print(
                f"{mode.name:28} median {statistics.median(r.rate for r in rs):9.0f} rec/s "
                f"(range {min(r.rate for r in rs):.0f}-{max(r.rate for r in rs):.0f}), "
                f"{statistics.median(r.cpu_us for r in rs):.1f} us CPU/rec"
            )
        for (eos, alo), values in ratios.items():
            print(
                f"ratio {eos} / {alo}: median {statistics.median(values):.3f} "
                f"(range {min(values):.3f}-{max(values):.3f})"
            )
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
