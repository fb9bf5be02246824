"""Bad AsyncAPI documents: every problem names the document, the line and the JSON pointer,
and says what is expected; one run reports all of them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.cli import main
from generator.compiler import build_model
from generator.errors import GeneratorError, Problem

HEAD = """\
asyncapi: 3.0.0
info: {title: t, version: 1.0.0}
"""

AVRO = "application/vnd.apache.avro+json;version=1.9.0"


def _problems(tmp_path: Path, text: str, name: str = "bad.asyncapi.yaml") -> list[Problem]:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(GeneratorError) as caught:
        build_model(tmp_path)
    problems = caught.value.problems
    assert all(p.file == (tmp_path / name).as_posix() for p in problems), problems
    return problems


def _one(problems: list[Problem], line: int, *parts: str) -> Problem:
    found = [p for p in problems if p.line == line and all(part in p.message for part in parts)]
    assert found, "\n".join(map(str, problems))
    return found[0]


def test_not_asyncapi_3(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "asyncapi: 2.6.0\ninfo: {title: t, version: '1'}\n")
    _one(problems, 1, "expected an AsyncAPI 3 document", "2.6.0", "(at #/asyncapi)")


def test_broken_yaml_and_json(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEAD + "channels:\n  a: [1,\n")
    _one(problems, 5, "invalid YAML")
    other = tmp_path / "json"
    other.mkdir()
    problems = _problems(
        other, '{\n  "asyncapi": "3.0.0",\n  "channels": {,}\n}\n', "b.asyncapi.json"
    )
    _one(problems, 3, "invalid JSON")


def test_invalid_inline_avro_names_its_place(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        HEAD
        + f"""\
channels:
  orders:
    messages:
      Placed:
        payload:
          schemaFormat: {AVRO}
          schema:
            type: record
            name: Placed
            fields:
              - {{name: id, type: string}}
              - {{name: total}}
              - {{name: when, type: shop.Missing}}
    bindings: {{kafka: {{partitions: 2}}}}
""",
    )
    _one(
        problems,
        14,
        "field 'total' has no \"type\"",
        "(at #/channels/orders/messages/Placed/payload/schema/fields/1)",
    )
    _one(
        problems,
        15,
        "unknown type 'shop.Missing'",
        "(at #/channels/orders/messages/Placed/payload/schema/fields/2/type)",
    )


def test_bad_references_formats_and_settings(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        HEAD
        + """\
channels:
  a:
    messages:
      M: {$ref: '#/components/messages/Nope'}
    bindings: {kafka: {partitions: 0}}
  b:
    messages:
      M:
        payload: {schemaFormat: application/x-protobuf, schema: 'message M {}'}
    bindings:
      kafka:
        topicConfiguration: {cleanup.policy: [compact, squash]}
    x-gen-topics: {clas: BTopic}
  c:
    address: 'orders.{region}'
    messages: {M: {payload: {type: string}}}
    bindings: {kafka: {}}
  d:
    messages: {}
    bindings: {kafka: {}}
""",
    )
    _one(problems, 6, "points to nothing in this document", "(at #/channels/a/messages/M/$ref)")
    _one(problems, 7, "topic 'a': partitions: expected a positive integer, got 0")
    _one(
        problems,
        11,
        "schemaFormat 'application/x-protobuf' is not supported",
        "(at #/channels/b/messages/M/payload/schemaFormat)",
    )
    _one(problems, 14, "cleanup.policy: expected a list of 'compact' and 'delete'")
    _one(problems, 15, "unknown key 'clas' in x-gen-topics", "did you mean 'class'")
    _one(problems, 17, "is not a Kafka topic name", "(at #/channels/c/address)")
    _one(problems, 20, "the channel has no messages", "(at #/channels/d)")


def test_messages_must_agree(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        HEAD
        + f"""\
channels:
  mixed:
    messages:
      A:
        payload: {{schemaFormat: {AVRO}, schema: {{type: record, name: A, fields: []}}}}
        bindings: {{kafka: {{key: {{type: string}}}}}}
      B:
        payload: {{type: object, properties: {{x: {{type: integer}}}}}}
        bindings:
          kafka:
            key: {{schemaFormat: {AVRO}, schema: long}}
            schemaLookupStrategy: SomeStrategy
    bindings: {{kafka: {{}}}}
""",
    )
    _one(problems, 13, "message 'B' has the key Avro long, but message 'A' has a string")
    _one(problems, 14, "schemaLookupStrategy 'SomeStrategy'", "TopicNameStrategy")
    _one(problems, 5, "several messages make a union", "Avro payloads only")


def test_broken_json_schema_reference(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        HEAD
        + """\
channels:
  people:
    messages:
      Person:
        payload:
          type: object
          properties:
            address: {$ref: '#/channels/elsewhere'}
    bindings: {kafka: {}}
""",
    )
    _one(
        problems,
        7,
        "points outside components/schemas",
        "(at #/channels/people/messages/Person/payload)",
    )
    assert len(problems) == 1, problems  # no follow-on error from the JSON Schema index


def test_the_command_reports_file_line_and_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.asyncapi.yaml").write_text(
        HEAD + "channels:\n  a:\n    messages: {M: {payload: {type: string}}}\n"
        "    bindings: {kafka: {replicas: many}}\n"
    )
    out = tmp_path / "out"
    assert main([str(tmp_path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path.as_posix()}/x.asyncapi.yaml:6: error: topic 'a': replicas:" in err
    assert not out.exists()  # nothing written
