"""Declaring topics: create with partitions/replicas/config, or compare an existing topic."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gen_topics._log_fields import record_fields
from gen_topics._transport.base import AdminTransport, TopicDescription
from gen_topics.errors import TopicConfigMismatch

if TYPE_CHECKING:
    from gen_topics._app import App

__all__ = [
    "TopicConfigMismatchWarning",
    "compare_topic",
    "declare_names",
    "parse_retention",
    "topic_config",
]

log = logging.getLogger(__name__)

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_RETENTION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


class TopicConfigMismatchWarning(UserWarning):
    """Warning category used when the app's mismatch policy is ``"warn"``."""


def parse_retention(value: timedelta | float | str | None) -> float | None:
    """Retention in seconds from seconds, a timedelta, or text like ``"30m"``/``"7d"``.

    Raises ``ValueError`` naming the text and the accepted units.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise ValueError(f"retention must be seconds, a timedelta or text, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    match = _RETENTION_RE.match(value)
    if match is None:
        raise ValueError(
            f"retention {value!r} is not understood: use seconds or a number with one of "
            f"{', '.join(_UNITS)} (e.g. '7d')"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def topic_config(
    *,
    retention: float | None,
    compacting: bool | None,
    deleting: bool | None,
    config: Mapping[str, Any],
) -> dict[str, str]:
    """The broker config of a declaration: ``cleanup.policy``, ``retention.ms``, then ``config``
    on top (user keys win), all as strings."""
    out: dict[str, str] = {}
    policy = sorted(p for p, on in (("compact", compacting), ("delete", deleting)) if on)
    if policy:
        out["cleanup.policy"] = ",".join(policy)
    if retention:
        out["retention.ms"] = str(int(retention * 1000))
    for key, value in config.items():
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def compare_topic(
    actual: TopicDescription,
    *,
    partitions: int | None,
    replicas: int | None,
    config: Mapping[str, str],
) -> dict[str, tuple[object, object]]:
    """Differences between a declaration and the broker; ``None`` means "not declared"."""
    diff: dict[str, tuple[object, object]] = {}
    if partitions is not None and partitions != actual.partitions:
        diff["partitions"] = (partitions, actual.partitions)
    if replicas is not None and replicas != actual.replicas:
        diff["replicas"] = (replicas, actual.replicas)
    for key, value in config.items():
        have = actual.config.get(key)
        if key == "cleanup.policy" and have is not None:
            same = sorted(value.split(",")) == sorted(have.replace(" ", "").split(","))
        else:
            same = have == value
        if not same:
            diff[key] = (value, have)
    return diff


def report_mismatch(app: App, mismatch: TopicConfigMismatch) -> None:
    """Apply the app's policy: ``warn`` (default), ``raise`` or ``ignore``."""
    if app.sensors.active:
        app.sensors.declare_mismatch(mismatch)
    policy = app.conf.topic_config_mismatch
    if policy == "raise":
        raise mismatch
    if policy == "warn":
        log.warning("%s", mismatch, extra=record_fields(mismatch.topic))
        warnings.warn(str(mismatch), TopicConfigMismatchWarning, stacklevel=4)


async def declare_names(
    app: App,
    admin: AdminTransport,
    names: tuple[str, ...],
    *,
    partitions: int | None,
    replicas: int | None,
    config: dict[str, str],
) -> list[TopicConfigMismatch]:
    """Create each missing name; compare each existing one. Returns the mismatches found
    (after reporting them by the app's policy)."""
    effective_partitions = partitions or app.conf.topic_partitions
    effective_replicas = replicas or app.conf.topic_replication_factor or 1
    mismatches: list[TopicConfigMismatch] = []
    for name in names:
        created = await admin.create_topic(
            name, partitions=effective_partitions, replicas=effective_replicas, config=config
        )
        if created:
            log.info("created topic %r (%d partitions)", name, effective_partitions)
            continue
        actual = await admin.describe_topic(name)
        if actual is None:
            continue
        # Partitions/replicas are compared only when the topic declares them: the app
        # default (8) must not flag every topic someone else created.
        diff = compare_topic(actual, partitions=partitions, replicas=replicas, config=config)
        if diff:
            mismatch = TopicConfigMismatch(name, diff)
            mismatches.append(mismatch)
            report_mismatch(app, mismatch)
    return mismatches
