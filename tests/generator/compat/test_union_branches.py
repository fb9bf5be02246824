"""Findings inside unions name the branch's record and field, with the same verdict as Java's
SchemaCompatibility (which reports only MISSING_UNION_BRANCH there)."""

from __future__ import annotations

from typing import Any

from generator.compat.avro import check_reader_writer
from generator.compat.avro_schema import parse_avro_data


def _record(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "u.ev", "fields": list(fields)}


ID = {"name": "id", "type": "string"}
CREATED = _record("Created", ID)
CANCELLED = _record("Cancelled", ID)
CANCELLED_WITH_REASON = _record("Cancelled", ID, {"name": "reason", "type": "string"})


def _check(reader: Any, writer: Any) -> list[tuple[str, str, str | None, str | None]]:
    findings = check_reader_writer(parse_avro_data(reader)[0], parse_avro_data(writer)[0])
    return [(f.rule, f.path, f.record, f.field) for f in findings]


def test_a_changed_branch_reports_its_field_at_the_reader_branch() -> None:
    assert _check([CREATED, CANCELLED_WITH_REASON], [CREATED, CANCELLED]) == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/1/fields/1", "u.ev.Cancelled", "reason")
    ]


def test_the_path_follows_the_reader_when_branches_move() -> None:
    assert _check([CANCELLED_WITH_REASON, CREATED], [CREATED, CANCELLED]) == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/0/fields/1", "u.ev.Cancelled", "reason")
    ]


def test_a_record_read_by_a_union_reports_the_branch_of_its_name() -> None:
    assert _check(["null", CANCELLED_WITH_REASON], CANCELLED) == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/1/fields/1", "u.ev.Cancelled", "reason")
    ]


def test_a_type_change_inside_a_branch_names_record_and_field() -> None:
    writer = [CREATED, _record("Cancelled", ID, {"name": "at", "type": "long"})]
    reader = [CREATED, _record("Cancelled", ID, {"name": "at", "type": "int"})]
    assert _check(reader, writer) == [("TYPE_MISMATCH", "/1/fields/1/type", "u.ev.Cancelled", "at")]


def test_a_branch_no_reader_branch_is_named_like_is_still_missing() -> None:
    findings = check_reader_writer(
        parse_avro_data([CREATED])[0], parse_avro_data([CREATED, CANCELLED])[0]
    )
    assert [(f.rule, f.path) for f in findings] == [("MISSING_UNION_BRANCH", "/1")]
    assert findings[0].message == "reader union lacking writer type: record u.ev.Cancelled"


def test_a_compatible_branch_is_enough_as_in_java() -> None:
    assert _check([CREATED, CANCELLED], [CANCELLED]) == []
    # Compatible in both directions only when the new field has a default.
    with_default = _record("Cancelled", ID, {"name": "reason", "type": "string", "default": ""})
    assert _check([CREATED, with_default], [CREATED, CANCELLED]) == []


def test_a_named_type_used_twice_is_reported_once() -> None:
    money = {"type": "enum", "name": "Currency", "symbols": ["EUR", "USD"]}
    fewer = {**money, "symbols": ["EUR"]}
    writer = _record("Order", {"name": "a", "type": money}, {"name": "b", "type": "u.ev.Currency"})
    reader = _record("Order", {"name": "a", "type": fewer}, {"name": "b", "type": "u.ev.Currency"})
    assert _check(reader, writer) == [
        ("MISSING_ENUM_SYMBOLS", "/fields/0/type/symbols", "u.ev.Currency", None)
    ]
