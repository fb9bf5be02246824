"""A compat finding inside a topic's union, or in a named type from another file, is reported
at the .avsc file and line that defines it, naming record and field (compat and push, against
files and against the real registry)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.commands import compat, push
from tests.gen_topics.registry.helpers import unique

CREATED: dict[str, Any] = {
    "type": "record",
    "name": "Created",
    "namespace": "loc.ev",
    "fields": [{"name": "id", "type": "string"}],
}
CANCELLED: dict[str, Any] = {**CREATED, "name": "Cancelled"}
# Indented: the new field opens on line 10 of cancelled.avsc.
CANCELLED_WITH_REASON: dict[str, Any] = {
    **CANCELLED,
    "fields": [*CANCELLED["fields"], {"name": "reason", "type": "string"}],
}
REASON_LINE = 10


def _folder(root: Path, topic: str, cancelled: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "created.avsc").write_text(json.dumps(CREATED, indent=2) + "\n")
    (root / "cancelled.avsc").write_text(json.dumps(cancelled, indent=2) + "\n")
    (root / "events.topic.yaml").write_text(
        f"topics:\n  {topic}:\n    key: string\n"
        "    value: [loc.ev.Created, loc.ev.Cancelled]\n    compatibility: BACKWARD\n"
    )
    return root


def _run(main: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code: int = main(argv)
    return code, capsys.readouterr().out


def _union_finding(out: str, folder: Path) -> str:
    [line] = [x for x in out.splitlines() if x.startswith("::error")]
    assert line.startswith(f"::error file={folder / 'cancelled.avsc'},line={REASON_LINE},"), line
    assert "READER_FIELD_MISSING_DEFAULT_VALUE in record loc.ev.Cancelled, field reason" in line
    assert "MISSING_UNION_BRANCH" not in line
    return line


def test_compat_locates_a_union_branch_change_in_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _folder(tmp_path / "old", "events", CANCELLED)
    new = _folder(tmp_path / "new", "events", CANCELLED_WITH_REASON)
    code, out = _run(compat.main, [str(new), "--against", str(old), "--format", "github"], capsys)
    assert code == 1
    assert _union_finding(out, new).endswith(" at /1/fields/1")


def test_compat_locates_a_change_in_a_named_type_of_another_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def write(root: Path, symbols: list[str]) -> Path:
        root.mkdir()
        currency = {
            "type": "enum",
            "name": "Currency",
            "namespace": "loc.money",
            "symbols": symbols,
        }
        (root / "currency.avsc").write_text(json.dumps(currency, indent=2) + "\n")
        order = {
            "type": "record",
            "name": "Order",
            "namespace": "loc.ev",
            "fields": [
                {"name": "price", "type": "long"},
                {"name": "in", "type": "loc.money.Currency"},
            ],
        }
        (root / "order.avsc").write_text(json.dumps(order, indent=2) + "\n")
        (root / "o.topic.yaml").write_text("topics:\n  orders:\n    value: loc.ev.Order\n")
        return root

    old = write(tmp_path / "old", ["EUR", "USD"])
    new = write(tmp_path / "new", ["EUR"])
    code, out = _run(compat.main, [str(new), "--against", str(old)], capsys)
    assert code == 1
    # Not order.avsc, whose schema text the registry gets with Currency inlined: currency.avsc.
    assert (
        f"{new / 'currency.avsc'}:1: error: orders-value: "
        "MISSING_ENUM_SYMBOLS in loc.money.Currency: [USD]" in out
    )


@pytest.mark.registry
def test_compat_and_push_locate_a_union_branch_change_against_the_registry(
    tmp_path: Path, registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = unique("loc-events")
    folder = _folder(tmp_path / "schemas", topic, CANCELLED)
    code, out = _run(push.main, [str(folder), "--registry", registry_url], capsys)
    assert code == 0, out
    _folder(folder, topic, CANCELLED_WITH_REASON)
    argv = [str(folder), "--against", registry_url, "--format", "github"]
    code, out = _run(compat.main, argv, capsys)
    assert code == 1
    assert f"{topic}-value v1" in _union_finding(out, folder)
    code, out = _run(
        push.main, [str(folder), "--registry", registry_url, "--format", "github"], capsys
    )
    assert code == 1 and "nothing registered" in out
    _union_finding(out, folder)
