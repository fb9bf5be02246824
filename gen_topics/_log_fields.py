"""Structured fields on log records: what a JSON log formatter indexes (``extra=``)."""

from __future__ import annotations

from typing import Any

__all__ = ["record_fields"]


def record_fields(
    topic: str | None, partition: int | None = None, offset: int | None = None, **more: Any
) -> dict[str, Any]:
    """``extra=`` for a log line about a record: ``topic``, ``partition``, ``offset`` (those
    known) and ``more``; the same facts are in the message text too."""
    fields: dict[str, Any] = {"topic": topic}
    if partition is not None:
        fields["partition"] = partition
    if offset is not None:
        fields["offset"] = offset
    fields.update({k: v for k, v in more.items() if v is not None})
    return fields
