"""Catching what asyncio reports at garbage collection: "exception was never retrieved"."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "never retrieved" in message:
            self.messages.append(message)


@contextmanager
def no_unretrieved_errors() -> Iterator[list[str]]:
    """Fail if a future or task whose exception nobody retrieved is collected inside the block
    (a garbage collection runs at its end, so the leftovers of the block are counted too)."""
    gc.collect()  # what earlier code left is not this block's
    handler = _Collect()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield handler.messages
        gc.collect()
    finally:
        logger.removeHandler(handler)
    assert handler.messages == [], handler.messages[:3]
