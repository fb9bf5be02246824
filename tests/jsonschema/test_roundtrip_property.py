"""Property: any record valid under the schema decodes, re-encodes valid, and keeps its data.

Records come from the schema itself (hypothesis-jsonschema), are checked with the
``jsonschema`` package (formats asserted) against the original schema, then go through
``JsonModelCodec`` with the generated models.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from gen_topics.json_codec import JsonModelCodec
from generator.jsonschema import JsonSchemaCompiler
from generator.jsonschema.index import SchemaIndex, split_ref
from tests.jsonschema.conftest import SCHEMAS, write_package
from tests.jsonschema.hypothesis_compat import install

install()

# hypothesis-jsonschema has no strategy for the uuid format.
FORMATS = {"uuid": st.uuids().map(str)}
CASES = [
    ("json/common/address.json", ("common", "address"), "Address", True),
    ("json/common/contact.json", ("common", "contact"), "Contact", False),
    ("json/shipments/shipment_key.json", ("shipments", "shipment_key"), "ShipmentKey", True),
    ("json/shipments/shipment_event.json", ("shipments", "shipment_event"), "ShipmentEvent", False),
]


def bundle(relative: str) -> dict[str, Any]:
    """The schema with every cross-file ``$ref`` inlined under ``$defs`` (ids removed)."""
    index = SchemaIndex(SCHEMAS)
    origin = index.by_path(SCHEMAS / relative)
    assert origin is not None
    document = copy.deepcopy(origin.require_document())
    definitions: dict[str, Any] = {}

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            base, _ = split_ref(ref) if isinstance(ref, str) else ("", "")
            if base:
                target = index.locate(base, origin)
                assert target is not None
                name = "ext_" + target.relative.stem
                embedded = {k: v for k, v in target.require_document().items() if k != "$id"}
                definitions[name] = embedded
                return {**node, "$ref": f"#/$defs/{name}"}
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    bundled: dict[str, Any] = inline(document)
    bundled.pop("$id", None)
    bundled["$defs"] = {**bundled.get("$defs", {}), **definitions}
    return bundled


def keys_kept(sent: Any, received: Any, where: str = "") -> None:
    """Every property of the input is still there (added ones can only be defaults)."""
    if isinstance(sent, dict):
        assert isinstance(received, dict), where
        for key, value in sent.items():
            assert key in received, f"{where}/{key} was dropped"
            keys_kept(value, received[key], f"{where}/{key}")
    elif isinstance(sent, list):
        assert isinstance(received, list) and len(received) == len(sent), where
        for i, (a, b) in enumerate(zip(sent, received, strict=True)):
            keys_kept(a, b, f"{where}/{i}")


@pytest.mark.parametrize(("relative", "module", "name", "exact"), CASES, ids=[c[2] for c in CASES])
def test_schema_valid_records_round_trip(
    relative: str,
    module: tuple[str, ...],
    name: str,
    exact: bool,
    example_package: tuple[Path, str],
) -> None:
    model = getattr(
        importlib.import_module(".".join((example_package[1], "jsonmodels", *module))), name
    )
    text = (SCHEMAS / relative).read_text(encoding="utf-8")
    codec: JsonModelCodec[Any] = JsonModelCodec(model, text)
    schema = bundle(relative)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(from_schema(schema, custom_formats=FORMATS))
    def round_trip(record: Any) -> None:
        validator.validate(record)
        value = codec.decode(json.dumps(record).encode())
        encoded = codec.encode(value)
        again = json.loads(encoded)
        validator.validate(again)
        assert codec.decode(encoded) == value
        keys_kept(record, again)
        if exact:
            assert again == record

    round_trip()


CORPUS = Path(__file__).resolve().parents[1] / "data/corpus/schemas/jsonschema"
# Self-contained corpus schemas (hypothesis-jsonschema cannot follow cross-file refs).
CORPUS_CASES = [
    "confluentinc__confluent-kafka-python/tests__integration__schema_registry__data/customer.json",
    "confluentinc__confluent-kafka-python/tests__integration__schema_registry__data/product.json",
    "cloudevents__spec/cloudevents__formats/cloudevents.json",
    "confluentinc__schema-registry/logical-types__src__test__resources__schema__json/complex-audit-logging.json",
    "SchemaStore__schemastore/src__schemas__json/prettierrc.json",
    "octokit__webhooks/payload-schemas__api.github.com/common/user.schema.json",
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not found")
@pytest.mark.parametrize("relative", CORPUS_CASES, ids=[c.rsplit("/", 1)[1] for c in CORPUS_CASES])
def test_corpus_records_round_trip(relative: str, tmp_path: Path) -> None:
    parts = Path(relative).parts
    root = CORPUS / parts[0] / parts[1]
    compiler = JsonSchemaCompiler(root)
    resolved = compiler.resolve(Path(*parts[2:]).as_posix(), root / "t.topic.yaml", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped constraints, invalid defaults
        rendered = compiler.render()
    package = f"rt_{uuid.uuid4().hex[:8]}"
    write_package(rendered, tmp_path, package)
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(f"{package}.{resolved.module}")
    finally:
        sys.path.remove(str(tmp_path))
    codec: JsonModelCodec[Any] = JsonModelCodec(
        getattr(module, resolved.class_name), resolved.schema_text
    )
    schema = json.loads(resolved.schema_text)
    schema.pop("$id", None)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(from_schema(schema, custom_formats=FORMATS))
    def round_trip(record: Any) -> None:
        validator.validate(record)
        value = codec.decode(json.dumps(record).encode())
        encoded = codec.encode(value)
        validator.validate(json.loads(encoded))
        assert codec.decode(encoded) == value
        keys_kept(record, json.loads(encoded))

    round_trip()
