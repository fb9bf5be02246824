"""'Did you mean ...?' hints for unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        # Long dotted names: compare the last part too, since namespaces dominate the ratio.
        short = {c.rsplit(".", 1)[-1]: c for c in pool}
        close = [
            short[m] for m in difflib.get_close_matches(name.rsplit(".", 1)[-1], list(short), n=1)
        ]
    return f"; did you mean {close[0]!r}?" if close else ""
