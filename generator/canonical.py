"""Avro Parsing Canonical Form and the CRC-64-AVRO (Rabin) fingerprint.

Implements the spec's transformations (PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS,
INTEGERS, WHITESPACE) on a parsed JSON schema.
"""

from __future__ import annotations

import json
from typing import Any

from generator.avro_model import PRIMITIVES

_EMPTY = 0xC15D213AA4D7A795
_MASK = 0xFFFFFFFFFFFFFFFF


def _table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp & _MASK)
    return tuple(table)


_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    """The unsigned 64-bit CRC-64-AVRO fingerprint of ``data``."""
    fp = _EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def to_signed(fingerprint: int) -> int:
    """The fingerprint as a Java signed long (how Avro's test vectors print it)."""
    return fingerprint - (1 << 64) if fingerprint >= 1 << 63 else fingerprint


def canonical_form(schema: Any) -> str:
    """The Parsing Canonical Form of a parsed JSON schema (str, list or dict)."""
    return _pcf(schema, "", set())


def fingerprint(schema_text: str) -> int:
    """CRC-64-AVRO of the Parsing Canonical Form of ``schema_text`` (unsigned)."""
    return crc64_avro(canonical_form(json.loads(schema_text)).encode("utf-8"))


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _fullname(name: str, namespace: str | None, enclosing: str) -> tuple[str, str]:
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    ns = namespace if namespace is not None else enclosing
    return (f"{ns}.{name}" if ns else name), ns


def _pcf(s: Any, ns: str, seen: set[str]) -> str:
    if isinstance(s, str):
        if s in PRIMITIVES:
            return _q(s)
        return _q(s if "." in s or not ns else f"{ns}.{s}")
    if isinstance(s, list):
        return "[" + ",".join(_pcf(b, ns, seen) for b in s) + "]"
    kind = s["type"]
    if isinstance(kind, (dict, list)):
        return _pcf(kind, ns, seen)
    if kind in PRIMITIVES:
        return _q(kind)
    if kind == "array":
        return '{"type":"array","items":' + _pcf(s["items"], ns, seen) + "}"
    if kind == "map":
        return '{"type":"map","values":' + _pcf(s["values"], ns, seen) + "}"
    if kind not in ("record", "error", "enum", "fixed"):
        return _pcf(kind, ns, seen)
    full, own_ns = _fullname(s["name"], s.get("namespace"), ns)
    if full in seen:
        return _q(full)
    seen.add(full)
    parts = [f'"name":{_q(full)}', f'"type":{_q("record" if kind == "error" else kind)}']
    if kind in ("record", "error"):
        fields = ",".join(
            "{" + f'"name":{_q(f["name"])},"type":{_pcf(f["type"], own_ns, seen)}' + "}"
            for f in s["fields"]
        )
        parts.append(f'"fields":[{fields}]')
    elif kind == "enum":
        parts.append('"symbols":[' + ",".join(_q(x) for x in s["symbols"]) + "]")
    else:
        parts.append(f'"size":{int(s["size"])}')
    return "{" + ",".join(parts) + "}"
