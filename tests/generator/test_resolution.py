"""Schema resolution into generated classes agrees with fastavro's, for every record type of
schemas/ and of the golden features, under common schema changes.

Each change turns the reader's schema into an older or newer writer schema: fields
reordered, writer-only fields (skipped), reader fields with defaults missing from the writer,
numbers and strings promoted, and enum symbols the reader lacks. Data drawn for the writer
schema is written by fastavro, then read by the generated codec and by fastavro
(``schemaless_reader(writer, reader)`` + ``from_avro``): the same object, or an error from
both. A reader field the writer lacks gets the generated class's default.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from gen_topics.errors import DecodeError
from generator.compiler import build_model, compile_folder
from generator.writer import write
from tests.generator.avro_strategies import datum_strategy
from tests.generator.roundtrip import record_codecs

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INPUTS = Path(__file__).resolve().parent / "golden_inputs"

_EXTRA_FIELDS = [
    {"name": "zz_union", "type": ["null", "string", {"type": "array", "items": "long"}]},
    {"name": "zz_map", "type": {"type": "map", "values": ["null", "double"]}},
    {
        "name": "zz_record",
        "type": {
            "type": "record",
            "name": "ZzExtra",
            "fields": [
                {"name": "a", "type": "string"},
                {"name": "b", "type": {"type": "fixed", "name": "ZzFixed", "size": 3}},
                {"name": "c", "type": {"type": "enum", "name": "ZzEnum", "symbols": ["X", "Y"]}},
                {"name": "d", "type": {"type": "array", "items": "ZzExtra"}},
            ],
        },
    },
]
# reader base type -> a writer type that promotes to it
_DEMOTE = {"long": "int", "float": "int", "double": "float", "bytes": "string"}


def _plain(schema: Any) -> Any:
    """fastavro's parsed form (full names everywhere) without its private keys."""
    if isinstance(schema, list):
        return [_plain(s) for s in schema]
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if not k.startswith("__")}
    return schema


def _relocated(schema: Any) -> Any:
    """``schema`` with each named type defined at its first use again (after fields moved
    or were removed)."""
    definitions: dict[str, Any] = {}

    def collect(s: Any) -> None:
        if isinstance(s, list):
            for b in s:
                collect(b)
        elif isinstance(s, dict):
            if s.get("type") in ("record", "error", "enum", "fixed"):
                definitions.setdefault(s["name"], s)
                for f in s.get("fields", []):
                    collect(f["type"])
            for key in ("items", "values"):
                if key in s:
                    collect(s[key])

    collect(schema)
    seen: set[str] = set()

    def walk(s: Any) -> Any:
        if isinstance(s, list):
            return [walk(b) for b in s]
        if isinstance(s, str) and s in definitions:
            s = definitions[s]
        if not isinstance(s, dict):
            return s
        if s.get("type") in ("record", "error", "enum", "fixed"):
            if s["name"] in seen:
                return s["name"]
            seen.add(s["name"])
            out = dict(s)
            if "fields" in s:
                out["fields"] = [dict(f, type=walk(f["type"])) for f in s["fields"]]
            return out
        out = dict(s)
        for key in ("items", "values"):
            if key in s:
                out[key] = walk(s[key])
        return out

    return walk(schema)


def _top_level(schema: dict[str, Any], change: Callable[[list[Any]], list[Any]]) -> Any:
    out = _plain(fastavro.parse_schema(copy.deepcopy(schema)))
    out["fields"] = change(out["fields"])
    return _relocated(out)


def _demoted(fields: list[Any]) -> list[Any]:
    out = []
    for f in fields:
        t = f["type"]
        if isinstance(t, str) and t in _DEMOTE:
            f = dict(f, type=_DEMOTE[t])
        elif (
            isinstance(t, list)
            and len(t) == 2
            and t[0] == "null"
            and isinstance(t[1], str)
            and t[1] in _DEMOTE
        ):
            # writer: a plain value, reader: a nullable union
            f = {k: v for k, v in f.items() if k != "default"} | {"type": _DEMOTE[t[1]]}
        out.append(f)
    return out


def _new_symbols(fields: list[Any]) -> list[Any]:
    out = []
    for f in fields:
        t = f["type"]
        if isinstance(t, dict) and t.get("type") == "enum" and "default" in t:
            f = dict(f, type=dict(t, symbols=[*t["symbols"], "ZZ_NEWER"]))
        out.append(f)
    return out


def _expected(datum: dict[str, Any], reader: Any, writer: Any) -> dict[str, Any]:
    """The reader's view of a top-level writer datum, for the changes above."""
    out: dict[str, Any] = {}
    written = {f["name"]: f["type"] for f in _plain(fastavro.parse_schema(writer))["fields"]}
    for f in _plain(fastavro.parse_schema(copy.deepcopy(reader)))["fields"]:
        if f["name"] not in datum:
            continue
        value, rtype, wtype = datum[f["name"]], f["type"], written[f["name"]]
        base = rtype[1] if isinstance(rtype, list) and len(rtype) == 2 else rtype
        if wtype != rtype and base in ("float", "double") and value is not None:
            value = float(value)
        elif wtype != rtype and base == "bytes" and isinstance(value, str):
            value = value.encode()
        elif isinstance(base, dict) and base.get("type") == "enum" and value not in base["symbols"]:
            value = base["default"]
        out[f["name"]] = value
    return out


