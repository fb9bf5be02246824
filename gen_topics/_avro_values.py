"""fastavro's rules for logical-type values that are not the annotated Python type.

Generated encoders convert the annotated types themselves (an aware ``datetime`` for
``timestamp-millis``, a ``date`` for ``date``, ...). Anything else reaches these functions,
which apply fastavro's own conversion, so that such values keep encoding exactly as
fastavro writes them: a naive ``datetime`` as local time, an ``int`` as itself, an ISO
string for a ``date``. What is not an Avro int or long then is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastavro.logical_writers import LOGICAL_WRITERS

__all__ = [
    "date_days",
    "local_timestamp_micros",
    "local_timestamp_millis",
    "time_micros",
    "time_millis",
    "timestamp_micros",
    "timestamp_millis",
]

_LONG = (-(2**63), 2**63 - 1)


def _convert(logical: str) -> Callable[[object], int]:
    prepare: Callable[[Any, dict[str, Any]], Any] = LOGICAL_WRITERS[logical]

    def convert(value: object) -> int:
        out = prepare(value, {})
        if not isinstance(out, int):
            raise TypeError(
                f"{type(value).__name__} {value!r:.60} is not a valid {logical.split('-', 1)[1]}"
            )
        if not _LONG[0] <= out <= _LONG[1]:
            raise OverflowError(f"{out} does not fit an Avro long (64 bits)")
        return out

    convert.__name__ = logical.split("-", 1)[1].replace("-", "_")
    return convert


date_days = _convert("int-date")
time_millis = _convert("int-time-millis")
time_micros = _convert("long-time-micros")
timestamp_millis = _convert("long-timestamp-millis")
timestamp_micros = _convert("long-timestamp-micros")
local_timestamp_millis = _convert("long-local-timestamp-millis")
local_timestamp_micros = _convert("long-local-timestamp-micros")
