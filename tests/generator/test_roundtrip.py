"""Round trips through the generated code and fastavro, both ways, for every type in schemas/.

For each topic key/value and each generated record type: data drawn in fastavro's form is
written by fastavro with the ORIGINAL schema, decoded by the generated code, re-encoded by
the generated code to the same bytes, and read back by fastavro to the same data.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from generator.compiler import build_model
from tests.generator.roundtrip import check_round_trip, record_codecs

ROOT = Path(__file__).resolve().parents[2]
MODEL = build_model(ROOT / "schemas")


def _topic_codecs() -> list[tuple[str, Any, str]]:
    out = []
    for topic in MODEL.topics:
        module = importlib.import_module(f"generated.{topic.module}")
        for side in ("KEY", "VALUE"):
            codec = getattr(module, f"{side}_CODEC")
            if getattr(codec, "schema_type", None) == "AVRO":
                out.append((f"{topic.descriptor.topic}-{side.lower()}", codec, codec.schema_text))
    return out


CASES = _topic_codecs() + record_codecs(MODEL, "generated")


def test_every_record_and_avro_topic_is_covered() -> None:
    records = [n for n, t in MODEL.registry.types.items() if t.kind == "record"]
    assert len(CASES) >= len(records) + len(MODEL.topics)


@pytest.mark.parametrize(("name", "codec", "text"), CASES, ids=[c[0] for c in CASES])
def test_round_trip_with_fastavro(name: str, codec: Any, text: str) -> None:
    check_round_trip(codec, text)
