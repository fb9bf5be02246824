"""Per-record encode/decode of a realistic 20-field record, generated code vs peers, in one run.

Compares, on the same record: fastavro schemaless_writer/reader on ready dicts (the floor),
the generated codec on typed objects (its compiled fast path, when mypyc and a C compiler
are available, and its pure-Python path), avroc (per-schema generated Python, dicts),
cerializer (per-schema Cython, dicts), dataclasses-avroschema, and confluent-kafka's
AvroSerializer/AvroDeserializer (in-process mock registry). Then schema resolution: data
written with an older schema, decoded into the generated type.

The machine is shared and noisy: every round measures every implementation once, in a
rotating order, and each ratio is the median over rounds of (implementation / fastavro in
the same round). Run: .venv/bin/python benchmarks/bench_avro_codec.py [rounds]
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import timeit
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.compiler import compile_folder  # noqa: E402
from generator.writer import write  # noqa: E402

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Shipment",
    "namespace": "bench",
    "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "customer", "type": "string"},
        {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ship_date", "type": {"type": "int", "logicalType": "date"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        },
        {"name": "weight", "type": "double"},
        {"name": "pieces", "type": "int"},
        {"name": "express", "type": "boolean"},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "SENT", "DONE"]},
        },
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "carrier", "type": "string"},
        {"name": "tracking", "type": "string"},
        {
            "name": "origin",
            "type": {
                "type": "record",
                "name": "Place",
                "fields": [
                    {"name": "city", "type": "string"},
                    {"name": "country", "type": "string"},
                    {"name": "lat", "type": "double"},
                    {"name": "lon", "type": "double"},
                ],
            },
        },
        {"name": "destination", "type": "Place"},
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}],
                },
            },
        },
        {"name": "attempts", "type": "int"},
        {"name": "priority", "type": "long"},
        {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "insured", "type": "boolean"},
        {"name": "reference", "type": "string"},
    ],
}
NOW = dt.datetime(2026, 11, 26, 12, 0, 0, 123000, tzinfo=dt.UTC)

# Targets of issue 12, as ratios to fastavro on ready dicts (lower is faster).
FAST_TARGET = {"encode": 0.5, "decode": 0.75}
PURE_TARGET = {"encode": 0.9, "decode": 0.9}
RESOLUTION_TARGET = 1.5  # resolving decode / same-schema decode


def ready_dict() -> dict[str, Any]:
    place = {"city": "Amsterdam", "country": "NL", "lat": 52.37, "lon": 4.89}
    return {
        "id": uuid.UUID(int=7),
        "customer": "ACME",
        "created_at": NOW,
        "ship_date": NOW.date(),
        "amount": decimal.Decimal("1234.50"),
        "weight": 12.5,
        "pieces": 3,
        "express": True,
        "status": "SENT",
        "note": None,
        "carrier": "DHL",
        "tracking": "JD0146",
        "origin": place,
        "destination": dict(place, city="Berlin", country="DE"),
        "items": [{"sku": f"SKU-{i}", "qty": i} for i in range(3)],
        "attempts": 1,
        "priority": 5,
        "updated_at": NOW,
        "insured": False,
        "reference": "REF-1",
    }


def writer_schema() -> dict[str, Any]:
    """An older version of SCHEMA: without ``reference`` (the reader's default is missing,
    so it gets one here), with a field the reader dropped, and ``pieces`` still an int
    that the reader reads as long."""
    old = json.loads(json.dumps(SCHEMA))
    old["fields"] = [f for f in old["fields"] if f["name"] != "note"]
    old["fields"].insert(3, {"name": "legacy_code", "type": "string"})
    return old


Timed = Callable[[], object]


class Table:
    """Paired, interleaved rounds: each round times every entry once."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.entries: list[tuple[str, str, Timed]] = []  # (name, op, fn)

    def add(self, name: str, op: str, fn: Timed) -> None:
        self.entries.append((name, op, fn))

    def run(self, rounds: int) -> dict[tuple[str, str], list[float]]:
        times: dict[tuple[str, str], list[float]] = {(n, o): [] for n, o, _ in self.entries}
        for r in range(rounds):
            k = r % len(self.entries)
            for name, op, fn in self.entries[k:] + self.entries[:k]:
                per = min(timeit.repeat(fn, number=self.number, repeat=3)) / self.number * 1e6
                times[(name, op)].append(per)
        return times


def _ratio(times: dict[tuple[str, str], list[float]], name: str, op: str, base: str) -> list[float]:
    return [a / b for a, b in zip(times[(name, op)], times[(base, op)], strict=True)]


