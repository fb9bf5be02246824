"""Generated JSON topic codecs carry the documents their schema $refs, exactly as push
registers them (same reference names, subjects, texts and order)."""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Final

import pytest

from gen_topics import Topic
from gen_topics.json_codec import JsonModelCodec, SchemaRef
from gen_topics.registry import ReferencedSchema
from gen_topics.registry.subjects import subject_name
from generated.shipment_events import ShipmentEventsTopic
from generated.shipment_status import ShipmentStatusTopic
from generated.shipment_tracking import ShipmentTrackingTopic
from generator.commands.sources import SchemaSet, load_path
from generator.compiler import build_model, compile_folder
from generator.jsonschema import JsonSchemaCompiler
from generator.jsonschema.references import JsonReference, subject_of
from generator.jsonschema.render import SCHEMA_CONSTANT_MARKER
from generator.jsonschema.topic_code import ModuleDocuments, json_side_code, json_topic_subjects
from generator.model import JsonPayload
from tests.jsonschema.conftest import SCHEMAS

Tree = list[tuple[str, str, str, Any]]


def _push_tree(schemas: SchemaSet, subject: str) -> Tree:
    """(name, subject, text, nested) for each reference push gives ``subject``."""
    return [
        (name, target, schemas.entries[target].text, _push_tree(schemas, target))
        for name, target in schemas.entries[subject].references
    ]


def _codec_tree(refs: tuple[ReferencedSchema, ...]) -> Tree:
    return [(r.name, r.subject, r.schema_text, _codec_tree(r.references)) for r in refs]


@pytest.mark.parametrize(
    "topic_cls", [ShipmentEventsTopic, ShipmentStatusTopic, ShipmentTrackingTopic]
)
def test_generated_codecs_reference_what_push_registers(topic_cls: type[Topic[Any, Any]]) -> None:
    pushed = load_path(SCHEMAS)
    checked = 0
    for is_key, codec in (
        (True, topic_cls.default_key_serializer),
        (False, topic_cls.default_value_serializer),
    ):
        if not isinstance(codec, JsonModelCodec):
            continue
        subject = subject_name(
            topic_cls.subject_name_strategy,
            topic=topic_cls.default_topics[0],
            is_key=is_key,
            schema_type="JSON",
            schema_text=codec.schema_text,
        )
        assert codec.schema_text == pushed.entries[subject].text
        assert _codec_tree(codec.schema_references) == _push_tree(pushed, subject)
        assert all(r.schema_type == "JSON" for r in codec.schema_references)
        checked += 1
    assert checked >= 1


def test_shipment_event_references_address_and_contact_by_path_subjects() -> None:
    codec = ShipmentEventsTopic.default_value_serializer
    assert isinstance(codec, JsonModelCodec)
    assert [(r.name, r.subject) for r in codec.schema_references] == [
        ("../common/address.json", "json/common/address.json"),
        ("https://schemas.acme.example/common/contact.json", "json/common/contact.json"),
    ]
    address = (SCHEMAS / "json" / "common" / "address.json").read_text(encoding="utf-8")
    assert codec.schema_references[0].schema_text == address


def test_codec_converts_references_to_the_registry_form_once() -> None:
    inner = SchemaRef("c.json", "c-subject", '{"type": "string"}')
    outer = SchemaRef("b.json", "b-subject", '{"$ref": "c.json"}', (inner,))
    codec = JsonModelCodec[dict[str, Any]](dict[str, Any], "{}", references=[outer])
    refs = codec.schema_references
    assert refs == (
        ReferencedSchema(
            "b.json",
            "b-subject",
            '{"$ref": "c.json"}',
            "JSON",
            (ReferencedSchema("c.json", "c-subject", '{"type": "string"}', "JSON"),),
        ),
    )
    assert codec.schema_references is refs
    assert JsonModelCodec[dict[str, Any]](dict[str, Any], "{}").schema_references == ()


