"""``gen-topics asyncapi``: the document of schemas/ and of the corpus topics is valid for
AsyncAPI's own parser, says what the descriptors say, and is deterministic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.asyncapi.export import Server, dump_document, export_document
from generator.cli import main
from generator.compiler import build_model
from generator.errors import GeneratorError
from tests.generator.asyncapi.conftest import Validate, problems_of
from tests.generator.test_corpus import CORPUS, FOLDERS
from tests.jsonschema.test_corpus import EXPECTED_FAILURES, SETS

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
SCHEMAS = ROOT / "schemas"
REGISTRY = "http://127.0.0.1:8080/apis/ccompat/v7"


def _export(out: Path, *extra: str) -> int:
    return main(["asyncapi", str(SCHEMAS), "-o", str(out), *extra])


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """schemas/ as YAML (with a server and the registry) and as JSON (without)."""
    base = tmp_path_factory.mktemp("export")
    yaml_doc, json_doc = base / "topics.asyncapi.yaml", base / "topics.asyncapi.json"
    assert (
        _export(yaml_doc, "--server", "local=kafka://127.0.0.1:9092", "--registry", REGISTRY) == 0
    )
    assert _export(json_doc, "--title", "Shop", "--version", "2.1.0") == 0
    return {"yaml": yaml_doc, "json": json_doc}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> Any:
    ref = node.get("$ref")
    if ref is None:
        return node
    value: Any = doc
    for token in ref[2:].split("/"):
        value = value[token.replace("~1", "/").replace("~0", "~")]
    return value


def test_schemas_document_is_valid_for_asyncapis_parser(
    documents: dict[str, Path], asyncapi_validate: Validate
) -> None:
    report = asyncapi_validate(list(documents.values()))
    topics = [t.descriptor.topic for t in build_model(SCHEMAS).topics]
    for path in documents.values():
        result = report[str(path)]
        assert result["parsed"], result["diagnostics"]
        assert problems_of(result) == [], result["diagnostics"]
        assert result["channels"] == topics


def test_parser_reports_a_broken_export(
    documents: dict[str, Path], asyncapi_validate: Validate, tmp_path: Path
) -> None:
    # The check can fail: a damaged Avro payload and binding are errors for the parser.
    doc = _load(documents["yaml"])
    doc["components"]["schemas"]["com.acme.payments.Payment"]["schema"]["fields"] = "none"
    doc["channels"]["orders"]["bindings"]["kafka"]["partitions"] = 0
    broken = tmp_path / "broken.asyncapi.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = asyncapi_validate([broken])[str(broken)]
    paths = [d["path"] for d in problems_of(result)]
    assert ["channels", "orders", "bindings", "kafka", "partitions"] in paths, paths
    assert any(p[:3] == ["components", "schemas", "com.acme.payments.Payment"] for p in paths)


def test_channels_carry_the_descriptor_settings(documents: dict[str, Path]) -> None:
    doc = _load(documents["yaml"])
    orders = doc["channels"]["orders"]
    assert orders["address"] == "orders"
    assert orders["bindings"]["kafka"] == {
        "partitions": 6,
        "replicas": 1,
        "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": 2592000000},
        "bindingVersion": "0.5.0",
    }
    assert list(orders["messages"]) == [
        "OrderPlaced",
        "OrderConfirmed",
        "OrderDelivered",
        "OrderCancelled",
    ]
    customers = doc["channels"]["customers"]["bindings"]["kafka"]["topicConfiguration"]
    # Typed where the Kafka binding types them, strings (as Kafka takes them) elsewhere.
    assert customers == {
        "cleanup.policy": ["compact"],
        "min.cleanable.dirty.ratio": "0.1",
        "delete.retention.ms": 86400000,
    }
    assert doc["channels"]["orders.placed"]["x-gen-topics"] == {
        "class": "PlacedOrdersTopic",
        "on_decode_error": "skip",
    }
    assert doc["channels"]["payments"]["x-gen-topics"] == {
        "compatibility": "FULL",
        "on_decode_error": "dead_letter",
    }


def test_messages_have_payloads_keys_and_the_wire_format(documents: dict[str, Path]) -> None:
    doc = _load(documents["yaml"])
    placed = _resolve(doc, doc["channels"]["orders"]["messages"]["OrderPlaced"])
    assert placed["name"] == "OrderPlaced"
    assert placed["title"] == "com.acme.orders.OrderPlaced"
    assert placed["description"] == "A customer placed an order."
    payload = _resolve(doc, placed["payload"])
    assert payload["schemaFormat"] == "application/vnd.apache.avro+json;version=1.9.0"
    assert payload["schema"]["name"] == "OrderPlaced"
    binding = placed["bindings"]["kafka"]
    key = _resolve(doc, binding["key"])
    assert key == {
        "schemaFormat": "application/vnd.apache.avro+json;version=1.9.0",
        "schema": "string",
    }
    assert binding["schemaIdLocation"] == "payload"
    assert binding["schemaIdPayloadEncoding"] == "confluent"
    assert binding["schemaLookupStrategy"] == "TopicNameStrategy"
    payment = _resolve(doc, doc["channels"]["payments"]["messages"]["Payment"])
    assert payment["bindings"]["kafka"]["schemaLookupStrategy"] == "TopicRecordNameStrategy"
    server = doc["servers"]["local"]
    assert server["host"] == "127.0.0.1:9092"
    assert server["bindings"]["kafka"]["schemaRegistryUrl"] == REGISTRY
    # A plain string key (StringSerializer) is an AsyncAPI string schema, not Avro.
    events = _resolve(doc, doc["channels"]["shipment-events"]["messages"]["ShipmentEvent"])
    assert events["bindings"]["kafka"]["key"] == {"type": "string"}
    event = _resolve(doc, events["payload"])
    assert event["schemaFormat"] == "application/schema+json;version=2020-12"
    # References point into the document, so AsyncAPI tools resolve them without fetching.
    text = json.dumps(event["schema"])
    assert "#/components/schemas/json.common.address.json/schema" in text
    assert "https://schemas.acme.example/common/contact.json" not in text.replace('"$id"', "")
    assert event["x-gen-topics-source"]["file"] == "json/shipments/shipment_event.json"


def test_without_a_registry_the_wire_format_is_not_claimed(documents: dict[str, Path]) -> None:
    doc = json.loads(documents["json"].read_text(encoding="utf-8"))
    assert doc["info"]["title"] == "Shop" and doc["info"]["version"] == "2.1.0"
    assert "servers" not in doc
    for message in doc["components"]["messages"].values():
        assert "schemaIdLocation" not in message["bindings"]["kafka"]


def test_export_is_deterministic_and_check_finds_stale(
    documents: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again = tmp_path / "again.asyncapi.yaml"
    args = ["--server", "local=kafka://127.0.0.1:9092", "--registry", REGISTRY]
    assert _export(again, *args) == 0
    assert again.read_bytes() == documents["yaml"].read_bytes()
    assert _export(again, "--check", *args) == 0
    again.write_text(again.read_text().replace("partitions: 6", "partitions: 5", 1))
    capsys.readouterr()
    assert _export(again, "--check", *args) == 1
    captured = capsys.readouterr()
    assert "stale" in captured.err and "+        partitions: 6" in captured.out
    assert _export(tmp_path / "missing.yaml", "--check", *args) == 1


def test_github_format_annotates_stale_documents_and_input_errors(
    documents: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.asyncapi.yaml"
    args = ["--server", "local=kafka://127.0.0.1:9092", "--registry", REGISTRY]
    shutil.copy(documents["yaml"], doc)
    lines = doc.read_text().splitlines(True)
    changed = next(i for i, line in enumerate(lines) if "partitions: 6" in line)
    lines[changed] = lines[changed].replace("partitions: 6", "partitions: 5")
    doc.write_text("".join(lines))
    capsys.readouterr()
    assert _export(doc, "--check", "--format", "github", *args) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(
        f"::error file={doc},line={changed + 1},title=gen-topics asyncapi --check::"
    ), first
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.topic.yaml").write_text("topics:\n  t:\n    value: com.nope.Missing\n")
    assert main(["asyncapi", str(bad), "--format", "github"]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"::error file={bad / 'x.topic.yaml'},line=3,title=gen-topics asyncapi::")


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["--server", "nourl"],
        ["--server", "x=http://h:1"],
        ["--registry", REGISTRY],
        ["--check"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(["asyncapi", str(SCHEMAS), *args])
        assert exited.value.code == 2
    assert "NAME=URL" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.topic.yaml").write_text("topics:\n  t:\n    value: com.nope.Missing\n")
    assert main(["asyncapi", str(bad)]) == 2
    assert "x.topic.yaml:3" in capsys.readouterr().err


def test_server_urls() -> None:
    assert Server.parse("prod=kafka-secure://a:9093,b:9093") == Server(
        "prod", "a:9093,b:9093", "kafka-secure"
    )
    assert Server.parse("dev=127.0.0.1:9092").protocol == "kafka"
    with pytest.raises(ValueError, match="host:port"):
        Server.parse("dev=kafka://nohost")


def _avro_corpus_folder(folder: str, base: Path) -> Path | None:
    """A schemas folder with the corpus folder's files and a topic per top-level record."""
    whole = FOLDERS[folder][0]
    target = base / folder.replace("/", "_")
    target.mkdir(parents=True)
    for rel in whole:
        shutil.copy(CORPUS / rel, target / Path(rel).name)
    try:
        model = build_model(target)
    except GeneratorError:
        return None  # a folder with two versions of one name (see test_corpus)
    records = sorted(
        nt.fullname
        for nt in model.registry.types.values()
        if nt.json_path == "$" and nt.kind == "record"
    )
    if not records:
        return None
    lines = ["topics:"]
    lines += [
        f"  corpus-{i}:\n    key: string\n    value: {name}" for i, name in enumerate(records)
    ]
    (target / "corpus.topic.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _json_corpus_folder(number: int, root: Path, files: list[Path], base: Path) -> Path | None:
    keys = [p.relative_to(root).as_posix() for p in files]
    where = root.relative_to(CORPUS / "jsonschema").as_posix()
    keys = [k for k in keys if f"{where}/{k}" not in EXPECTED_FAILURES]
    if not keys:
        return None
    target = base / f"json_{number}"
    shutil.copytree(root, target)
    lines = ["topics:"] + [f"  json-{i}:\n    value: {key}" for i, key in enumerate(keys)]
    (target / "corpus.topic.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# Corpus schema sets that AsyncAPI's parser rejects for reasons of its own, with what it says.
# Both are valid JSON Schema; the test fails when the parser starts accepting them.
PARSER_REJECTS = {
    # An enum that repeats values: AsyncAPI's copy of the draft-07 meta-schema wants them unique.
    "confluentinc__schema-registry/logical-types__src__test__resources__schema__json": (
        '"enum" property must not have duplicate items'
    ),
    # person.json and robot.json refer to each other: the parser's validation recurses forever.
    "koxudaxi__datamodel-code-generator/tests__data__jsonschema__external_files_in_directory": (
        "Maximum call stack size exceeded"
    ),
}


def test_corpus_topics_export_valid_documents(tmp_path: Path, asyncapi_validate: Validate) -> None:
    folders = [(folder, _avro_corpus_folder(folder, tmp_path / "avro")) for folder in FOLDERS]
    folders += [
        (
            root.relative_to(CORPUS / "jsonschema").as_posix(),
            _json_corpus_folder(n, root, files, tmp_path / "json"),
        )
        for n, (root, files) in enumerate(sorted(SETS.items()))
    ]
    documents: dict[Path, str] = {}
    expected: dict[str, int] = {}
    for name, folder in folders:
        if folder is None:
            continue
        model = build_model(folder)
        path = tmp_path / "docs" / f"{folder.parent.name}_{folder.name}.asyncapi.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        document = export_document(model, title=folder.name, version="1.0.0")
        path.write_text(dump_document(document, as_json=False), encoding="utf-8")
        documents[path] = name
        expected[str(path)] = len(model.topics)
    assert len(documents) >= 30
    report = asyncapi_validate(list(documents))
    for path, name in documents.items():
        result = report[str(path)]
        if name in PARSER_REJECTS:
            messages = " ".join(d["message"] for d in problems_of(result))
            assert PARSER_REJECTS[name] in messages, (name, result["diagnostics"])
            continue
        assert result["parsed"] and problems_of(result) == [], (name, result["diagnostics"])
        assert len(result["channels"]) == expected[str(path)]
