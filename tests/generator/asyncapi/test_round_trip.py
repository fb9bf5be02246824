"""Round trip: export schemas/ as AsyncAPI, compile that document alone, and get the same
topic classes with the same codecs: every generated file is the same but for the header
that names the sources (and which Avro namespace modules exist: only what topics use)."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from generator.asyncapi.export import dump_document, export_document
from generator.compiler import build_model, compile_folder
from tests.generator.asyncapi.test_export import _avro_corpus_folder
from tests.generator.test_corpus import FOLDERS

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
SCHEMAS = ROOT / "schemas"


def _body(text: str) -> str:
    """A generated file without its leading comment header (it names the source files)."""
    lines = text.splitlines(True)
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    return "".join(lines[start:])


def _compare(original: dict[str, str], again: dict[str, str]) -> None:
    topics = {name for name in original if "/" not in name and name.endswith(".py")}
    assert topics <= set(again), sorted(topics - set(again))
    assert set(again) <= set(original), sorted(set(again) - set(original))
    for name in sorted(again):
        if name.startswith("avro/") and name.endswith(".py"):
            # A namespace module holds only the types the document's topics use: each class
            # it has must be as before.
            before = [b.strip() for b in _body(original[name]).split("\n\n\n")]
            blocks = [b.strip() for b in _body(again[name]).split("\n\n\n")[1:]]
            missing = [b for b in blocks if b not in before]
            assert not missing, f"{name} differs after the round trip:\n{missing[0][:2000]}"
            continue
        if name == "_avro_codec.py":
            _compare_codec(original[name], again[name])
            continue
        if _body(original[name]) != _body(again[name]):
            diff = difflib.unified_diff(
                _body(original[name]).splitlines(True), _body(again[name]).splitlines(True)
            )
            pytest.fail(f"{name} differs after the round trip:\n{''.join(list(diff)[:40])}")


def _compare_codec(original: str, again: str) -> None:
    """The codec, like the namespace modules, covers the types the document carries (the
    ones its topics use): each of its functions, constants, imports and table entries must
    be as before, in the same order; only its digest may differ."""

    def parts(text: str) -> list[str]:
        lines = [
            line
            for line in _body(text).splitlines()
            if not line.startswith("CODE_DIGEST: Final = ")
        ]
        # Functions whole; imports, constants and table entries line by line.
        blocks = "\n".join(lines).split("\n\n\n")
        out: list[str] = []
        for block in blocks:
            if not block.lstrip().startswith("def "):
                out += block.splitlines()
            else:
                out.append(block.strip())
        return out

    before, after = parts(original), parts(again)
    missing = [p for p in after if p not in before]
    assert not missing, f"_avro_codec.py differs after the round trip:\n{missing[0][:2000]}"
    rest = iter(before)
    in_order = all(any(p == q for q in rest) for p in after)  # a subsequence of before
    assert in_order, "_avro_codec.py: the order changed after the round trip"


def _round_trip(folder: Path, work: Path, suffix: str) -> tuple[dict[str, str], dict[str, str]]:
    model = build_model(folder)
    document = export_document(model, title="round trip", version="1.0.0")
    alone = work / "alone"
    alone.mkdir(parents=True)
    text = dump_document(document, as_json=suffix == ".json")
    (alone / f"topics.asyncapi{suffix}").write_text(text, encoding="utf-8")
    return compile_folder(folder), compile_folder(alone)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_schemas_survive_export_and_import(tmp_path: Path, suffix: str) -> None:
    original, again = _round_trip(SCHEMAS, tmp_path, suffix)
    _compare(original, again)
    # The same topics, the same classes, the same schema texts: not a vacuous comparison.
    assert {"orders.py", "shipment_status.py", "payments.py"} <= set(again)
    assert "VALUE_FINGERPRINT: Final = 0xFB1968748E3CFE4F" in again["orders.py"]
    assert "class PlacedOrdersTopic(" in again["orders_placed.py"]
    assert "jsonmodels/shipments/shipment_event.py" in again


def test_a_changed_document_changes_the_code(tmp_path: Path) -> None:
    # The comparison can fail: a document edited after export compiles to other code.
    model = build_model(SCHEMAS)
    document = export_document(model, title="t", version="1")
    document["channels"]["orders"]["bindings"]["kafka"]["partitions"] = 12
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "t.asyncapi.yaml").write_text(dump_document(document, as_json=False))
    again = compile_folder(alone)
    assert _body(again["orders.py"]) != _body(compile_folder(SCHEMAS)["orders.py"])
    assert "TopicOptions(partitions=12," in again["orders.py"]


def test_corpus_topics_survive_export_and_import(tmp_path: Path) -> None:
    checked = 0
    for folder in FOLDERS:
        source = _avro_corpus_folder(folder, tmp_path / "in")
        if source is None:
            continue
        original, again = _round_trip(source, tmp_path / "out" / source.name, ".yaml")
        _compare(original, again)
        checked += 1
    assert checked >= 25


def test_document_beside_its_schemas_is_a_duplicate(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    document = export_document(build_model(SCHEMAS), title="t", version="1")
    (folder / "topics.asyncapi.yaml").write_text(dump_document(document, as_json=False))
    from generator.errors import GeneratorError

    with pytest.raises(GeneratorError) as caught:
        build_model(folder)
    messages = [p.message for p in caught.value.problems]
    assert any("'orders' is already declared at orders.topic.yaml" in m for m in messages)
