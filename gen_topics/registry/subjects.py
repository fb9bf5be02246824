"""Subject name strategies: which registry subject a topic's key or value schema lives under."""

from __future__ import annotations

import json

from gen_topics.errors import GenTopicsError
from gen_topics.registry.avro_names import root_full_name

__all__ = ["STRATEGIES", "SubjectNameError", "record_name", "subject_name"]

STRATEGIES = ("topic", "record", "topic_record")


class SubjectNameError(GenTopicsError, ValueError):
    """The strategy is unknown, or the schema has no record name the strategy needs."""


def record_name(schema_type: str, schema_text: str) -> str:
    """The record name strategies use: Avro full name of the root type; JSON Schema ``title``."""
    try:
        data = json.loads(schema_text)
    except ValueError as exc:
        raise SubjectNameError(f"schema is not JSON: {exc}") from exc
    if schema_type.upper() == "AVRO":
        named = root_full_name(data)
        if named is not None:
            return named
        # Unnamed types are named by their type, as Avro's Schema.getFullName() does
        # (so a "string" key under the record strategy is subject "string").
        if isinstance(data, str):
            return data
        if isinstance(data, list):
            return "union"
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            return str(data["type"])
        raise SubjectNameError(
            "the record/topic_record strategies need a named Avro type (record, enum or fixed) "
            f"at the root; got {schema_text[:60]!r}"
        )
    if isinstance(data, dict) and isinstance(data.get("title"), str):
        return str(data["title"])
    raise SubjectNameError(
        "the record/topic_record strategies need a 'title' in the JSON Schema "
        f"(Confluent uses it as the record name); got {schema_text[:60]!r}"
    )


def subject_name(
    strategy: str, *, topic: str, is_key: bool, schema_type: str = "AVRO", schema_text: str = ""
) -> str:
    """The subject for ``topic``'s key or value under ``strategy``.

    ``topic`` -> ``<topic>-key`` / ``<topic>-value``; ``record`` -> the record's full
    name; ``topic_record`` -> ``<topic>-<record full name>``.
    """
    if strategy == "topic":
        return f"{topic}-{'key' if is_key else 'value'}"
    if strategy == "record":
        return record_name(schema_type, schema_text)
    if strategy == "topic_record":
        return f"{topic}-{record_name(schema_type, schema_text)}"
    raise SubjectNameError(
        f"unknown subject name strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}"
    )
