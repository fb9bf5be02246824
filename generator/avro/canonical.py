"""Avro Parsing Canonical Form and the CRC-64-AVRO (Rabin) fingerprint.

Both come from fastavro, the runtime's Avro library, so the fingerprint a generated module
embeds is computed by the same code that reads and writes its records.
"""

from __future__ import annotations

import json
from typing import Any

from fastavro.schema import fingerprint as _fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form


def crc64_avro(data: bytes) -> int:
    """The unsigned 64-bit CRC-64-AVRO fingerprint of ``data`` (UTF-8 text, like a PCF)."""
    # fastavro spells the fingerprint as its little-endian bytes, the order Avro's
    # single-object encoding writes; the number itself is what Avro's test vectors print.
    digest = _fastavro_fingerprint(data.decode("utf-8"), "CRC-64-AVRO")
    return int.from_bytes(bytes.fromhex(digest), "little")


def to_signed(fingerprint: int) -> int:
    """The fingerprint as a Java signed long (how Avro's test vectors print it)."""
    return fingerprint - (1 << 64) if fingerprint >= 1 << 63 else fingerprint


def canonical_form(schema: Any) -> str:
    """The Parsing Canonical Form of a parsed JSON schema (str, list or dict)."""
    return to_parsing_canonical_form(schema)


def fingerprint(schema_text: str) -> int:
    """CRC-64-AVRO of the Parsing Canonical Form of ``schema_text`` (unsigned)."""
    return crc64_avro(canonical_form(json.loads(schema_text)).encode("utf-8"))
