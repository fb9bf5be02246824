"""Deeply nested types give valid Python: past a nesting limit the specialised codec
moves the rest of a type into a function of its own (Python refuses source nested deeper
than 100 indentation levels or 20 loops in one function)."""

from __future__ import annotations

import ast
import io
import json
import sys
from pathlib import Path
from typing import Any

import fastavro

from generator.compiler import build_model, compile_folder
from generator.writer import write
from tests.generator.roundtrip import check_round_trip, record_codecs


def _nest(t: Any, levels: int) -> Any:
    """``levels`` containers around ``t``, cycling through array, map and a nullable union."""
    for level in range(levels):
        if level % 3 == 0:
            t = {"type": "array", "items": t}
        elif level % 3 == 1:
            t = {"type": "map", "values": t}
        else:
            t = ["null", t]
    return t


def _schema(levels: int) -> dict[str, Any]:
    leaf = {
        "type": "record",
        "name": "Leaf",
        "fields": [{"name": "flag", "type": ["boolean", "int"]}],
    }
    return {
        "type": "record",
        "name": "Deep",
        "namespace": "nest",
        "fields": [
            {"name": "ints", "type": _nest("int", levels)},
            {"name": "flags", "type": _nest(["boolean", "int"], levels)},
            {"name": "leaves", "type": _nest(leaf, levels)},
        ],
    }


def _value(levels: int, leaf: Any) -> Any:
    """A value of ``_nest(leaf type, levels)`` with one item at every level."""
    for level in range(levels):
        if level % 3 == 0:
            leaf = [leaf]
        elif level % 3 == 1:
            leaf = {"k": leaf}
    return leaf


def _block_depth(node: ast.AST) -> int:
    """How deeply statements nest (functions, loops, conditions): what Python limits, unlike
    the indentation of a line continued inside brackets."""
    blocks = (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With, ast.Try)
    depth = max((_block_depth(child) for child in ast.iter_child_nodes(node)), default=0)
    return depth + 1 if isinstance(node, blocks) else depth


def test_deep_nesting_compiles_imports_and_round_trips(tmp_path: Path) -> None:
    levels = 45  # far past the limit: 30 loops in one function without it
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    schema = _schema(levels)
    (schemas / "deep.avsc").write_text(json.dumps(schema))
    (schemas / "deep.topic.yaml").write_text("topics:\n  deep:\n    value: nest.Deep\n")
    files = compile_folder(schemas)
    source = files["_avro_codec.py"]
    compile(source, "_avro_codec.py", "exec")  # IndentationError/SyntaxError without the cap
    assert _block_depth(ast.parse(source)) < 20

    write(tmp_path / "nest_pkg", files, clean=False)
    sys.path.insert(0, str(tmp_path))
    try:
        (codec_entry,) = record_codecs(build_model(schemas), "nest_pkg")[:1]
        name, codec, text = codec_entry
        assert name == "nest.Deep"
        # A concrete value with an item at every level, True and 1 at the bottom: the
        # bytes are fastavro's and decoding gives the same value back (bool stays bool).
        parsed = fastavro.parse_schema(json.loads(text))
        datum = {
            "ints": _value(levels, 7),
            "flags": _value(levels, True),
            "leaves": _value(levels, {"flag": 1}),
        }
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, datum)
        value = codec.decode(buf.getvalue())
        assert codec.encode(value) == buf.getvalue()
        again = fastavro.schemaless_reader(io.BytesIO(codec.encode(value)), parsed, None)
        assert again == datum
        bottom = value.flags
        while not isinstance(bottom, bool | int):
            bottom = bottom[0] if isinstance(bottom, list) else bottom["k"]
        assert bottom is True
        check_round_trip(codec, text, examples=5)
    finally:
        sys.path.remove(str(tmp_path))
