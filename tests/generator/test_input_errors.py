# ruff: noqa: E501  (a table of literal schema texts, one case per entry)
"""Every kind of bad input is rejected with exit status 2 and a file:line message."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main

GOOD_AVSC = '{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "string"}]}'
GOOD_TOPICS = "topics:\n  orders:\n    key: string\n    value: shop.Order\n"

CASES = [
    # (id, {file: content}, expected file:line, expected text)
    (
        "avsc-invalid-json",
        {"a.avsc": '{"type": "record",\n "name": }'},
        "a.avsc:2:",
        "invalid JSON",
    ),
    (
        "avsc-unknown-type",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "m", "type": "shop.Ordr"}]}'
        },
        "a.avsc:2:",
        "unknown type 'shop.Ordr'; did you mean 'shop.Order'",
    ),
    (
        "avsc-conflicting-definitions",
        {"a.avsc": GOOD_AVSC.replace('"string"', '"long"')},
        "b_order.avsc:1:",
        "defined differently in a.avsc",
    ),
    (
        "avsc-duplicate-field",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "x", "type": "int"},\n{"name": "x", "type": "int"}]}'
        },
        "a.avsc:3:",
        "duplicate field 'x'",
    ),
    (
        "avsc-bad-default",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "x", "type": ["null", "boolean"],\n "default": "null"}]}'
        },
        "a.avsc:3:",
        "invalid default 'null'",
    ),
    (
        "avsc-enum-default",
        {"a.avsc": '{"type": "enum", "name": "E", "symbols": ["A", "B"],\n"default": "C"}'},
        "a.avsc:2:",
        "enum default 'C'",
    ),
    (
        "avsc-wrapped-reference",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "k", "type": {"type": "shop.Order"}}]}'
        },
        "a.avsc:2:",
        "named type reference is written as the bare name",
    ),
    (
        "avsc-union-duplicate",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "u", "type": ["int", "int"]}]}'
        },
        "a.avsc:2:",
        "duplicate 'int' branch",
    ),
    (
        "avsc-bad-decimal",
        {
            "a.avsc": '{"type": "record", "name": "A", "fields": [\n{"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 5}}]}'
        },
        "a.avsc:2:",
        "decimal scale must be an integer from 0 to the precision 2",
    ),
    (
        "avsc-decimal-too-big-for-fixed",
        {
            "a.avsc": '{"type": "fixed", "name": "F", "size": 2,\n "logicalType": "decimal", "precision": 10}'
        },
        "a.avsc:1:",
        "does not fit in a fixed of 2 bytes",
    ),
    (
        "avsc-top-level-not-a-schema",
        {"a.avsc": "42"},
        "a.avsc:1:",
        "a schema must be a type name",
    ),
    (
        "avsc-missing-fields",
        {"a.avsc": '{"type": "record", "name": "A"}'},
        "a.avsc:1:",
        'needs a "fields" array',
    ),
    (
        "avsc-bad-fixed",
        {"a.avsc": '{"type": "fixed", "name": "F", "size": "16"}'},
        "a.avsc:1:",
        "size",
    ),
    (
        "avsc-invalid-name",
        {"a.avsc": '{"type": "record", "name": "my-record", "fields": []}'},
        "a.avsc:1:",
        "invalid name",
    ),
    ("yaml-syntax", {"x.topic.yaml": "topics:\n  orders: [\n"}, "x.topic.yaml:", "invalid YAML"),
    (
        "yaml-unknown-key",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    partitons: 3\n"},
        "x.topic.yaml:4:",
        "unknown key 'partitons' in topic 't'; did you mean 'partitions'",
    ),
    (
        "yaml-wrong-type",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    partitions: many\n"},
        "x.topic.yaml:4:",
        "expected a positive integer",
    ),
    (
        "yaml-bad-retention",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    retention: forever\n"},
        "x.topic.yaml:4:",
        "30m, 12h, 7d",
    ),
    (
        "yaml-unknown-schema",
        {"x.topic.yaml": "topics:\n  t:\n    key: string\n    value: shop.Ordre\n"},
        "x.topic.yaml:4:",
        "did you mean 'shop.Order'",
    ),
    (
        "yaml-bad-topic-name",
        {"x.topic.yaml": "topics:\n  'bad topic':\n    value: string\n"},
        "x.topic.yaml:2:",
        "invalid Kafka topic name",
    ),
    (
        "yaml-duplicate-topic",
        {"x.topic.yaml": GOOD_TOPICS, "y.topic.yaml": GOOD_TOPICS},
        "y.topic.yaml:2:",
        "already declared at x.topic.yaml:2",
    ),
    (
        "yaml-duplicate-key",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    value: long\n"},
        "x.topic.yaml:4:",
        "duplicate key 'value'",
    ),
    (
        "yaml-strategy",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    subject_name_strategy: topics\n"},
        "x.topic.yaml:4:",
        "did you mean 'topic'",
    ),
    (
        "yaml-compatibility",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    compatibility: BACKWARDS\n"},
        "x.topic.yaml:4:",
        "did you mean 'BACKWARD'",
    ),
    (
        "yaml-decode-policy",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    on_decode_error: dead-letter\n"},
        "x.topic.yaml:4:",
        "did you mean 'dead_letter'",
    ),
    (
        "yaml-dead-letter-topic-without-policy",
        {"x.topic.yaml": "topics:\n  t:\n    value: string\n    dead_letter_topic: t.bad\n"},
        "x.topic.yaml:4:",
        "only with 'on_decode_error: dead_letter'",
    ),
    (
        "yaml-dead-letter-topic-name",
        {
            "x.topic.yaml": "topics:\n  t:\n    value: string\n    on_decode_error: dead_letter\n"
            "    dead_letter_topic: 'bad name'\n"
        },
        "x.topic.yaml:5:",
        "expected a Kafka topic name",
    ),
    (
        "yaml-no-value",
        {"x.topic.yaml": "topics:\n  t:\n    key: string\n"},
        "x.topic.yaml:2:",
        "no 'value' type",
    ),
    (
        "yaml-serializer-mismatch",
        {
            "x.topic.yaml": "topics:\n  t:\n    key: long\n    key_serializer: str\n    value: string\n"
        },
        "x.topic.yaml:3:",
        "key_serializer 'str' carries 'string'",
    ),
    (
        "yaml-class-collision",
        {"x.topic.yaml": "topics:\n  a.b:\n    value: string\n  a_b:\n    value: string\n"},
        "x.topic.yaml:4:",
        "would generate class",
    ),
    (
        "yaml-reserved-module",
        {"x.topic.yaml": "topics:\n  avro:\n    value: string\n"},
        "x.topic.yaml:2:",
        "reserved",
    ),
    (
        "yaml-top-level",
        {"x.topic.yaml": "topic:\n  t:\n    value: string\n"},
        "x.topic.yaml:1:",
        "unknown key 'topic'",
    ),
]


@pytest.mark.parametrize(
    ("files", "where", "what"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_exits_2_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], where: str, what: str
) -> None:
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "b_order.avsc").write_text(GOOD_AVSC)
    for name, text in files.items():
        (root / name).write_text(text)
    out = tmp_path / "out"
    assert main([str(root), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{root.as_posix()}/{where}" in err, err
    assert what in err, err
    assert not out.exists()