def _write(root: Path, name: str, document: dict[str, Any]) -> str:
    text = json.dumps(document, indent=2) + "\n"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    return text


def _object(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, **extra}


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """a.json -> b.json -> c.json (by $id) -> a.json (a cycle); a.json -> c.json twice."""
    root = tmp_path / "schemas"
    texts = {
        "a.json": _write(
            root,
            "a.json",
            _object(
                {
                    "b": {"$ref": "lib/b.json"},
                    "c": {"$ref": "https://x.example/c.json#/$defs/C"},
                    "c2": {"$ref": "https://x.example/c.json"},
                },
                title="A",
            ),
        ),
        "lib/b.json": _write(root, "lib/b.json", _object({"c": {"$ref": "../c.json"}}, title="B")),
        "c.json": _write(
            root,
            "c.json",
            _object(
                {"v": {"type": "string"}, "back": {"$ref": "a.json"}},
                **{"$id": "https://x.example/c.json", "title": "C", "$defs": {"C": {}}},
            ),
        ),
    }
    return root, texts


def test_nested_references_in_document_order_without_cycles(
    chain: tuple[Path, dict[str, str]],
) -> None:
    root, texts = chain
    jt = JsonSchemaCompiler(root).resolve("a.json", root / "t.topic.yaml", 3)
    assert [(r.name, r.document) for r in jt.references] == [
        ("lib/b.json", "lib/b.json"),
        ("https://x.example/c.json", "c.json"),
    ]
    b, c = jt.references
    assert b.schema_text == texts["lib/b.json"]
    assert [(r.name, r.document) for r in b.references] == [("../c.json", "c.json")]
    # c.json $refs a.json, which is on the path: left out, or nothing could register first.
    assert b.references[0].references == ()
    assert c.references == ()


def test_side_code_without_model_constants_embeds_each_document_once(
    chain: tuple[Path, dict[str, str]],
) -> None:
    root, texts = chain
    jt = JsonSchemaCompiler(root).resolve("a.json", root / "t.topic.yaml", 3)
    schema = JsonReference("", "a.json", jt.schema_text, jt.module, jt.references)
    documents = ModuleDocuments({})  # no model module has SCHEMA_TEXT: embed the texts
    code = json_side_code("VALUE", "Model", schema, documents)
    assert code.schema_assign.count("REF_C: Final") == 1
    assert code.documents == ("lib/b.json", "c.json")
    assert code.modules == ()
    namespace: dict[str, Any] = {"Final": Final, "SchemaRef": SchemaRef}
    exec(code.schema_assign, namespace)
    assert namespace["VALUE_REFERENCES"] == (
        SchemaRef(
            "lib/b.json",
            "lib/b.json",
            texts["lib/b.json"],
            (SchemaRef("../c.json", "c.json", texts["c.json"]),),
        ),
        SchemaRef("https://x.example/c.json", "c.json", texts["c.json"]),
    )
    assert namespace["VALUE_SCHEMA"] == texts["a.json"]
    assert "references=VALUE_REFERENCES" in code.codec_assign
    # The key side of the same module reuses the constants instead of embedding c again.
    c = jt.references[1]
    key = json_side_code("KEY", "Model", replace(c, references=()), documents)
    assert key.schema_assign == "KEY_SCHEMA: Final = REF_C"


