"""Standalone schema texts built with one shared memo are those built type by type."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import fastavro
import pytest

from generator.avro.model import AvroRegistry, Ref
from generator.avro.text import SchemaTexts
from generator.compiler import build_model
from generator.errors import GeneratorError
from tests.generator.test_corpus import CORPUS, FOLDERS

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_INPUTS = Path(__file__).resolve().parent / "golden_inputs"


def _fresh(registry: AvroRegistry, fullname: str) -> str:
    return SchemaTexts(registry).text(Ref(fullname))


def _same_shared_as_fresh(registry: AvroRegistry) -> None:
    names = sorted(registry.types)
    # Both orders: what one type leaves in the memo must not change another's text.
    for order in (names, names[::-1]):
        shared = SchemaTexts(registry)
        for fullname in order:
            text, parsed = shared.parsed(Ref(fullname))
            assert text == _fresh(registry, fullname), fullname
            assert parsed == json.loads(text), fullname
            # The compile hands the shared object to fastavro, which must leave it as it is.
            with contextlib.suppress(Exception):
                fastavro.parse_schema(parsed)
            assert parsed == json.loads(text), fullname


@pytest.mark.parametrize(
    "folder",
    [ROOT / "schemas", *sorted(p for p in GOLDEN_INPUTS.iterdir() if p.is_dir())],
    ids=lambda p: p.name,
)
def test_shared_memo_gives_the_texts_of_fresh_ones(folder: Path) -> None:
    _same_shared_as_fresh(build_model(folder).registry)


@pytest.mark.skipif(not FOLDERS, reason="the corpus is not in this checkout")
def test_shared_memo_gives_the_texts_of_fresh_ones_for_the_corpus(tmp_path: Path) -> None:
    checked = 0
    for index, (group, batches) in enumerate(FOLDERS.items()):
        # The whole folder, or (one that defines a name twice) each file on its own.
        for number, batch in enumerate(batches):
            schemas = tmp_path / f"{index}-{number}"
            schemas.mkdir()
            for rel in batch:
                shutil.copy(CORPUS / rel, schemas / Path(rel).name)
            try:
                registry = build_model(schemas).registry
            except GeneratorError:
                assert number == 0, (group, batch)  # only the whole may fail
                continue
            _same_shared_as_fresh(registry)
            checked += len(registry.types)
            if number == 0:
                break
    assert checked > 400


HEADER = {"type": "record", "name": "Header", "fields": [{"name": "id", "type": "string"}]}


def _folder(tmp_path: Path, *schemas: object) -> AvroRegistry:
    for i, schema in enumerate(schemas):
        (tmp_path / f"s{i}.avsc").write_text(json.dumps(schema))
    return build_model(tmp_path).registry


def test_a_type_met_again_after_what_it_reaches_names_that_by_full_name(tmp_path: Path) -> None:
    # Line reaches Header; in Order, Header is written first, so Line's copy must name it.
    line = {"type": "record", "name": "Line", "fields": [{"name": "h", "type": "Header"}]}
    order = {
        "type": "record",
        "name": "Order",
        "fields": [
            {"name": "header", "type": "Header"},
            {"name": "line", "type": "Line"},
            {"name": "lines", "type": {"type": "array", "items": "Line"}},
        ],
    }
    registry = _folder(tmp_path, HEADER, line, order)
    shared = SchemaTexts(registry)
    standalone_line = json.loads(shared.text(Ref("Line")))
    assert standalone_line["fields"][0]["type"]["name"] == "Header"  # inlined
    fields = json.loads(shared.text(Ref("Order")))["fields"]
    assert fields[0]["type"]["name"] == "Header"
    assert fields[1]["type"]["fields"][0]["type"] == "Header"  # by name, written above
    assert fields[2]["type"]["items"] == "Line"
    _same_shared_as_fresh(registry)


def test_recursive_and_mutually_recursive_types(tmp_path: Path) -> None:
    node = {
        "type": "record",
        "name": "Node",
        "namespace": "tree",
        "fields": [
            {"name": "children", "type": {"type": "array", "items": "Node"}},
            {"name": "leaf", "type": ["null", "Leaf"]},
        ],
    }
    leaf = {
        "type": "record",
        "name": "Leaf",
        "namespace": "tree",
        "fields": [{"name": "back", "type": ["null", "tree.Node"]}],
    }
    other = {
        "type": "record",
        "name": "Forest",
        "namespace": "wood",
        "fields": [{"name": "a", "type": "tree.Node"}, {"name": "b", "type": "tree.Leaf"}],
    }
    registry = _folder(
        tmp_path,
        {
            "type": "record",
            "name": "Top",
            "namespace": "tree",
            "fields": [{"name": "n", "type": node}, {"name": "l", "type": leaf}],
        },
        other,
    )
    _same_shared_as_fresh(registry)
    forest = json.loads(SchemaTexts(registry).text(Ref("wood.Forest")))
    assert forest["fields"][0]["type"]["namespace"] == "tree"  # states its own
    assert forest["fields"][1]["type"] == "tree.Leaf"  # inlined inside Node already
