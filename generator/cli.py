"""The gen-topics command (placeholder until the compiler lands)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of the gen-topics console script."""
    raise SystemExit(2)