def test_side_code_reads_texts_from_the_model_modules(chain: tuple[Path, dict[str, str]]) -> None:
    root, texts = chain
    compiler = JsonSchemaCompiler(root)
    jt = compiler.resolve("a.json", root / "t.topic.yaml", 3)
    files = compiler.render()
    schema = JsonReference("", "a.json", jt.schema_text, jt.module, jt.references)
    code = json_side_code("VALUE", "Model", schema, ModuleDocuments(files))
    assert code.modules == ("jsonmodels.a", "jsonmodels.lib.b", "jsonmodels.c")
    assert "Final = (" not in code.schema_assign.split("VALUE_REFERENCES")[0]  # no copies
    modules = {
        "_jsonmodels_a": _module_constants(files["jsonmodels/a.py"]),
        "_jsonmodels_lib_b": _module_constants(files["jsonmodels/lib/b.py"]),
        "_jsonmodels_c": _module_constants(files["jsonmodels/c.py"]),
    }
    namespace: dict[str, Any] = {"Final": Final, "SchemaRef": SchemaRef, **modules}
    exec(code.schema_assign, namespace)
    assert namespace["VALUE_SCHEMA"] == texts["a.json"]
    refs = namespace["VALUE_REFERENCES"]
    assert [r.schema_text for r in refs] == [texts["lib/b.json"], texts["c.json"]]
    assert refs[0].references[0].schema_text == texts["c.json"]


def _module_constants(source: str) -> SimpleNamespace:
    """The model module's SCHEMA_TEXT, evaluated without importing its models."""
    marker = source.index(SCHEMA_CONSTANT_MARKER)
    namespace: dict[str, Any] = {}
    exec(source[marker:], namespace)
    return SimpleNamespace(SCHEMA_TEXT=namespace["SCHEMA_TEXT"])


def test_references_use_push_subjects_when_a_document_is_a_topic_schema(
    chain: tuple[Path, dict[str, str]],
) -> None:
    root, _ = chain
    (root / "t.topic.yaml").write_text(
        "topics:\n"
        "  alpha:\n    key: string\n    key_serializer: str\n    value: a.json\n"
        "  gamma:\n    key: c.json\n    value: lib/b.json\n",
        encoding="utf-8",
    )
    model = build_model(root)
    subjects = json_topic_subjects(model.topics)
    assert subjects == {"a.json": "alpha-value", "c.json": "gamma-key", "lib/b.json": "gamma-value"}
    pushed = load_path(root)
    compared = 0
    for topic in model.topics:
        for is_key, payload in ((True, topic.key), (False, topic.value)):
            if not isinstance(payload, JsonPayload):
                continue
            subject = subject_name(
                "topic", topic=topic.descriptor.topic, is_key=is_key, schema_type="JSON"
            )
            ours = [
                (r.name, subject_of(r, subjects), r.schema_text)
                for r in payload.json_type.references
            ]
            theirs = [
                (name, target, pushed.entries[target].text)
                for name, target in pushed.entries[subject].references
            ]
            assert ours == theirs, subject
            compared += 1
    assert compared == 3


def test_push_links_documents_reached_only_through_other_documents(tmp_path: Path) -> None:
    # a.json -> lib/b.json -> c.json, where only a.json is a topic's schema: push must
    # register c.json and give lib/b.json its reference, as the generated codec does.
    root = tmp_path / "schemas"
    _write(root, "a.json", _object({"b": {"$ref": "lib/b.json"}}, title="A"))
    _write(root, "lib/b.json", _object({"c": {"$ref": "../c.json"}}, title="B"))
    c_text = _write(root, "c.json", _object({"v": {"type": "string"}}, title="C"))
    (root / "t.topic.yaml").write_text(
        "topics:\n  alpha:\n    key: string\n    key_serializer: str\n    value: a.json\n",
        encoding="utf-8",
    )
    pushed = load_path(root)
    assert pushed.entries["lib/b.json"].references == (("../c.json", "c.json"),)
    assert pushed.entries["c.json"].text == c_text
    jt = JsonSchemaCompiler(root).resolve("a.json", root / "t.topic.yaml", 4)
    ours = [
        (r.name, r.document, [(n.name, n.document) for n in r.references]) for r in jt.references
    ]
    assert ours == [("lib/b.json", "lib/b.json", [("../c.json", "c.json")])]
    assert _push_tree(pushed, "alpha-value") == [
        (
            "lib/b.json",
            "lib/b.json",
            pushed.entries["lib/b.json"].text,
            [("../c.json", "c.json", c_text, [])],
        ),
    ]