CHANGES: dict[str, Callable[[list[Any]], list[Any]]] = {
    "reordered": lambda fields: fields[::-1],
    "writer-only fields": lambda fields: fields[:1] + _EXTRA_FIELDS + fields[1:],
    "defaulted fields missing": lambda fields: [f for f in fields if "default" not in f],
    "promoted": _demoted,
    "enum symbols the reader lacks": _new_symbols,
}


def _outcome(fn: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, fn()
    except Exception as exc:
        return False, exc


def check_resolution(codec: Any, reader_text: str, change: str, examples: int = 20) -> None:
    reader = json.loads(reader_text)
    writer = _top_level(reader, CHANGES[change])
    if writer == _top_level(reader, lambda fields: fields):
        return
    writer_text = json.dumps(writer)
    writer_parsed = fastavro.parse_schema(copy.deepcopy(writer))
    reader_parsed = fastavro.parse_schema(copy.deepcopy(reader))
    reader_only = {f["name"] for f in reader["fields"]} - {f["name"] for f in writer["fields"]}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(datum_strategy(writer))
    def check(datum: Any) -> None:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer_parsed, datum)
        data = buf.getvalue()

        def reference() -> Any:
            return fastavro.schemaless_reader(
                io.BytesIO(data), writer_parsed, reader_parsed, return_named_type=True
            )

        ok, ours = _outcome(lambda: codec.decode_with_writer_schema(data, writer_text))
        ref_ok, raw = _outcome(reference)
        if not ref_ok and not ok:
            assert isinstance(ours, DecodeError), ours
            return
        assert ok, (ours, raw)
        fields = {f.name: f for f in dataclasses.fields(ours)}
        names = dict(zip([f["name"] for f in reader["fields"]], fields, strict=True))
        defaults: dict[str, Any] = {}
        for avro_name in reader_only:
            spec = fields[names[avro_name]]
            default = (
                spec.default_factory() if spec.default is dataclasses.MISSING else spec.default  # type: ignore[misc]
            )
            assert getattr(ours, spec.name) == default
            # fastavro leaves defaults in their JSON form; compare the rest with it.
            defaults[avro_name] = ours.to_avro()[avro_name]
        # What the change means, from what the writer wrote (fastavro, no resolution).
        written = fastavro.schemaless_reader(
            io.BytesIO(data), writer_parsed, None, return_named_type=True
        )
        meant = codec._from_avro(_expected(written, reader, writer) | defaults)
        if ref_ok:
            expected = codec._from_avro(raw | defaults)
            if ours != expected or repr(ours) != repr(expected):
                # fastavro reads a writer union branch as the first reader branch it can
                # be promoted to (a string as bytes, before the string branch); gen-topics
                # takes the branch of the same type first, as Avro's Java reader does.
                expected = meant
        else:
            # fastavro fails on this schema pair: it mishandles some named references, or
            # its branch choice above makes bytes a string that is not UTF-8.
            assert not isinstance(raw, EOFError), raw
            expected = meant
        assert ours == expected
        assert repr(ours) == repr(expected)

    try:
        check()
    except Unsatisfiable:
        return


CASES = record_codecs(build_model(ROOT / "schemas"), "generated")


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize(("name", "codec", "text"), CASES, ids=[c[0] for c in CASES])
def test_resolution_matches_fastavro(name: str, codec: Any, text: str, change: str) -> None:
    check_resolution(codec, text, change)


def test_resolution_in_golden_features(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        for feature in sorted(p.name for p in GOLDEN_INPUTS.iterdir() if p.is_dir()):
            package = f"golden_resolve_{feature}"
            write(tmp_path / package, compile_folder(GOLDEN_INPUTS / feature), clean=False)
            model = build_model(GOLDEN_INPUTS / feature)
            for _name, codec, text in record_codecs(model, package):
                for change in CHANGES:
                    check_resolution(codec, text, change, examples=8)
    finally:
        sys.path.remove(str(tmp_path))


def _payment() -> Any:
    import datetime as dt
    import decimal
    import uuid

    from generated.avro.com.acme.common import Money
    from generated.avro.com.acme.payments import MD5, Payment, Wallet

    return Payment(
        payment_id=uuid.UUID(int=1),
        order_id=uuid.UUID(int=2),
        amount=Money(amount=decimal.Decimal("19.99")),
        method=Wallet(provider="paypal", account="a@b.c"),
        fingerprint=MD5(b"0123456789abcdef"),
        processing_time=dt.time(12, 30),
        fee=decimal.Decimal("0.2500"),
    )


def test_a_reader_field_without_default_that_the_writer_lacks_is_an_error() -> None:
    from generated import payments

    reader = json.loads(payments.VALUE_SCHEMA)
    writer = _top_level(reader, lambda fields: [f for f in fields if f["name"] != "order_id"])
    schema = fastavro.parse_schema(copy.deepcopy(writer))
    payment = payments.VALUE_CODEC.decode(payments.VALUE_CODEC.encode(_payment()))
    datum = {k: v for k, v in payment.to_avro().items() if k != "order_id"}
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, datum)
    with pytest.raises(DecodeError, match="No default value for field order_id"):
        payments.VALUE_CODEC.decode_with_writer_schema(buf.getvalue(), json.dumps(writer))


def test_writer_schemas_that_cannot_resolve_are_decode_errors() -> None:
    from generated import payments

    with pytest.raises(DecodeError, match="cannot be read as"):
        payments.VALUE_CODEC.decode_with_writer_schema(b"\x02a", '"string"')
