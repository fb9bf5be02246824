"""Parsing Canonical Form and CRC-64-AVRO against Apache Avro's vectors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro.schema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.avro import canonical
from generator.avro.canonical import (
    canonical_form,
    crc64_avro,
    crc64_avro_python,
    fingerprint,
    parsed_fingerprint,
    to_signed,
)

CASES_FILE = Path(__file__).resolve().parents[1] / "data/corpus/compat/avro_canonical_cases.jsonl"
CASES: list[dict[str, Any]] = (
    [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]
    if CASES_FILE.is_file()
    else []
)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_canonical_form_matches_apache_avro(case: dict[str, Any]) -> None:
    # source: case["source"] (apache/avro share/test/data/schema-tests.txt)
    assert canonical_form(json.loads(case["input"])) == case["canonical"]


FINGERPRINTED = [c for c in CASES if "fingerprint_rabin64_signed" in c]


@pytest.mark.parametrize("case", FINGERPRINTED, ids=[c["id"] for c in FINGERPRINTED])
def test_fingerprint_matches_apache_avro(case: dict[str, Any]) -> None:
    fp = fingerprint(case["input"])
    assert to_signed(fp) == case["fingerprint_rabin64_signed"]
    assert f"{fp:016x}" == case["fingerprint_rabin64_unsigned_hex"]
    # The compiler fingerprints the schema fastavro parsed to check it: the same value.
    assert parsed_fingerprint(fastavro.schema.parse_schema(json.loads(case["input"]))) == fp


@pytest.mark.parametrize("crc", [crc64_avro, crc64_avro_python], ids=["chosen", "python"])
def test_crc64_of_empty_input_is_the_seed(crc: Callable[[bytes], int]) -> None:
    assert crc(b"") == 0xC15D213AA4D7A795


def test_compiled_crc_is_used_when_crcmod_is_installed() -> None:
    pytest.importorskip("crcmod._crcfunext")
    assert crc64_avro is not crc64_avro_python
    assert canonical._native() is not None


def test_corpus_has_enough_vectors() -> None:
    if CASES:
        assert len(CASES) >= 30 and len(FINGERPRINTED) >= 20


@given(st.binary(max_size=300))  # every length mod 8, and the tail
def test_crc64_is_fastavros_fingerprint(data: bytes) -> None:
    # The table is built once here, and on every call in fastavro: same algorithm, same number.
    text = data.decode("latin-1")
    expected = int.from_bytes(
        bytes.fromhex(fastavro.schema.fingerprint(text, "CRC-64-AVRO")), "little"
    )
    assert crc64_avro_python(text.encode("utf-8")) == expected
    assert crc64_avro(text.encode("utf-8")) == expected
