"""Shortcuts the generator takes at scale give what the plain way gives.

Each is checked against an independent reference: Python's own tokenizer and literal
parser, ``json``, and ``Path.read_bytes``.
"""

from __future__ import annotations

import ast
import io
import json
import os
import tokenize
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.avro.render import _without_outer_parentheses
from generator.input_files import file_bytes
from generator.source_text import string_literal

# String literals that hold parentheses, quotes and backslashes: the cases a scan that
# does not see literals gets wrong.
_LITERALS = st.sampled_from(['"("', "')'", '"a\\"("', "'\\\\'", '"\\\\"', "'\")'", '""'])
_ATOMS = st.one_of(st.sampled_from(["a", "b.c", "d[0]", "None", "1"]), _LITERALS)


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _ATOMS,
        lambda inner: st.one_of(
            inner.map(lambda e: f"({e})"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]} + {p[1]}"),
            st.tuples(inner, inner).map(lambda p: f"f({p[0]}, {p[1]})"),
            st.tuples(inner, inner, inner).map(lambda p: f"{p[0]} if {p[1]} is None else {p[2]}"),
        ),
        max_leaves=8,
    )


def _reference_without_outer(expr: str) -> str:
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(expr).readline)
        if t.type not in (tokenize.NEWLINE, tokenize.ENDMARKER)
    ]
    if not (tokens and tokens[0].string == "(" and tokens[-1].string == ")"):
        return expr
    depth = 0
    for index, token in enumerate(tokens):
        depth += {"(": 1, ")": -1}.get(token.string, 0) if token.type == tokenize.OP else 0
        if depth == 0:
            return expr[1:-1] if index == len(tokens) - 1 else expr
    raise AssertionError(f"unbalanced: {expr}")


@given(_expressions())
def test_outer_parentheses_are_found_as_the_tokenizer_finds_them(expr: str) -> None:
    assert _without_outer_parentheses(expr) == _reference_without_outer(expr)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('("(" + a)', '"(" + a'),
        ('(")") + (a)', '(")") + (a)'),
        ("('\\\\') + (b)", "('\\\\') + (b)"),
        ("(f(a) if x is None else g(')'))", "f(a) if x is None else g(')')"),
        ("a", "a"),
    ],
)
def test_outer_parentheses_examples(expr: str, expected: str) -> None:
    assert _without_outer_parentheses(expr) == expected


def _reference_literal(text: str) -> str:
    inner = json.dumps(text, ensure_ascii=False)[1:-1]
    if text.count('"') > text.count("'"):
        return "'" + inner.replace('\\"', '"').replace("'", "\\'") + "'"
    return f'"{inner}"'


_TEXTS = st.text(alphabet=st.sampled_from(list("ab \"'\\\n\t\r{}:,é\x00\x7f\u2028")), max_size=30)


@given(st.one_of(_TEXTS, _TEXTS.map(lambda t: t + "\n")))
def test_string_literals_are_those_of_the_json_way_and_mean_the_text(text: str) -> None:
    literal = string_literal(text)
    assert literal == _reference_literal(text)
    assert ast.literal_eval(literal) == text


@pytest.mark.parametrize("size", [0, 1, 4096, 1 << 16, (1 << 16) + 1, 3 << 20])
def test_file_bytes_reads_what_read_bytes_reads(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(size))
    assert file_bytes(path) == path.read_bytes()


def test_file_bytes_of_a_folder_or_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        file_bytes(tmp_path)
    with pytest.raises(FileNotFoundError):
        file_bytes(tmp_path / "missing")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_file_bytes_of_a_file_longer_than_its_size_said(tmp_path: Path) -> None:
    # A named pipe reports size 0 and then gives its bytes: the read goes on to the end.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = os.urandom(200_000)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only writes
        write = os.open(fifo, os.O_WRONLY)
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
        os._exit(0)
    try:
        assert file_bytes(fifo) == data
    finally:
        os.waitpid(pid, 0)
