"""Per-record encode/decode of a realistic 20-field record, generated code vs peers, in one run.

Compares: fastavro schemaless_writer/reader on ready dicts (the floor), the generated
types+codec, dataclasses-avroschema, and confluent-kafka's AvroSerializer/AvroDeserializer
with to_dict/from_dict (in-process mock registry). Prints microseconds and ratios.
Run: .venv/bin/python benchmarks/bench_avro_codec.py
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import shutil
import sys
import tempfile
import timeit
import uuid
from pathlib import Path
from typing import Any

import fastavro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.compiler import compile_folder  # noqa: E402
from generator.writer import write  # noqa: E402

SCHEMA = {
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


def bench(fn: Any, number: int = 20000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        (tmp / "schemas").mkdir()
        (tmp / "schemas" / "shipment.avsc").write_text(json.dumps(SCHEMA))
        (tmp / "schemas" / "t.topic.yaml").write_text(
            "topics:\n  shipments:\n    value: bench.Shipment\n"
        )
        write(tmp / "benchgen", compile_folder(tmp / "schemas"), clean=False)
        sys.path.insert(0, str(tmp))
        from benchgen.avro.bench import Shipment  # type: ignore[import-not-found]
        from benchgen.shipments import VALUE_CODEC  # type: ignore[import-not-found]

        parsed = fastavro.parse_schema(SCHEMA)
        datum = ready_dict()
        value = Shipment.from_avro(datum)

        def fa_encode() -> bytes:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, datum)
            return buf.getvalue()

        data = fa_encode()
        assert VALUE_CODEC.encode(value) == data

        def fa_decode() -> Any:
            return fastavro.schemaless_reader(io.BytesIO(data), parsed, None)

        rows: list[tuple[str, float, float]] = [
            ("fastavro on ready dicts (floor)", bench(fa_encode), bench(fa_decode)),
            (
                "gen-topics generated",
                bench(lambda: VALUE_CODEC.encode(value)),
                bench(lambda: VALUE_CODEC.decode(data)),
            ),
        ]
        rows += peers(datum, data)
        floor_e, floor_d = rows[0][1], rows[0][2]
        print(
            f"{'implementation':<44}{'encode µs':>10}{'x floor':>9}{'decode µs':>11}{'x floor':>9}"
        )
        for name, e, d in rows:
            print(f"{name:<44}{e:>10.2f}{e / floor_e:>9.2f}{d:>11.2f}{d / floor_d:>9.2f}")
        gen_e, gen_d = rows[1][1], rows[1][2]
        for name, e, d in rows[2:]:
            print(
                f"gen-topics vs {name}: encode {e / gen_e:.2f}x faster, "
                f"decode {d / gen_d:.2f}x faster"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def peers(datum: dict[str, Any], data: bytes) -> list[tuple[str, float, float]]:
    rows = []
    try:
        dca_schema = json.dumps(SCHEMA)

        # dataclasses-avroschema's own model, generated from the same schema by its generator.
        from dataclasses_avroschema import ModelGenerator

        source = ModelGenerator().render(schema=json.loads(dca_schema), model_type="dataclass")
        folder = Path(tempfile.mkdtemp())
        (folder / "dca_bench_model.py").write_text(source)
        sys.path.insert(0, str(folder))
        import dca_bench_model  # type: ignore[import-not-found]

        model_cls = dca_bench_model.Shipment
        instance = model_cls.parse_obj(datum)
        blob = instance.serialize()
        rows.append(
            (
                "dataclasses-avroschema",
                bench(instance.serialize, 5000),
                bench(lambda: model_cls.deserialize(blob), 5000),
            )
        )
    except Exception as exc:  # a peer failing must not hide the others
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
        from benchgen.avro.bench import Shipment  # type: ignore[import-not-found]

        de = AvroDeserializer(client, text, from_dict=lambda d, ctx: Shipment.from_avro(d))
        ctx = SerializationContext("shipments", MessageField.VALUE)
        obj = Shipment.from_avro(datum)
        framed = ser(obj, ctx)
        assert framed is not None and framed[5:] == data
        rows.append(
            (
                "confluent-kafka AvroSerializer (mock registry)",
                bench(lambda: ser(obj, ctx), 5000),
                bench(lambda: de(framed, ctx), 5000),
            )
        )
    except Exception as exc:
        print(f"confluent-kafka skipped: {type(exc).__name__}: {exc}")
    return rows


if __name__ == "__main__":
    main()