def _fmt(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def build_package(tmp: Path) -> tuple[Any, Any, str]:
    """Generate the bench package; compile its codec when mypyc and a compiler work.

    Returns (pure codec module, native codec module or None, why not)."""
    (tmp / "schemas").mkdir()
    (tmp / "schemas" / "shipment.avsc").write_text(json.dumps(SCHEMA))
    (tmp / "schemas" / "t.topic.yaml").write_text(
        "topics:\n  shipments:\n    value: bench.Shipment\n"
    )
    write(tmp / "benchgen", compile_folder(tmp / "schemas"), clean=False)
    sys.path.insert(0, str(tmp))
    why = ""
    try:
        from generator.avro.native import NativeBuildError, build

        try:
            build(tmp / "benchgen")
        except NativeBuildError as exc:
            why = str(exc).splitlines()[0]
    except ImportError as exc:
        why = str(exc)
    # The pure-Python module, and the compiled one side by side in the same process.
    os.environ["GEN_TOPICS_AVRO_NATIVE"] = "0"
    pure = importlib.import_module("benchgen._avro_codec")
    del os.environ["GEN_TOPICS_AVRO_NATIVE"]
    native = None
    if not why:
        native = importlib.import_module("benchgen._avro_codec_native")
    return pure, native, why


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    tmp = Path(tempfile.mkdtemp())
    try:
        pure, native, why = build_package(tmp)
        support = importlib.import_module("benchgen._avro_support")
        shipments = importlib.import_module("benchgen.shipments")
        shipment_cls = importlib.import_module("benchgen.avro.bench").Shipment

        parsed = fastavro.parse_schema(SCHEMA)
        datum = ready_dict()
        value = shipment_cls.from_avro(datum)

        def fa_encode() -> bytes:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, datum)
            return buf.getvalue()

        data = fa_encode()

        def fa_decode() -> Any:
            return fastavro.schemaless_reader(io.BytesIO(data), parsed, None)

        def codec(module: Any) -> Any:
            return support.AvroTypeCodec(
                shipments.VALUE_SCHEMA,
                fingerprint=0,
                to_avro=shipment_cls.to_avro,
                from_avro=shipment_cls.from_avro,
                encoder=module.encode_bench_Shipment,
                decoder=module.decode_bench_Shipment,
                classes=module.CLASSES,
                readers=module.READERS,
                resolvers=module.RESOLVERS,
                name="bench",
            )

        paths = [("gen-topics pure Python", codec(pure))]
        if native is not None:
            paths.insert(0, ("gen-topics compiled (mypyc)", codec(native)))
        for name, c in paths:
            assert c.encode(value) == data, name
            assert c.decode(data) == value, name

        table = Table(number=2000)
        table.add("fastavro, ready dicts (floor)", "encode", fa_encode)
        table.add("fastavro, ready dicts (floor)", "decode", fa_decode)
        for name, c in paths:
            table.add(name, "encode", lambda c=c: c.encode(value))
            table.add(name, "decode", lambda c=c: c.decode(data))
        peers(table, datum, data, shipment_cls)

        # Schema resolution: data from an older writer schema.
        old = writer_schema()
        old_text = json.dumps(old)
        old_datum = {k: v for k, v in datum.items() if k != "note"} | {"legacy_code": "X1"}
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, fastavro.parse_schema(old), old_datum)
        old_data = buf.getvalue()
        resolution = Table(number=2000)
        for name, c in paths:
            resolved = c.decode_with_writer_schema(old_data, old_text)
            assert resolved.note is None and resolved.reference == value.reference, name
            resolution.add(name, "same schema", lambda c=c: c.decode(data))
            resolution.add(
                name, "resolved", lambda c=c: c.decode_with_writer_schema(old_data, old_text)
            )
        old_parsed = fastavro.parse_schema(old)
        resolution.add(
            "fastavro",
            "resolved",
            lambda: fastavro.schemaless_reader(io.BytesIO(old_data), old_parsed, parsed),
        )
        resolution.add("fastavro", "same schema", fa_decode)

        if why:
            print(f"compiled fast path unavailable: {why}")
        print(f"{rounds} paired rounds; ratio = median (min-max) of x / fastavro in the same round")
        times = table.run(rounds)
        report(table, times)
        print()
        print("schema resolution (writer: an older schema) vs same-schema decode, per path")
        rtimes = resolution.run(rounds)
        for name in dict.fromkeys(n for n, _, _ in resolution.entries):
            ratios = _ratio_ops(rtimes, name)
            med = statistics.median(rtimes[(name, "resolved")])
            verdict = ""
            if name.startswith("gen-topics"):
                ok = statistics.median(ratios) <= RESOLUTION_TARGET
                verdict = f"  target <= {RESOLUTION_TARGET}: {'met' if ok else 'MISSED'}"
            print(f"  {name:<34} {med:7.2f} µs  resolved/same {_fmt(ratios)}{verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _ratio_ops(times: dict[tuple[str, str], list[float]], name: str) -> list[float]:
    return [
        a / b for a, b in zip(times[(name, "resolved")], times[(name, "same schema")], strict=True)
    ]


def report(table: Table, times: dict[tuple[str, str], list[float]]) -> None:
    base = table.entries[0][0]
    names = list(dict.fromkeys(n for n, _, _ in table.entries))
    print(f"{'implementation':<44}{'encode µs':>10}{'x floor':>18}{'decode µs':>11}{'x floor':>18}")
    for name in names:
        cells = []
        for op in ("encode", "decode"):
            if (name, op) not in times:
                cells.append(f"{'-':>10}{'-':>18}")
                continue
            med = statistics.median(times[(name, op)])
            cells.append(f"{med:>10.2f}{_fmt(_ratio(times, name, op, base)):>18}")
        print(f"{name:<44}{cells[0]}{cells[1]}")
    print()
    for name in names:
        if not name.startswith("gen-topics"):
            continue
        targets = FAST_TARGET if "compiled" in name else PURE_TARGET
        for op in ("encode", "decode"):
            ratio = statistics.median(_ratio(times, name, op, base))
            verdict = "met" if ratio <= targets[op] else "MISSED"
            print(f"{name} {op}: {ratio:.2f}x fastavro (target <= {targets[op]}: {verdict})")
            for peer in ("cerializer", "avroc"):
                key = next((n for n in names if n.startswith(peer)), None)
                if key is None or (key, op) not in times:
                    continue
                vs = statistics.median(_ratio(times, name, op, key))
                print(f"    vs {key}: {vs:.2f}x ({'faster' if vs < 1 else 'slower'})")


def peers(table: Table, datum: dict[str, Any], data: bytes, shipment_cls: Any) -> None:
    """Add each peer that installs here; a peer failing must not hide the others."""
    try:
        import avroc

        encoder = avroc.compile_encoder(SCHEMA)
        decoder = avroc.compile_decoder(SCHEMA)
        assert encoder(datum) == data
        table.add("avroc (generated Python), dicts", "encode", lambda: encoder(datum))
        table.add("avroc (generated Python), dicts", "decode", lambda: decoder(io.BytesIO(data)))
    except Exception as exc:
        print(f"avroc skipped: {type(exc).__name__}: {exc}")
    try:
        from cerializer.cerializer_handler import Cerializer
        from cerializer.schema_handler import CerializerSchemata

        cer = Cerializer(CerializerSchemata([("bench.Shipment", SCHEMA)]), "bench", "Shipment")
        assert cer.serialize(datum) == data
        table.add("cerializer (Cython), dicts", "encode", lambda: cer.serialize(datum))
        table.add("cerializer (Cython), dicts", "decode", lambda: cer.deserialize(data))
    except Exception as exc:
        print(f"cerializer skipped: {type(exc).__name__}: {exc}")
    try:
        # dataclasses-avroschema's own model, generated from the same schema by its generator.
        from dataclasses_avroschema import ModelGenerator

        source = ModelGenerator().render(schema=SCHEMA, model_type="dataclass")
        folder = Path(tempfile.mkdtemp())
        (folder / "dca_bench_model.py").write_text(source)
        sys.path.insert(0, str(folder))
        import dca_bench_model  # type: ignore[import-not-found]

        model_cls = dca_bench_model.Shipment
        instance = model_cls.parse_obj(datum)
        blob = instance.serialize()
        table.add("dataclasses-avroschema", "encode", instance.serialize)
        table.add("dataclasses-avroschema", "decode", lambda: model_cls.deserialize(blob))
    except Exception as exc:
        print(f"dataclasses-avroschema skipped: {type(exc).__name__}: {exc}")
    try:
        from confluent_kafka.schema_registry._sync.mock_schema_registry_client import (
            MockSchemaRegistryClient,
        )
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        client = MockSchemaRegistryClient({"url": "mock://bench"})
        text = json.dumps(SCHEMA)
        ser = AvroSerializer(client, text, to_dict=lambda obj, ctx: obj.to_avro())
        de = AvroDeserializer(client, text, from_dict=lambda d, ctx: shipment_cls.from_avro(d))
        ctx = SerializationContext("shipments", MessageField.VALUE)
        obj = shipment_cls.from_avro(datum)
        framed = ser(obj, ctx)
        assert framed is not None and framed[5:] == data
        name = "confluent-kafka Avro(De)Serializer (mock)"
        table.add(name, "encode", lambda: ser(obj, ctx))
        table.add(name, "decode", lambda: de(framed, ctx))
    except Exception as exc:
        print(f"confluent-kafka skipped: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
