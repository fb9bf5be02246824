"""The local compatibility checker against the peers' conformance corpus.

Every case of ``avro_compat_cases.jsonl``, ``avro_mode_cases.jsonl`` and
``jsonschema_compat_cases_confluent.jsonl`` (under tests/data/corpus/compat) is one
test whose id is the case's ``source`` (repository:file:line).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.compat import check_compatibility
from generator.compat.avro import check_reader_writer
from generator.compat.avro_schema import parse_avro_data
from generator.compat.jsonschema import COMPATIBLE_CHANGES, diff_json_schemas
from generator.compat.jsonschema_model import load_json_schema_data
from tests.paths import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "compat"


def _cases(name: str) -> list[Any]:
    path = CORPUS / name
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} not present"))]
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    seen: dict[str, int] = {}
    params = []
    for row in rows:
        base = row["source"].split("/", 1)[-1] if "/" in row["source"] else row["source"]
        ident = f"{row.get('mode', '')}:{base}".lstrip(":")
        seen[ident] = seen.get(ident, 0) + 1
        if seen[ident] > 1:
            ident = f"{ident}#{seen[ident]}"
        params.append(pytest.param(row, id=ident))
    return params


@pytest.mark.parametrize("case", _cases("avro_compat_cases.jsonl"))
def test_avro_reader_writer_case(case: dict[str, Any]) -> None:
    reader, _ = parse_avro_data(case["reader"])
    writer, _ = parse_avro_data(case["writer"])
    findings = check_reader_writer(reader, writer)
    assert (not findings) == case["compatible"], (
        f"{case['source']}: expected compatible={case['compatible']}, "
        f"got {[f.describe() for f in findings]}"
    )
    expected = case.get("expected_locations")
    if expected:
        expected = [expected] if isinstance(expected, str) else expected
        ours = {f.path for f in findings}
        # Karapace reports a mismatch inside a writer union at the union itself ("/");
        # Apache Avro's Java (which we follow) adds the branch index ("/3"). Accept
        # the more precise location when the expected one is its prefix.
        for location in expected:
            assert any(
                path == location or (location == "/" and path.lstrip("/").isdigit())
                for path in ours
            ), f"{case['source']}: expected a finding at {location}, got {sorted(ours)}"
        assert len(ours) == len(set(expected)), f"{case['source']}: {sorted(ours)} vs {expected}"


@pytest.mark.parametrize("case", _cases("avro_mode_cases.jsonl"))
def test_avro_mode_case(case: dict[str, Any]) -> None:
    report = check_compatibility(
        "AVRO",
        json.dumps(case["new"]),
        [json.dumps(schema) for schema in case["history"]],
        case["mode"],
    )
    assert report.compatible == case["compatible"], (
        f"{case['source']} ({case['mode']}): expected compatible={case['compatible']}, "
        f"got {[f.describe() for f in report.findings]}"
    )


@pytest.mark.parametrize("case", _cases("jsonschema_compat_cases_confluent.jsonl"))
def test_jsonschema_confluent_case(case: dict[str, Any]) -> None:
    findings = diff_json_schemas(
        load_json_schema_data(case["old"]), load_json_schema_data(case["new"])
    )
    compatible = all(f.compatible for f in findings)
    assert compatible == case["backward_compatible"], (
        f"{case['source']}: expected backward_compatible={case['backward_compatible']}, "
        f"got {[f'{f.rule} {f.path}' for f in findings]}"
    )
    # The incompatible differences are exactly Confluent's, rule and path.
    ours = sorted(f"{f.rule} {f.path}" for f in findings if not f.compatible)
    theirs = sorted(
        c for c in case["confluent_changes"] if c.split(" ", 1)[0] not in COMPATIBLE_CHANGES
    )
    assert ours == theirs, f"{case['source']}: {ours} vs Confluent's {theirs}"


def test_corpus_is_present() -> None:
    """The corpus must be found, or every parametrized case above silently skips."""
    assert (CORPUS / "avro_compat_cases.jsonl").exists(), CORPUS
