"""hypothesis-jsonschema 0.23 on current hypothesis: a shim for one removed internal API.

hypothesis-jsonschema draws object properties with ``cu.many(...).more()``; hypothesis
6.150+ replaced that loop API with ``with many(...) as elements: for _ in elements``. The
shim gives the new object the old ``more()``/``reject()`` interface, so the library's
schema-driven strategies (patterns, formats, bounds) work unchanged.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import hypothesis_jsonschema._from_schema as _from_schema
from hypothesis.internal.conjecture import utils as _cu


class _LegacyMany:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._many = _cu.many(*args, **kwargs)
        self._elements: Iterator[None] | None = None
        self._open = False

    def more(self) -> bool:
        if self._elements is None:
            self._many.__enter__()
            self._open = True
            self._elements = iter(self._many)
        if next(self._elements, StopIteration) is StopIteration:
            self._close()
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)

    def _close(self) -> None:
        if self._open:
            self._open = False
            self._many.__exit__(None, None, None)


def install() -> None:
    """Make ``hypothesis_jsonschema.from_schema`` work with the installed hypothesis."""
    if hasattr(_cu.many, "more") or isinstance(_from_schema.cu, types.SimpleNamespace):
        return
    shim = types.SimpleNamespace(**{k: getattr(_cu, k) for k in dir(_cu) if not k.startswith("__")})
    shim.many = _LegacyMany
    _from_schema.cu = shim  # type: ignore[assignment]
