"""Hypothesis strategies for Avro data, in the form fastavro's reader returns it.

Named types inside unions are ``(fullname, value)`` tuples (``return_named_type=True``);
fastavro's writer takes the same form (tuple notation). Values are drawn so that they
round-trip exactly (millisecond times for *-millis types, 32-bit floats for ``float``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

from hypothesis import strategies as st

_MIN_TS = dt.datetime(1900, 1, 1)
_MAX_TS = dt.datetime(2200, 1, 1)


def datum_strategy(schema: Any, max_depth: int = 3) -> st.SearchStrategy[Any]:
    """Strategy for data of a parsed JSON schema (named types defined inline, at first use)."""
    named: dict[str, Any] = {}
    _collect(schema, "", named)
    return _strategy(schema, "", named, max_depth)


def _fullname(obj: dict[str, Any], ns: str) -> tuple[str, str]:
    name = obj["name"]
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    own = obj.get("namespace", ns)
    return (f"{own}.{name}" if own else name), own or ""


def _collect(s: Any, ns: str, named: dict[str, Any]) -> None:
    if isinstance(s, list):
        for b in s:
            _collect(b, ns, named)
    elif isinstance(s, dict):
        kind = s.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            full, own = _fullname(s, ns)
            named[full] = (s, own)
            for f in s.get("fields", []):
                _collect(f["type"], own, named)
        elif kind == "array":
            _collect(s["items"], ns, named)
        elif kind == "map":
            _collect(s["values"], ns, named)
        elif isinstance(kind, (dict, list)):
            _collect(kind, ns, named)


def _resolve(name: str, ns: str, named: dict[str, Any]) -> str:
    if "." not in name and ns and f"{ns}.{name}" in named:
        return f"{ns}.{name}"
    return name


def _strategy(s: Any, ns: str, named: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if isinstance(s, list):
        return _union(s, ns, named, depth)
    if isinstance(s, str):
        prim = _primitive(s, None, {})
        if prim is not None:
            return prim
        full = _resolve(s, ns, named)
        definition, own = named[full]
        return _named(definition, own, named, depth)
    kind = s["type"]
    if isinstance(kind, (dict, list)):
        return _strategy(kind, ns, named, depth)
    if kind in ("record", "error", "enum", "fixed"):
        full, own = _fullname(s, ns)
        return _named(s, own, named, depth)
    if kind == "array":
        if depth <= 0:
            return st.just([])
        return st.lists(_strategy(s["items"], ns, named, depth - 1), max_size=3)
    if kind == "map":
        if depth <= 0:
            return st.just({})
        return st.dictionaries(
            st.text(max_size=5), _strategy(s["values"], ns, named, depth - 1), max_size=3
        )
    prim = _primitive(kind, s.get("logicalType"), s)
    if prim is None:  # a named-type reference written as {"type": "Name"}
        return _strategy(kind, ns, named, depth)
    return prim


def _union(
    branches: list[Any], ns: str, named: dict[str, Any], depth: int
) -> st.SearchStrategy[Any]:
    if depth <= 0 and "null" in branches:
        return st.none()
    options = []
    for b in branches:
        full = _branch_name(b, ns, named)
        strategy = _strategy(b, ns, named, depth - 1 if full else depth)
        if full is not None:
            options.append(strategy.map(lambda v, n=full: (n, v)))
        elif b == "null" or (isinstance(b, dict) and b.get("type") == "null"):
            options.insert(0, strategy)  # shrink towards null; also the cheap branch when deep
        else:
            options.append(strategy)
    return st.one_of(options)


def _branch_name(b: Any, ns: str, named: dict[str, Any]) -> str | None:
    if isinstance(b, str):
        if _primitive(b, None, {}) is not None:
            return None
        return _resolve(b, ns, named)
    if isinstance(b, dict) and b.get("type") in ("record", "error", "enum", "fixed"):
        return _fullname(b, ns)[0]
    return None


def _named(d: dict[str, Any], ns: str, named: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    kind = d["type"]
    if kind in ("record", "error") and depth < -4:
        # A record that requires itself (e.g. {"name": "f", "type": "Z"} inside Z) has no
        # finite value at all.
        return st.nothing()
    if kind == "enum":
        return st.sampled_from(d["symbols"])
    if kind == "fixed":
        size = d["size"]
        logical = d.get("logicalType")
        if logical == "decimal" and isinstance(d.get("precision"), int):
            return _decimal(d["precision"], d.get("scale", 0), size)
        return st.binary(min_size=size, max_size=size)
    fields = {
        f["name"]: st.deferred(lambda f=f: _strategy(f["type"], ns, named, depth - 1))
        for f in d["fields"]
    }
    return st.fixed_dictionaries(fields)


def _decimal(precision: int, scale: int, size: int | None = None) -> st.SearchStrategy[Any]:
    digits = precision
    if size is not None:
        # floor(log10(2**(8*size-1) - 1)), without a decimal string of thousands of digits
        digits = min(precision, math.floor((8 * size - 1) * math.log10(2)))
    limit = 10 ** min(digits, 18) - 1
    return st.integers(-limit, limit).map(lambda n: decimal.Decimal(n).scaleb(-scale))


def _primitive(kind: Any, logical: Any, s: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "int":
        if logical == "date":
            return st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
        if logical == "time-millis":
            return st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "long":
        if logical == "time-micros":
            return st.times()
        if logical in ("timestamp-millis", "local-timestamp-millis"):
            base = st.datetimes(_MIN_TS, _MAX_TS).map(
                lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)
            )
            return (
                base.map(lambda t: t.replace(tzinfo=dt.UTC))
                if logical == "timestamp-millis"
                else base
            )
        if logical in ("timestamp-micros", "local-timestamp-micros"):
            base = st.datetimes(_MIN_TS, _MAX_TS)
            return (
                base.map(lambda t: t.replace(tzinfo=dt.UTC))
                if logical == "timestamp-micros"
                else base
            )
        return st.integers(-(2**63), 2**63 - 1)
    if kind == "float":
        return st.floats(width=32, allow_nan=False)
    if kind == "double":
        return st.floats(allow_nan=False)
    if kind == "bytes":
        if logical == "decimal" and isinstance(s.get("precision"), int):
            return _decimal(s["precision"], s.get("scale", 0))
        return st.binary(max_size=8)
    if kind == "string":
        if logical == "uuid":
            return st.uuids()
        return st.text(max_size=8)
    return None