def test_push_and_codec_list_references_alike_in_order_and_ignore_instance_data(
    tmp_path: Path,
) -> None:
    # A subschema whose "$ref" key follows its "properties", and a "$ref" that is only
    # example data: push must list what the codec lists, in the same order.
    root = tmp_path / "schemas"
    nested = {"properties": {"inner": {"$ref": "c.json"}}, "$ref": "lib/b.json"}
    _write(
        root,
        "a.json",
        _object({"w": nested}, title="A", examples=[{"w": {"$ref": "d.json"}}]),
    )
    _write(root, "lib/b.json", _object({"v": {"type": "string"}}, title="B"))
    _write(root, "c.json", _object({"v": {"type": "string"}}, title="C"))
    (root / "t.topic.yaml").write_text(
        "topics:\n  alpha:\n    key: string\n    key_serializer: str\n    value: a.json\n",
        encoding="utf-8",
    )
    jt = JsonSchemaCompiler(root).resolve("a.json", root / "t.topic.yaml", 4)
    ours = [(r.name, r.document) for r in jt.references]
    assert ours == [("c.json", "c.json"), ("lib/b.json", "lib/b.json")]
    assert load_path(root).entries["alpha-value"].references == tuple(ours)


def test_push_links_refs_by_folder_root_path_and_relative_id_as_the_codec_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # events/a.json $refs "common/b.json", a path from the folder root (not from events/),
    # and "ids/user", the relative $id of lib/user.json: joining either onto a.json's URI
    # names no file, so push must find them the way the generator's index does.
    root = tmp_path / "schemas"
    refs = {"b": {"$ref": "common/b.json"}, "u": {"$ref": "ids/user#/$defs/Name"}}
    _write(root, "events/a.json", _object(refs, title="A"))
    b_text = _write(root, "common/b.json", _object({"v": {"type": "string"}}, title="B"))
    user = _object(
        {"b": {"$ref": "../common/b.json"}},
        title="User",
        **{"$id": "ids/user", "$defs": {"Name": {"type": "string"}}},
    )
    user_text = _write(root, "lib/user.json", user)
    (root / "t.topic.yaml").write_text(
        "topics:\n  alpha:\n    key: string\n    key_serializer: str\n    value: events/a.json\n",
        encoding="utf-8",
    )
    pushed = load_path(root)
    expected = [
        ("common/b.json", "common/b.json", b_text, []),
        (
            "ids/user",
            "lib/user.json",
            user_text,
            [("../common/b.json", "common/b.json", b_text, [])],
        ),
    ]
    assert _push_tree(pushed, "alpha-value") == expected

    # The codec of the module gen-topics generates for this folder lists the same.
    package = f"gen_refs_{uuid.uuid4().hex}"
    for relative, source in compile_folder(root).items():
        target = tmp_path / "out" / package / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "out"))
    module = importlib.import_module(f"{package}.alpha")
    codec = module.AlphaTopic.default_value_serializer
    assert isinstance(codec, JsonModelCodec)
    assert _codec_tree(codec.schema_references) == expected


def test_push_finds_a_descriptor_schema_by_relative_id_as_the_compiler_does(
    tmp_path: Path,
) -> None:
    # "shared/user.schema.json" is no file next to the descriptor: it is lib/user.json's $id.
    root = tmp_path / "schemas"
    user = _object({"v": {"type": "string"}}, title="User", **{"$id": "shared/user.schema.json"})
    text = _write(root, "lib/user.json", user)
    descriptor = root / "t.topic.yaml"
    descriptor.write_text(
        "topics:\n  beta:\n    key: string\n    key_serializer: str\n"
        "    value: shared/user.schema.json\n",
        encoding="utf-8",
    )
    jt = JsonSchemaCompiler(root).resolve("shared/user.schema.json", descriptor, 5)
    assert jt.source == root / "lib" / "user.json"
    entry = load_path(root, display_root=tmp_path).entries["beta-value"]
    assert (entry.text, entry.file) == (text, "schemas/lib/user.json")
