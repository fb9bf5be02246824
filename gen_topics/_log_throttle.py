"""Throttling of repeated log lines: an outage must not flood the log.

While a broker is down, aiokafka logs the same connection errors many times a second (from
the producer's sender, the metadata refresh, the consumer's fetcher and coordinator). The
:class:`LogThrottle` filter lets the first few lines of each kind through per interval, counts
the rest, and says how many it held back on the next line of that kind it lets through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["THROTTLE", "LogThrottle", "install"]

DEFAULT_INTERVAL_S = 10.0
DEFAULT_BURST = 3


@dataclass(slots=True)
class _Window:
    start: float
    passed: int
    held_back: int = 0


class LogThrottle(logging.Filter):
    """Per logger, level and message template (the format string, not the formatted text:
    the node id or error detail in the arguments may differ), let ``burst`` records through
    every ``interval`` seconds and drop the rest. The first record let through after a window
    in which records were dropped carries ``[N more like this in the last S s were not logged]``.

    Records below WARNING pass untouched: debug logging is asked for, not a flood.
    """

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL_S,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True to emit ``record`` (annotated with the count held back), False to drop it."""
        if record.levelno < logging.WARNING:
            return True
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        key = (record.name, record.levelno, template)
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.start >= self.interval:
                self._windows[key] = _Window(now, 1)
                if window is not None and window.held_back:
                    _annotate(record, window.held_back, now - window.start)
                return True
            if window.passed < self.burst:
                window.passed += 1
                return True
            window.held_back += 1
            return False

    def reset(self) -> None:
        """Forget every window (between tests)."""
        with self._lock:
            self._windows.clear()


def _annotate(record: logging.LogRecord, held_back: int, seconds: float) -> None:
    try:
        text = record.getMessage()
    except Exception:  # a broken format string is the logger's problem; keep the template
        text = str(record.msg)
    record.msg = f"{text} [{held_back} more like this in the last {seconds:.0f} s were not logged]"
    record.args = None


THROTTLE = LogThrottle()
"""The filter the Kafka transport installs on aiokafka's loggers (and gen-topics' producer
logger); adjust ``THROTTLE.interval`` / ``THROTTLE.burst`` to taste."""


def install(prefixes: Iterable[str], names: Iterable[str] = ()) -> None:
    """Add :data:`THROTTLE` (once) to every logger named ``names``, and to every existing
    logger whose name is one of ``prefixes`` or below one (``aiokafka``, ``aiokafka.conn``).

    Filters on a logger see only that logger's own records, not its children's, hence one
    filter per logger.
    """
    prefixes = tuple(prefixes)
    wanted = set(names)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and any(
            name == p or name.startswith(p + ".") for p in prefixes
        ):
            wanted.add(name)
    for name in sorted(wanted):
        logger = logging.getLogger(name)
        if THROTTLE not in logger.filters:
            logger.addFilter(THROTTLE)
