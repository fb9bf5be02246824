"""JSON Schema codec: per-record encode/decode cost against its peers, in one run.

Compares, on a realistic ShipmentEvent (cross-file address and contact, three parcels,
a discriminated union):
  * gen-topics JsonModelCodec (validates on encode by default; also without),
  * plain pydantic: model_dump_json / model_validate_json,
  * stdlib json.dumps / json.loads + jsonschema validation (what a dict-based client does).

Run: .venv/bin/python benchmarks/bench_json_codec.py [--records N]
Prints microseconds per record and ratios; lower is faster.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gen_topics.json_codec import JsonModelCodec  # noqa: E402
from generated.jsonmodels.shipments.shipment_event import ShipmentEvent  # noqa: E402

SCHEMAS = ROOT / "schemas" / "json"
RECORD: dict[str, Any] = {
    "event_id": "5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e001",
    "shipment_id": "5b1a3c62-8d0e-4c36-9c4e-0a4c1fb0e002",
    "occurred_at": "2026-11-26T20:00:00.123456Z",
    "source": "warehouse",
    "attempt": 1,
    "note": "leave with neighbour if absent",
    "tags": ["fragile", "priority", "gift"],
    "detail": {
        "kind": "created",
        "order_id": "ord-2026-000123",
        "ship_to": {
            "name": "Ada Lovelace",
            "street": "12 Analytical Engine Way",
            "city": "London",
            "postal_code": "N1 9GU",
            "country": "GB",
            "phone": "+44 20 7946 0000",
        },
        "contact": {
            "email": "ada@example.org",
            "website": "https://example.org/ada",
            "locale": "en-GB",
        },
        "parcels": [
            {"sku": "SKU-0001", "quantity": 2, "weight_kg": 1.5},
            {"sku": "SKU-0002", "quantity": 1, "weight_kg": 12.25},
            {"sku": "SKU-0003", "quantity": 4, "weight_kg": 0.3},
        ],
    },
}


def _validator() -> jsonschema.protocols.Validator:
    registry: Registry[Any] = Registry()
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    root = json.loads((SCHEMAS / "shipments/shipment_event.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(root)
    return cls(root, registry=registry)


def _per_record_us(fn: Callable[[], object], records: int) -> float:
    timer = timeit.Timer(fn)
    best = min(timer.repeat(repeat=5, number=records))
    return best / records * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args(argv)
    n: int = args.records

    text = (SCHEMAS / "shipments/shipment_event.json").read_text(encoding="utf-8")
    codec = JsonModelCodec(ShipmentEvent, text)
    fast = JsonModelCodec(ShipmentEvent, text, validate_on_encode=False)
    validator = _validator()
    data = json.dumps(RECORD, separators=(",", ":")).encode()
    model = codec.decode(data)
    as_dict = json.loads(data)
    validator.validate(as_dict)
    assert json.loads(codec.encode(model)) == json.loads(model.model_dump_json(by_alias=True))

    def json_encode() -> bytes:
        validator.validate(as_dict)
        return json.dumps(as_dict, separators=(",", ":")).encode()

    def json_decode() -> object:
        value = json.loads(data)
        validator.validate(value)
        return value

    results = {
        "encode": {
            "JsonModelCodec (validate_on_encode)": _per_record_us(lambda: codec.encode(model), n),
            "JsonModelCodec (no re-validation)": _per_record_us(lambda: fast.encode(model), n),
            "pydantic model_dump_json": _per_record_us(
                lambda: model.model_dump_json(by_alias=True).encode(), n
            ),
            "json.dumps + jsonschema": _per_record_us(json_encode, max(n // 10, 100)),
        },
        "decode": {
            "JsonModelCodec": _per_record_us(lambda: codec.decode(data), n),
            "pydantic model_validate_json": _per_record_us(
                lambda: ShipmentEvent.model_validate_json(data), n
            ),
            "json.loads + jsonschema": _per_record_us(json_decode, max(n // 10, 100)),
        },
    }
    print(f"ShipmentEvent record: {len(data)} bytes; best of 5 x {n} records")
    for operation, timings in results.items():
        ours = next(iter(timings.values()))
        pydantic_us = next(v for k, v in timings.items() if k.startswith("pydantic"))
        dict_us = next(v for k, v in timings.items() if k.startswith("json."))
        print(f"\n{operation}:")
        for label, us in timings.items():
            print(f"  {label:38s} {us:8.2f} us/record")
        print(f"  ratio JsonModelCodec / pydantic:        {ours / pydantic_us:6.2f}x")
        print(f"  ratio json+jsonschema / JsonModelCodec: {dict_us / ours:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
