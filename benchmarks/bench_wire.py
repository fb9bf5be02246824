"""Per-record cost of the Confluent wire format, against the plain Avro path and confluent-kafka.

Run: ``.venv/bin/python benchmarks/bench_wire.py [--records N]``. Everything runs in one
process with warm caches (the schema id is known; no registry round trips), so the
numbers compare only framing and serialization work:

- plain runtime ``AvroCodec`` (dicts) vs the same wrapped in ``RegistryCodec``;
- the generated ``InventoryStockTopic`` value codec (objects) vs the same wrapped;
- confluent-kafka's ``AvroSerializer`` / ``AvroDeserializer`` on its mock registry client.

Prints microseconds per record and the ratios (framed / plain: target under 1.10).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gen_topics.codecs import AvroCodec, SchemaCodec
from gen_topics.registry.client import SchemaRegistryClient
from gen_topics.registry.codec import RegistryCodec
from generated.avro.com.acme.inventory import Location, StockLevel
from generated.inventory_stock import VALUE_CODEC, VALUE_SCHEMA


def _in_process_registry() -> SchemaRegistryClient:
    """A real client whose HTTP answers come from memory: the benchmark measures a warm
    cache only, so the one registration per codec must not need a server."""
    ids: dict[str, int] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/versions"):
            schema = json.loads(request.content)["schema"]
            return httpx.Response(200, json={"id": ids.setdefault(schema, len(ids) + 1)})
        # Lookups and "latest" find nothing: every codec registers its schema once.
        return httpx.Response(404, json={"error_code": 40401, "message": "not found"})

    return SchemaRegistryClient("http://in-process.invalid", transport=httpx.MockTransport(answer))


def _best(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _stock(i: int) -> StockLevel:
    return StockLevel(
        sku=f"SKU-{i:06d}",
        warehouse="AMS-1",
        on_hand=1000 + i,
        reserved=i % 7,
        updated_at=dt.datetime(2024, 5, 1, 12, 0, 0) + dt.timedelta(seconds=i),
        location=Location(aisle="B", shelf=i % 20),
    )


def _timings(
    codec: SchemaCodec[Any] | RegistryCodec[Any], values: list[Any]
) -> tuple[float, float]:
    """One timed pass: (encode seconds, decode seconds) over ``values``."""
    encoded = [codec.encode(v) for v in values]
    start = time.perf_counter()
    for v in values:
        codec.encode(v)
    enc = time.perf_counter() - start
    if isinstance(codec, RegistryCodec):
        framed = codec

        # The consumer path awaits decode_async (it may fetch unknown writer schemas).
        async def dec_async() -> float:
            begin = time.perf_counter()
            for data in encoded:
                await framed.decode_async(data)
            return time.perf_counter() - begin

        return enc, asyncio.run(dec_async())
    start = time.perf_counter()
    for data in encoded:
        codec.decode(data)
    return enc, time.perf_counter() - start


def _measure_interleaved(
    codecs: dict[str, tuple[SchemaCodec[Any] | RegistryCodec[Any], list[Any]]], repeats: int
) -> dict[str, tuple[float, float]]:
    """Best-of-``repeats`` microseconds per record; the codecs take turns in every round so
    a noisy neighbour on the machine slows them alike."""
    best: dict[str, list[float]] = {k: [float("inf"), float("inf")] for k in codecs}
    for _ in range(repeats):
        for label, (codec, values) in codecs.items():
            enc, dec = _timings(codec, values)
            n = len(values)
            best[label][0] = min(best[label][0], enc / n * 1e6)
            best[label][1] = min(best[label][1], dec / n * 1e6)
    return {k: (v[0], v[1]) for k, v in best.items()}


def _confluent(values: list[dict[str, Any]], repeats: int) -> tuple[float, float] | None:
    try:
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry._sync.mock_schema_registry_client import (
            MockSchemaRegistryClient,
        )
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext
    except ImportError as exc:
        print(f"confluent-kafka schema-registry serdes unavailable ({exc}); skipping")
        return None
    client = MockSchemaRegistryClient({"url": "mock://bench"})
    client.register_schema("bench-value", Schema(VALUE_SCHEMA, "AVRO"))
    serializer = AvroSerializer(client, VALUE_SCHEMA, conf={"auto.register.schemas": True})
    deserializer = AvroDeserializer(client, VALUE_SCHEMA)
    ctx = SerializationContext("bench", MessageField.VALUE)
    encoded = [serializer(v, ctx) for v in values]

    def enc() -> None:
        for v in values:
            serializer(v, ctx)

    def dec() -> None:
        for data in encoded:
            deserializer(data, ctx)

    n = len(values)
    return _best(enc, repeats) / n * 1e6, _best(dec, repeats) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of microseconds per record and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args(argv)

    objects = [_stock(i) for i in range(args.records)]
    dicts = [o.to_avro() for o in objects]
    registry = _in_process_registry()

    plain_dict = AvroCodec[Any](VALUE_SCHEMA)
    framed_dict = RegistryCodec(plain_dict, client=registry, subject="bench-value")
    framed_generated = RegistryCodec(VALUE_CODEC, client=registry, subject="bench-value")

    async def prepare() -> None:
        await framed_dict.prepare()
        await framed_generated.prepare()

    asyncio.run(prepare())

    rows = _measure_interleaved(
        {
            "runtime AvroCodec, plain (dicts)": (plain_dict, dicts),
            "runtime AvroCodec + framing": (framed_dict, dicts),
            "generated codec, plain (objects)": (VALUE_CODEC, objects),
            "generated codec + framing": (framed_generated, objects),
        },
        args.repeats,
    )
    theirs = _confluent(dicts, args.repeats)
    if theirs is not None:
        rows["confluent-kafka AvroSerializer (mock registry)"] = theirs

    print(f"records: {args.records}, best of {args.repeats} runs, microseconds per record")
    print(f"{'path':48} {'encode':>9} {'decode':>9}")
    for label, (enc, dec) in rows.items():
        print(f"{label:48} {enc:9.2f} {dec:9.2f}")

    def ratio(a: str, b: str) -> str:
        ea, da = rows[a]
        eb, db = rows[b]
        return f"encode {ea / eb:5.2f}x  decode {da / db:5.2f}x"

    print()
    print("framing overhead (framed / plain; target < 1.10):")
    print(
        "  runtime AvroCodec:",
        ratio("runtime AvroCodec + framing", "runtime AvroCodec, plain (dicts)"),
    )
    print(
        "  generated codec:  ",
        ratio("generated codec + framing", "generated codec, plain (objects)"),
    )
    if theirs is not None:
        confluent = "confluent-kafka AvroSerializer (mock registry)"
        print("vs confluent-kafka (ours / theirs; < 1 is faster):")
        print("  runtime AvroCodec + framing:", ratio("runtime AvroCodec + framing", confluent))
        print("  generated codec + framing:  ", ratio("generated codec + framing", confluent))
    overheads = [
        rows[f"{kind} + framing"][i] / rows[plain][i] - 1
        for kind, plain in (
            ("runtime AvroCodec", "runtime AvroCodec, plain (dicts)"),
            ("generated codec", "generated codec, plain (objects)"),
        )
        for i in (0, 1)
    ]
    print(
        f"framing overhead: median {statistics.median(overheads):+.1%}, max {max(overheads):+.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
