"""Topic[K, V]: a typed Kafka topic description with Faust's ``Topic`` API.

Faust behaviour is followed except where DESIGN.md ("The runtime Topic") fixes it:
``topics="orders"`` is one topic; a passed Schema is never mutated and ``derive``
copies; ``send(value=None)`` is a tombstone for every codec; a key/value that does not
encode fails before anything is sent; async callbacks are always awaited;
``maybe_declare`` shares one call, delivers failures to every waiter and retries later.

The class is assembled from :mod:`gen_topics._topic_core` (description, clones, codecs),
:mod:`gen_topics._topic_sending` and :mod:`gen_topics._topic_reading`; this module adds
``derive`` and declaring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Self, TypeVar

from gen_topics._declare import declare_names, topic_config
from gen_topics._decode_policy import DecodePolicy
from gen_topics._schema import Schema, Serializer
from gen_topics._topic_core import _SharedDeclare
from gen_topics._topic_reading import TopicReading
from gen_topics._topic_sending import TopicSending
from gen_topics.errors import TopicConfigMismatch

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["Topic"]


class Topic(TopicSending[K, V], TopicReading[K, V]):
    """A named Kafka channel whose keys are ``K`` and values ``V``.

    Generated subclasses set the ``default_*`` class attributes; each constructor
    argument left as ``None`` takes the matching default.
    """

    # -- derive / clone -----------------------------------------------------------

    def derive(self, **kwargs: Any) -> Self:
        """A new topic of the same class with this one's configuration and ``kwargs`` applied."""
        return self.derive_topic(**kwargs)

    def derive_topic(
        self,
        *,
        topics: Sequence[str] | str | None = None,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        partitions: int | None = None,
        retention: timedelta | float | str | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        internal: bool | None = None,
        config: Mapping[str, Any] | None = None,
        replicas: int | None = None,
        acks: bool | None = None,
        maxsize: int | None = None,
        allow_empty: bool | None = None,
        prefix: str = "",
        suffix: str = "",
        on_decode_error: DecodePolicy | None = None,
        dead_letter_topic: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """Derive a topic: copies (never shares) this topic's schema and config.

        Unlike Faust, ``replicas``, ``acks`` and ``maxsize`` carry over, and unknown
        keyword arguments raise ``TypeError`` instead of being dropped silently.
        """
        if kwargs:
            raise TypeError(
                f"derive_topic() got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
            )
        names: Sequence[str] = (
            (topics,)
            if isinstance(topics, str)
            else (topics if topics is not None else self.topics)
        )
        if prefix or suffix:
            if self._pattern is not None:
                raise ValueError("Cannot add prefix/suffix to Topic with pattern")
            names = [f"{prefix}{name}{suffix}" for name in names]
        base = schema if schema is not None else self.schema
        return type(self)(
            self.app,
            topics=tuple(names),
            pattern=self._pattern,
            schema=base.replace(
                key_type=key_type,
                value_type=value_type,
                key_serializer=key_serializer,
                value_serializer=value_serializer,
                allow_empty=allow_empty,
            ),
            partitions=self.partitions if partitions is None else partitions,
            retention=self.retention if retention is None else retention,
            compacting=self.compacting if compacting is None else compacting,
            deleting=self.deleting if deleting is None else deleting,
            internal=self.internal if internal is None else internal,
            config=dict(self.config if config is None else config),
            replicas=self.replicas if replicas is None else replicas,
            acks=self.acks if acks is None else acks,
            maxsize=self.maxsize if maxsize is None else maxsize,
            has_prefix=bool(self.has_prefix or prefix),
            on_decode_error=self.on_decode_error if on_decode_error is None else on_decode_error,
            dead_letter_topic=(
                self.dead_letter_topic if dead_letter_topic is None else dead_letter_topic
            ),
        )

    # -- declaring ----------------------------------------------------------------

    async def declare(self) -> list[TopicConfigMismatch]:
        """Create each name with partitions, replicas, retention, cleanup policy and config;
        compare existing topics and report differences by the app's policy.

        Returns the mismatches found (the seed's ``None`` is an empty list here).
        """
        if not self.app.conf.topic_allow_declare or not self.topics:
            return []
        admin = await self.app.admin()
        config = topic_config(
            retention=self.retention_seconds,
            compacting=self.compacting,
            deleting=self.deleting,
            config=self.config,
        )
        return await declare_names(
            self.app,
            admin,
            self.topics,
            partitions=self.partitions,
            replicas=self.replicas,
            config=config,
        )

    async def maybe_declare(self) -> None:
        """Declare once: concurrent callers share one call; a failure reaches all of them and
        a later call tries again."""
        state = self._declare
        if state.done:
            return
        if state.task is None:
            state.task = asyncio.ensure_future(self._declare_once(state))
        await asyncio.shield(state.task)

    async def _declare_once(self, state: _SharedDeclare) -> None:
        try:
            await self.declare()
        except BaseException:
            state.task = None
            raise
        state.done = True
