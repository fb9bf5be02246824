"""Avro field defaults: validated against their type and turned into typed Python values.

A JSON default becomes a :class:`DefaultValue` tree; the renderer prints it as Python
source. Union defaults follow the first branch (Avro spec), with a fallback to the
other branches, which Avro 1.12 readers accept too.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from generator.avro.model import (
    ArrayType,
    AvroRegistry,
    AvroType,
    MapType,
    Primitive,
    Ref,
    UnionType,
)

_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_EPOCH = dt.datetime(1970, 1, 1)


class DefaultError(ValueError):
    """A default value that does not match its field's type."""


@dataclass(frozen=True)
class DefaultValue:
    """A typed default value.

    kinds: ``plain`` (None/bool/int/float/str/bytes in ``value``), ``decimal``, ``uuid``,
    ``date``, ``time``, ``datetime`` (``value`` holds the Python object), ``enum``/``fixed``
    (``name`` is the type's full name), ``duration`` (value = (months, days, millis)),
    ``list``/``dict``/``record`` (``items`` holds (key, DefaultValue) pairs; for records the
    key is the Avro field name).
    """

    kind: str
    value: Any = None
    name: str = ""
    items: tuple[tuple[str, DefaultValue], ...] = ()


def check_default(t: AvroType, value: Any, registry: AvroRegistry) -> str | None:
    """``None`` when ``value`` is a valid default for ``t``, else what is wrong."""
    try:
        convert_default(t, value, registry)
    except DefaultError as exc:
        return str(exc)
    return None


def convert_default(t: AvroType, value: Any, registry: AvroRegistry) -> DefaultValue:
    """Turn the JSON default ``value`` of type ``t`` into a :class:`DefaultValue`."""
    if isinstance(t, UnionType):
        errors = []
        for branch in t.branches:
            try:
                return convert_default(branch, value, registry)
            except DefaultError as exc:
                errors.append(str(exc))
        raise DefaultError(f"matches no branch of the union ({errors[0]})")
    if isinstance(t, ArrayType):
        if not isinstance(value, list):
            raise DefaultError("expected a JSON array")
        return DefaultValue(
            "list", items=tuple(("", convert_default(t.items, v, registry)) for v in value)
        )
    if isinstance(t, MapType):
        if not isinstance(value, dict):
            raise DefaultError("expected a JSON object")
        return DefaultValue(
            "dict",
            items=tuple((k, convert_default(t.values, v, registry)) for k, v in value.items()),
        )
    if isinstance(t, Ref):
        return _named(t, value, registry)
    return _primitive(t, value)


def _primitive(t: Primitive, value: Any) -> DefaultValue:
    name = t.name
    if name == "null":
        if value is not None:
            raise DefaultError("expected null")
        return DefaultValue("plain", None)
    if name == "boolean":
        if not isinstance(value, bool):
            raise DefaultError("expected true or false")
        return DefaultValue("plain", value)
    if name in ("int", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise DefaultError(f"expected an integer for {name}")
        low, high = _INT_RANGE[name]
        if not low <= value <= high:
            raise DefaultError(f"{value} is out of range for {name}")
        return _logical_int(t, value)
    if name in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise DefaultError(f"expected a number for {name}")
        try:
            number = float(value)
        except OverflowError:
            raise DefaultError(f"{value} is beyond the range of a 64-bit float") from None
        return DefaultValue("plain", number)
    if name == "string":
        if not isinstance(value, str):
            raise DefaultError("expected a string")
        if t.logical == "uuid":
            try:
                return DefaultValue("uuid", uuid.UUID(value))
            except ValueError:
                raise DefaultError(f"{value!r} is not a UUID") from None
        return DefaultValue("plain", value)
    # bytes: a JSON string whose code points 0-255 are the bytes
    raw = _bytes(value)
    if t.logical == "decimal":
        return DefaultValue("decimal", _decimal(raw, t.scale))
    return DefaultValue("plain", raw)


def _logical_int(t: Primitive, value: int) -> DefaultValue:
    try:
        if t.logical == "date":
            return DefaultValue("date", dt.date(1970, 1, 1) + dt.timedelta(days=value))
        if t.logical in ("time-millis", "time-micros"):
            micros = value * 1000 if t.logical == "time-millis" else value
            if not 0 <= micros < 86_400_000_000:
                raise DefaultError("time of day out of range")
            return DefaultValue(
                "time", (dt.datetime.min + dt.timedelta(microseconds=micros)).time()
            )
        if t.logical in ("timestamp-millis", "local-timestamp-millis"):
            stamp = _EPOCH + dt.timedelta(milliseconds=value)
        elif t.logical in ("timestamp-micros", "local-timestamp-micros"):
            stamp = _EPOCH + dt.timedelta(microseconds=value)
        else:
            return DefaultValue("plain", value)
    except OverflowError:
        raise DefaultError(f"{value} is out of the range of Python dates") from None
    if t.logical and not t.logical.startswith("local-"):
        stamp = stamp.replace(tzinfo=dt.UTC)
    return DefaultValue("datetime", stamp)


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise DefaultError("expected a string of code points 0-255 for bytes")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise DefaultError("bytes defaults may only use code points 0-255") from None


def _decimal(raw: bytes, scale: int) -> decimal.Decimal:
    unscaled = int.from_bytes(raw, "big", signed=True) if raw else 0
    return decimal.Decimal(unscaled).scaleb(-scale)


def _named(t: Ref, value: Any, registry: AvroRegistry) -> DefaultValue:
    nt = registry.named(t)
    if nt.kind == "enum":
        if value not in nt.symbols:
            raise DefaultError(f"expected one of the symbols of {nt.fullname}: {list(nt.symbols)}")
        return DefaultValue("enum", value, nt.fullname)
    if nt.kind == "fixed":
        raw = _bytes(value)
        if len(raw) != nt.size:
            raise DefaultError(f"expected {nt.size} bytes for fixed {nt.fullname}, got {len(raw)}")
        if nt.logical == "decimal":
            return DefaultValue("decimal", _decimal(raw, nt.scale))
        if nt.logical == "duration":
            months, days, millis = (int.from_bytes(raw[i : i + 4], "little") for i in (0, 4, 8))
            return DefaultValue("duration", (months, days, millis), nt.fullname)
        return DefaultValue("fixed", raw, nt.fullname)
    if not isinstance(value, dict):
        raise DefaultError(f"expected a JSON object for record {nt.fullname}")
    items = []
    for f in nt.fields:
        if f.name in value:
            items.append((f.name, convert_default(f.type, value[f.name], registry)))
        elif f.has_default:
            items.append((f.name, convert_default(f.type, f.default, registry)))
        else:
            raise DefaultError(f"record default lacks field {f.name!r} of {nt.fullname}")
    return DefaultValue("record", name=nt.fullname, items=tuple(items))
