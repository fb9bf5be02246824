"""One run reports every input problem, across files and phases, without follow-on noise."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main

ORDER = (
    '{"type": "record", "name": "Order", "namespace": "shop", "fields": [\n'
    '  {"name": "id", "type": "string"}]}\n'
)


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]) -> list[str]:
    """The problem lines printed by ``gen-topics`` for ``files`` (which must be invalid)."""
    root = tmp_path / "schemas"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    out = tmp_path / "out"
    assert main([str(root), "-o", str(out)]) == 2
    assert not out.exists()
    prefix = f"{root.as_posix()}/"
    return [line[len(prefix) :] for line in capsys.readouterr().err.splitlines() if prefix in line]


def test_unknown_key_and_unknown_value_type_are_both_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = _run(
        tmp_path,
        capsys,
        {
            "order.avsc": ORDER,
            "t.topic.yaml": "topics:\n  orders:\n    partitons: 3\n    value: shop.Ordr\n",
        },
    )
    assert len(problems) == 2, problems
    assert problems[0].startswith("t.topic.yaml:3: error: unknown key 'partitons'"), problems
    assert "did you mean 'partitions'?" in problems[0]
    assert problems[1].startswith("t.topic.yaml:4: error: topic 'orders': value type 'shop.Ordr'")
    assert "did you mean 'shop.Order'?" in problems[1]


def test_misspelt_primitive_suggests_the_primitive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ORDER.replace('"type": "string"', '"type": "strin"')
    problems = _run(tmp_path, capsys, {"order.avsc": bad})
    assert problems == [
        "order.avsc:2: error: unknown type 'shop.strin'; did you mean 'string'? "
        "(at $.fields[0].type)"
    ], problems


def test_misspelt_named_type_written_short_suggests_its_full_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = '{"type": "record", "name": "Cart", "namespace": "shop", "fields": [\n'
    cart = line + '  {"name": "o", "type": "Ordr"}]}\n'
    problems = _run(tmp_path, capsys, {"order.avsc": ORDER, "cart.avsc": cart})
    assert len(problems) == 1, problems
    assert problems[0].startswith("cart.avsc:2: error: unknown type 'shop.Ordr'"), problems
    assert "did you mean 'shop.Order'?" in problems[0]


def test_problems_of_every_phase_and_file_come_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_default = (
        '{"type": "record", "name": "Tag", "namespace": "shop", "fields": [\n'
        '  {"name": "n", "type": "int", "default": "one"}]}\n'
    )
    bad_ref = ORDER.replace('"type": "string"', '"type": "shop.Nope"')
    problems = _run(
        tmp_path,
        capsys,
        {
            "order.avsc": bad_ref,
            "tag.avsc": bad_default,
            "a.topic.yaml": "topics:\n  tags:\n    value: shop.Tag\n    retention: soon\n",
            "b.topic.yaml": "topics:\n  things:\n    value: shop.Thing\n",
        },
    )
    where = [p.split(": ", 1)[0] for p in problems]
    assert where == ["a.topic.yaml:4", "b.topic.yaml:3", "order.avsc:2", "tag.avsc:2"], problems
    assert "invalid default 'one'" in problems[3]
    assert "(at $.fields[0].default)" in problems[3]


def test_a_broken_schema_file_causes_no_follow_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = _run(
        tmp_path,
        capsys,
        {
            # invalid JSON: shop.Order is not defined, but the topic's reference to it is
            # only a consequence of that, so it is not reported again
            "order.avsc": ORDER.replace('"fields": [', '"fields": ['.rstrip("[")),
            # an unresolved field type: the topic's schema text is not built from it
            "line.avsc": '{"type": "record", "name": "Line", "namespace": "shop",\n'
            ' "fields": [{"name": "o", "type": "Nope"}]}\n',
            "t.topic.yaml": (
                "topics:\n  orders:\n    value: shop.Order\n  lines:\n    value: shop.Line\n"
                "    replicas: 0\n"
            ),
        },
    )
    where = [p.split(": ", 1)[0] for p in problems]
    assert where == ["line.avsc:2", "order.avsc:2", "t.topic.yaml:6"], problems
