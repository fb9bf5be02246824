"""Avro Parsing Canonical Form and the CRC-64-AVRO (Rabin) fingerprint.

The canonical form comes from fastavro, the runtime's Avro library. The fingerprint is
fastavro's algorithm (and tested against it), with its lookup table built once instead of
on every call: at thousands of topics, rebuilding it took most of the compile time.
"""

from __future__ import annotations

import json
from typing import Any

from fastavro.schema import to_parsing_canonical_form

_EMPTY_64 = 0xC15D213AA4D7A795  # the Avro specification's CRC-64-AVRO "empty" value


def _table() -> tuple[int, ...]:
    table: list[int] = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY_64 & -(fp & 1))
        table.append(fp)
    return tuple(table)


_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    """The unsigned 64-bit CRC-64-AVRO fingerprint of ``data`` (UTF-8 text, like a PCF)."""
    table = _TABLE
    result = _EMPTY_64
    for byte in data:
        result = (result >> 8) ^ table[(result ^ byte) & 0xFF]
    return result


def to_signed(fingerprint: int) -> int:
    """The fingerprint as a Java signed long (how Avro's test vectors print it)."""
    return fingerprint - (1 << 64) if fingerprint >= 1 << 63 else fingerprint


def canonical_form(schema: Any) -> str:
    """The Parsing Canonical Form of a parsed JSON schema (str, list or dict)."""
    return to_parsing_canonical_form(schema)


def fingerprint(schema_text: str) -> int:
    """CRC-64-AVRO of the Parsing Canonical Form of ``schema_text`` (unsigned)."""
    return crc64_avro(canonical_form(json.loads(schema_text)).encode("utf-8"))
